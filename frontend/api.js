// The web UI's client for the node's HTTP API: where the API is, JSON requests with typed errors,
// and the live stream (EventSource) that reconnects with backoff and resumes from its last event ID.

export const DEFAULT_API = 'http://127.0.0.1:3001'
export const LIVE_EVENTS = [
  'message',
  'room:join',
  'room:leave',
  'peer:connect',
  'peer:disconnect',
  'peer:nick',
  'rooms:change',
  'nick:change'
]

/** `?api=` wins; else the page's own origin if a node serves it; else the default local node. */
export async function resolveApiBase(loc = location) {
  const param = new URLSearchParams(loc.search).get('api')
  if (param) return param.replace(/\/+$/, '')
  if (loc.protocol === 'http:' || loc.protocol === 'https:') {
    try {
      const res = await fetch(`${loc.origin}/api/status`, { headers: { Accept: 'application/json' } })
      if (res.ok && (res.headers.get('content-type') || '').includes('application/json')) return loc.origin
    } catch {
      // Not a node: fall through.
    }
  }
  return DEFAULT_API
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

export function createClient(base) {
  async function call(method, path, body) {
    let res
    try {
      res = await fetch(base + path, {
        method,
        headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
      })
    } catch {
      throw new ApiError(0, 'offline', 'cannot reach your node')
    }
    const text = await res.text()
    let data
    try {
      data = text === '' ? undefined : JSON.parse(text)
    } catch {
      data = undefined
    }
    if (!res.ok) {
      const e = data && data.error
      throw new ApiError(res.status, e ? e.code : 'http', e ? e.message : `request failed (${res.status})`)
    }
    return data
  }
  const q = params => {
    const s = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v != null) s.set(k, String(v))
    return s.toString()
  }
  return {
    base,
    status: () => call('GET', '/api/status'),
    rooms: () => call('GET', '/api/rooms'),
    messages: (room, { since, limit } = {}) => call('GET', `/api/messages?${q({ room, since, limit })}`),
    send: (room, text) => call('POST', '/api/messages', { room, text }),
    join: room => call('POST', '/api/rooms', { room }),
    leave: room => call('DELETE', `/api/rooms/${encodeURIComponent(room)}`),
    roomPeers: room => call('GET', `/api/rooms/${encodeURIComponent(room)}/peers`),
    setNick: nick => call('PUT', '/api/nick', { nick })
  }
}

/**
 * Opens the live stream and keeps it open: on any error it closes the EventSource and opens a new
 * one after a growing delay (with jitter), passing the last event ID so the node replays what was
 * missed, or says `ready {resumed:false}` when the client must refetch.
 */
export function openLive(base, handlers, options = {}) {
  const minDelay = options.minDelay ?? 250
  const maxDelay = options.maxDelay ?? 8000
  let lastEventId = ''
  let delay = minDelay
  let source
  let timer
  let closed = false

  const connect = () => {
    if (closed) return
    const url = new URL(`${base}/api/events`)
    if (lastEventId) url.searchParams.set('lastEventId', lastEventId)
    const es = new EventSource(url.toString())
    source = es
    const track = e => {
      if (e.lastEventId) lastEventId = e.lastEventId
    }
    es.addEventListener('ready', e => {
      track(e)
      delay = minDelay
      handlers.onState('live')
      handlers.onReady(JSON.parse(e.data))
    })
    for (const type of LIVE_EVENTS) {
      es.addEventListener(type, e => {
        track(e)
        handlers.onEvent(type, JSON.parse(e.data))
      })
    }
    es.onerror = () => {
      es.close()
      if (closed) return
      handlers.onState('reconnecting')
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5))
      delay = Math.min(maxDelay, delay * 2)
      timer = setTimeout(connect, wait)
    }
  }
  connect()
  return {
    close() {
      closed = true
      clearTimeout(timer)
      if (source) source.close()
    }
  }
}
