/**
 * A small Server-Sent Events reader over real `fetch`, for tests: collects frames (id, event,
 * parsed JSON data) and waits for the ones a test expects. Every data line must be JSON.
 */

export interface SseEvent {
  id?: string
  event: string
  data: any
}

export interface SseStream {
  status: number
  headers: Headers
  events: SseEvent[]
  /** Resolves with the first event (from the start of the stream) matching, waiting up to timeoutMs. */
  waitFor: (match: (e: SseEvent) => boolean, what: string, timeoutMs?: number) => Promise<SseEvent>
  /** Resolves once `n` events matching have arrived. */
  waitForCount: (match: (e: SseEvent) => boolean, n: number, what: string, timeoutMs?: number) => Promise<SseEvent[]>
  close: () => void
  closed: Promise<void>
}

/** Parses complete frames out of `buffer`; returns them and the unparsed rest. Pure. */
export function parseFrames(buffer: string): { frames: SseEvent[]; rest: string } {
  const frames: SseEvent[] = []
  let rest = buffer
  let end: number
  while ((end = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, end)
    rest = rest.slice(end + 2)
    let id: string | undefined
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue
      const i = line.indexOf(':')
      const field = i < 0 ? line : line.slice(0, i)
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '')
      if (field === 'id') id = value
      else if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    if (data.length === 0) continue
    frames.push({ id, event, data: JSON.parse(data.join('\n')) })
  }
  return { frames, rest }
}

export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController()
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal })
  const events: SseEvent[] = []
  const waiters = new Set<() => void>()
  const body = res.body
  if (body == null) throw new Error('no body')
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  const closed = (async () => {
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        const parsed = parseFrames(buffer + value)
        buffer = parsed.rest
        events.push(...parsed.frames)
        for (const w of [...waiters]) w()
      }
    } catch {
      // aborted by close()
    }
  })()
  const waitForCount = async (match: (e: SseEvent) => boolean, n: number, what: string, timeoutMs = 20_000): Promise<SseEvent[]> =>
    await new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.filter(match)
        if (found.length >= n) {
          clearTimeout(timer)
          waiters.delete(check)
          resolve(found)
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.map(e => [e.id, e.event]))}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  return {
    status: res.status,
    headers: res.headers,
    events,
    waitForCount,
    waitFor: async (match, what, timeoutMs) => (await waitForCount(match, 1, what, timeoutMs))[0],
    close: () => {
      controller.abort()
    },
    closed
  }
}
