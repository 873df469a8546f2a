/**
 * Waiting for a condition or an event in tests, with a generous deadline so a busy machine does
 * not fail a test; the deadline is a safety net, never the thing a test asserts on.
 */
import type { EventMap, TypedEvents } from '../../src/events.js'

export const DEFAULT_WAIT_MS = 20_000

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}

/** Resolves with the detail of the first event of this type that matches (give M explicitly). */
export async function nextEvent<M extends EventMap, K extends keyof M & string>(
  target: TypedEvents<M>,
  type: K,
  match: (detail: M[K]) => boolean = () => true,
  timeoutMs = DEFAULT_WAIT_MS
): Promise<M[K]> {
  return await new Promise<M[K]>((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${type}`))
    }, timeoutMs)
    const off = target.on(type, e => {
      if (!match(e.detail)) return
      clearTimeout(timer)
      off()
      resolve(e.detail)
    })
  })
}
