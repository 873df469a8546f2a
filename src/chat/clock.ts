/**
 * A hybrid logical clock. Every message carries (ts, lc): wall-clock milliseconds and a logical
 * counter. A node never stamps a message earlier than anything it has seen, so replies sort after
 * what they answer even when clocks disagree, and every node orders a room the same way.
 *
 * A remote timestamp moves this clock forward by at most `maxAhead` past the local wall clock, so
 * one peer with a clock set to next year cannot drag every later message there (its messages are
 * still stored and shown, at the end of the room). See "Order and clocks" in the README.
 */

/** How far ahead of the local wall clock a remote timestamp may be and still be followed. */
export const DEFAULT_MAX_CLOCK_AHEAD = 60 * 60_000

export interface HlcTimestamp {
  ts: number
  lc: number
}

export interface HybridClockInit {
  /** Source of wall-clock time; injectable for tests. */
  now?: () => number
  /** See DEFAULT_MAX_CLOCK_AHEAD. */
  maxAhead?: number
}

export interface HybridClock {
  /** A timestamp for a new local event, later than every one issued or observed before. */
  tick: () => HlcTimestamp
  /** Takes a remote timestamp into account (moving at most `maxAhead` past the wall clock). */
  observe: (remote: HlcTimestamp) => void
  /** The latest timestamp issued or observed. */
  peek: () => HlcTimestamp
  /** The local wall clock. */
  wall: () => number
}

export function createHybridClock(init: HybridClockInit = {}): HybridClock {
  const now = init.now ?? Date.now
  const maxAhead = init.maxAhead ?? DEFAULT_MAX_CLOCK_AHEAD
  let last: HlcTimestamp = { ts: 0, lc: 0 }
  return {
    tick() {
      const wall = now()
      last = wall > last.ts ? { ts: wall, lc: 0 } : { ts: last.ts, lc: last.lc + 1 }
      return last
    },
    observe(remote) {
      const limit = now() + maxAhead
      const r = remote.ts > limit ? { ts: limit, lc: 0 } : remote
      if (r.ts > last.ts || (r.ts === last.ts && r.lc > last.lc)) last = { ts: r.ts, lc: r.lc }
    },
    peek() {
      return last
    },
    wall: () => now()
  }
}
