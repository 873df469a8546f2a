/**
 * The HTTP API and web UI: JSON endpoints that call the chat service, a live stream (SSE) that
 * only listens to its events, the static page from `frontend/`, and the localhost safety rules
 * (Host and Origin checks, CORS for loopback origins only, body limits, timeouts, CSP).
 *
 * @example
 * ```ts
 * const api = new HttpApi({ chat }, { host: '127.0.0.1', port: 0 })
 * const url = await api.start() // http://127.0.0.1:<port>/
 * await fetch(new URL('/api/messages?room=main', url))
 * await api.stop()
 * ```
 */
export { HttpApi, formatUrl, type HttpApiInit, type HttpApiComponents } from './server.js'
export { LiveStream, LIVE_EVENTS, DEFAULT_LIVE_CAPACITY, type LiveEvent, type LiveStreamInit, type Resume } from './live.js'
export { formatSseFrame, formatCursor, parseCursor, type SseFrame, type Cursor } from './sse.js'
export { ERROR_TABLE, errorAnswer, errorBody } from './error-table.js'
export { isAllowedHost, judgeOrigin, isLoopbackHostname, CONTENT_SECURITY_POLICY } from './guard.js'
export { resolveStaticPath, defaultFrontendDir } from './static.js'
export { ROUTES, matchRoute, type ApiChat } from './routes.js'
export { createRateLimiter, type RateLimiterInit } from './rate-limit.js'
