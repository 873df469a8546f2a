/**
 * The localhost safety rules as pure functions. Any web page the user visits can send requests to
 * localhost, so the server answers only when:
 * - the `Host` header names localhost or a loopback address (or, with --http-allow-remote, any IP
 *   address): a DNS-rebinding page arrives with its own host name;
 * - the `Origin`, if any, is the page's own origin or a loopback origin; CORS is granted to exactly
 *   that origin, never `*`.
 */

/** `localhost`, 127.0.0.0/8 and ::1 (with or without brackets). */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** Splits a Host header into name and port; undefined if it is not a plain host[:port]. */
export function parseHostHeader(value: string | undefined): { hostname: string; port?: number } | undefined {
  if (value == null) return undefined
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value.trim())
  if (m == null) return undefined
  return { hostname: m[1].toLowerCase(), port: m[2] != null ? Number(m[2]) : undefined }
}

/**
 * True if a request with this Host header may be served (DNS-rebinding protection). With
 * `allowIpLiterals` (--http-allow-remote) any IP address is accepted too: a rebinding attack needs
 * a host name, and remote users reach the node by its address.
 */
export function isAllowedHost(value: string | undefined, allowIpLiterals = false): boolean {
  const parsed = parseHostHeader(value)
  if (parsed == null) return false
  if (isLoopbackHostname(parsed.hostname)) return true
  return allowIpLiterals && (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(parsed.hostname) || parsed.hostname.startsWith('['))
}

export type OriginVerdict = 'none' | 'same' | 'loopback' | 'forbidden'

/**
 * Judges a request's Origin against the Host it was sent to. `none`: no Origin header (curl, a
 * same-origin GET); `same`: the page the node served itself; `loopback`: a page from another
 * localhost port (a static server in front of frontend/); anything else, `null` included, is forbidden.
 */
export function judgeOrigin(origin: string | undefined, host: string | undefined): OriginVerdict {
  if (origin == null) return 'none'
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return 'forbidden'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'forbidden'
  if (url.origin !== origin.replace(/\/$/, '')) return 'forbidden'
  if (host != null && url.host === host.toLowerCase()) return 'same'
  return isLoopbackHostname(url.hostname) ? 'loopback' : 'forbidden'
}

export const CORS_METHODS = 'GET, POST, PUT, DELETE, OPTIONS'
export const CORS_HEADERS = 'Content-Type, Last-Event-ID'
export const CORS_MAX_AGE = 600

/** Headers granting CORS to one loopback origin (never `*`). */
export function corsHeaders(origin: string, preflight: boolean): Record<string, string> {
  const h: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' }
  if (preflight) {
    h['Access-Control-Allow-Methods'] = CORS_METHODS
    h['Access-Control-Allow-Headers'] = CORS_HEADERS
    h['Access-Control-Max-Age'] = String(CORS_MAX_AGE)
  }
  return h
}

/**
 * The page's Content-Security-Policy: scripts and styles only from the node's own files (no
 * inline script, no eval), connections only to itself or a loopback API, nothing may frame it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' http://localhost:* http://127.0.0.1:*",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** Sent with every answer, API and static alike. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin'
  }
}
