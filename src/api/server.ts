/**
 * The HTTP server: plain node:http, one request path through the safety checks (Host, Origin,
 * rate limit), then the route table or the static files, and the live stream over SSE. Errors
 * become JSON through the one error table. Timeouts for slow or stalled clients are injectable.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { InvalidOptionError, ListenError } from '../errors.js'
import { readJsonBody, DEFAULT_BODY_LIMIT } from './body.js'
import { errorAnswer, errorBody, httpErrors } from './error-table.js'
import { corsHeaders, isAllowedHost, isLoopbackHostname, judgeOrigin, securityHeaders } from './guard.js'
import { LiveStream, type LiveEvent, type LiveStreamInit } from './live.js'
import { createRateLimiter, type RateLimiter, type RateLimiterInit } from './rate-limit.js'
import { ROUTES, isApiPath, matchRoute, type ApiChat } from './routes.js'
import { formatSseFrame } from './sse.js'
import { defaultFrontendDir, loadStatic } from './static.js'

export const DEFAULT_REQUEST_TIMEOUT = 30_000
export const DEFAULT_HEADERS_TIMEOUT = 10_000
export const DEFAULT_KEEP_ALIVE_TIMEOUT = 5_000
/** How often node:http looks for requests past their timeout. */
export const DEFAULT_CONNECTIONS_CHECK_INTERVAL = 1_000
export const DEFAULT_HEARTBEAT_INTERVAL = 15_000
/** The reconnection delay suggested to EventSource clients. */
export const DEFAULT_SSE_RETRY = 1_000
/** An SSE client that has this much unsent data is too slow and is cut off (it can resume). */
export const DEFAULT_SSE_MAX_BUFFER = 1024 * 1024
/** How long a connection refused mid-body (413) may linger to receive the answer. */
export const DEFAULT_REFUSED_LINGER = 1_000

export interface HttpApiInit {
  host?: string
  /** 0 picks a free port; the real one is `port` after start. */
  port?: number
  /** Accept the `Host` of a non-loopback bind address (--http-allow-remote). */
  allowRemote?: boolean
  /** The web UI folder, or false to serve only the API. */
  staticDir?: string | false
  bodyLimit?: number
  requestTimeout?: number
  headersTimeout?: number
  keepAliveTimeout?: number
  connectionsCheckingInterval?: number
  heartbeatInterval?: number
  sseRetry?: number
  sseMaxBuffer?: number
  refusedLinger?: number
  live?: LiveStreamInit
  rateLimit?: RateLimiterInit
  /** Unexpected errors (answered with a 500) are reported here. */
  onError?: (err: unknown) => void
}

export interface HttpApiComponents {
  chat: ApiChat
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'
const CHANGING = new Set(['POST', 'PUT', 'DELETE'])

export function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`
}

export class HttpApi {
  readonly live: LiveStream
  private readonly chat: ApiChat
  private readonly init: Required<Omit<HttpApiInit, 'live' | 'rateLimit' | 'onError' | 'staticDir'>> & {
    staticDir: string | false
    onError: (err: unknown) => void
  }

  private readonly limiter: RateLimiter
  private readonly streams = new Set<ServerResponse>()
  private server?: Server
  private boundPort = 0

  constructor(components: HttpApiComponents, init: HttpApiInit = {}) {
    this.chat = components.chat
    const host = init.host ?? '127.0.0.1'
    this.init = {
      host,
      port: init.port ?? 3001,
      allowRemote: init.allowRemote ?? false,
      staticDir: init.staticDir ?? defaultFrontendDir(),
      bodyLimit: init.bodyLimit ?? DEFAULT_BODY_LIMIT,
      requestTimeout: init.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT,
      headersTimeout: init.headersTimeout ?? Math.min(DEFAULT_HEADERS_TIMEOUT, init.requestTimeout ?? DEFAULT_HEADERS_TIMEOUT),
      keepAliveTimeout: init.keepAliveTimeout ?? DEFAULT_KEEP_ALIVE_TIMEOUT,
      connectionsCheckingInterval: init.connectionsCheckingInterval ?? DEFAULT_CONNECTIONS_CHECK_INTERVAL,
      heartbeatInterval: init.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
      sseRetry: init.sseRetry ?? DEFAULT_SSE_RETRY,
      sseMaxBuffer: init.sseMaxBuffer ?? DEFAULT_SSE_MAX_BUFFER,
      refusedLinger: init.refusedLinger ?? DEFAULT_REFUSED_LINGER,
      onError: init.onError ?? (() => {})
    }
    if (!isLoopbackHostname(host) && !this.init.allowRemote)
      throw new InvalidOptionError(`HTTP host ${host} is not a loopback address; it needs allowRemote`)
    for (const k of ['bodyLimit', 'requestTimeout', 'headersTimeout', 'connectionsCheckingInterval', 'heartbeatInterval'] as const) {
      if (!(this.init[k] > 0)) throw new InvalidOptionError(`HTTP ${k} must be above 0`)
    }
    if (this.init.headersTimeout > this.init.requestTimeout)
      throw new InvalidOptionError('HTTP headersTimeout must not exceed requestTimeout')
    this.live = new LiveStream({ chat: components.chat }, init.live)
    this.limiter = createRateLimiter(init.rateLimit)
  }

  /** The port actually bound (after start). */
  get port(): number {
    return this.boundPort
  }

  /** The web UI's address (after start). */
  get url(): string {
    return formatUrl(this.init.host, this.boundPort)
  }

  /** True when the server is reachable from other machines. */
  get remote(): boolean {
    return !isLoopbackHostname(this.init.host)
  }

  async start(): Promise<string> {
    if (this.server != null) return this.url
    // Loaded here, not at the top: a node without --enable-http never loads node:http (six modules
    // and the HTTP parser; with scripts/mortice-one-process.mjs, 0.4–0.6 MB per idle node).
    const { createServer } = await import('node:http')
    const server = createServer({
      requestTimeout: this.init.requestTimeout,
      headersTimeout: this.init.headersTimeout,
      keepAliveTimeout: this.init.keepAliveTimeout,
      connectionsCheckingInterval: this.init.connectionsCheckingInterval
    })
    server.on('request', (req, res) => {
      this.handle(req, res).catch(err => {
        this.init.onError(err)
        res.destroy()
      })
    })
    server.on('clientError', (err: { code?: string }, socket: Socket) => {
      // Slow or stalled requests (408) and malformed ones: answer if the socket can still take it, then close.
      const status =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : '400 Bad Request'
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      else socket.destroy()
    })
    this.live.start()
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.init.port, this.init.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      this.live.stop()
      const code = (err as { code?: string }).code
      throw new ListenError(
        code === 'EADDRINUSE'
          ? `HTTP port ${this.init.port} on ${this.init.host} is in use (choose another with --http-port)`
          : `cannot serve HTTP on ${this.init.host}:${this.init.port}: ${(err as Error).message}`,
        { cause: err }
      )
    }
    this.server = server
    this.boundPort = (server.address() as AddressInfo).port
    return this.url
  }

  /** Ends live streams, closes the listener and every connection. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server
    if (server == null) return
    this.server = undefined
    this.live.stop()
    for (const res of [...this.streams]) res.end()
    this.streams.clear()
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(securityHeaders())) res.setHeader(k, v)
    try {
      await this.route(req, res)
    } catch (err) {
      const answer = errorAnswer(err)
      if (answer.status >= 500) this.init.onError(err)
      if (res.headersSent) {
        res.destroy()
        return
      }
      if (answer.headers.Connection === 'close') this.lingerThenClose(req, res)
      this.json(res, answer.status, errorBody(answer), answer.headers)
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host
    if (!isAllowedHost(host, this.init.allowRemote)) throw httpErrors.forbiddenHost()
    const origin = req.headers.origin
    const verdict = judgeOrigin(origin, host)
    if (verdict === 'forbidden') throw httpErrors.forbiddenOrigin()
    const method = req.method ?? 'GET'
    if (verdict === 'loopback' && origin != null) {
      for (const [k, v] of Object.entries(corsHeaders(origin, method === 'OPTIONS'))) res.setHeader(k, v)
    }
    const url = new URL(req.url ?? '/', 'http://localhost')
    const path = url.pathname

    if (!isApiPath(path)) {
      await this.serveStatic(req, res, method)
      return
    }
    const match = matchRoute(ROUTES, path)
    if (match == null) throw httpErrors.notFound()
    const allowed = Object.keys(match.route.methods)
    if (method === 'OPTIONS') {
      res.writeHead(204, { Allow: [...allowed, 'OPTIONS'].join(', ') }).end()
      return
    }
    const handler = match.route.methods[method as Method]
    if (handler == null) throw httpErrors.methodNotAllowed([...allowed, 'OPTIONS'])
    if (CHANGING.has(method)) {
      const wait = this.limiter.take(req.socket.remoteAddress ?? 'unknown')
      if (wait > 0) throw httpErrors.rateLimited(wait)
    }
    const result = await handler({
      chat: this.chat,
      params: match.params,
      query: url.searchParams,
      body: async () => await readJsonBody(req, this.init.bodyLimit)
    })
    if ('stream' in result) this.openStream(req, res, url.searchParams)
    else this.json(res, result.status, result.body)
  }

  private async serveStatic(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (method === 'OPTIONS') {
      res.writeHead(204, { Allow: 'GET, HEAD, OPTIONS' }).end()
      return
    }
    if (method !== 'GET' && method !== 'HEAD') throw httpErrors.methodNotAllowed(['GET', 'HEAD', 'OPTIONS'])
    if (this.init.staticDir === false) throw httpErrors.notFound()
    const rawPath = (req.url ?? '/').split('?')[0]
    const file = await loadStatic(this.init.staticDir, rawPath)
    res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' })
    res.end(method === 'HEAD' ? undefined : file.body)
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store'
    })
    res.end(text)
  }

  /** After a refused body: discard what still arrives for a moment so the client reads the answer, then close. */
  private lingerThenClose(req: IncomingMessage, res: ServerResponse): void {
    res.once('finish', () => {
      req.resume()
      setTimeout(() => req.socket.destroy(), this.init.refusedLinger).unref()
    })
  }

  /** The live stream: replay from Last-Event-ID (header, or `lastEventId` query), then live events. */
  private openStream(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const headerId = req.headers['last-event-id']
    const lastEventId = (Array.isArray(headerId) ? headerId[0] : headerId) ?? query.get('lastEventId') ?? undefined
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no'
    })
    const write = (text: string): void => {
      if (res.writableLength > this.init.sseMaxBuffer) {
        // Too slow to keep up: cut it off; it resumes from its last event ID when it can.
        res.destroy()
        return
      }
      res.write(text)
    }
    const send = (e: LiveEvent): void => {
      write(formatSseFrame({ id: e.id, event: e.event, data: e.data }))
    }
    const sub = this.live.subscribe(lastEventId, send)
    const r = sub.resume
    write(formatSseFrame({ retry: this.init.sseRetry }))
    if (r.resumed) {
      write(formatSseFrame({ event: 'ready', data: { resumed: true, replayed: r.events.length } }))
      for (const e of r.events) send(e)
    } else {
      // The client must refetch what it shows; from here on it can resume from `cursor`.
      write(formatSseFrame({ id: r.cursor, event: 'ready', data: { resumed: false, reason: r.reason } }))
    }
    this.streams.add(res)
    const heartbeat = setInterval(() => write(formatSseFrame({ comment: 'ping' })), this.init.heartbeatInterval)
    heartbeat.unref()
    const close = (): void => {
      clearInterval(heartbeat)
      sub.unsubscribe()
      this.streams.delete(res)
    }
    res.once('close', close)
  }
}
