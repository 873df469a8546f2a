/**
 * A hybrid logical clock. Every message carries (ts, lc): wall-clock milliseconds and a logical
 * counter. A node never stamps a message earlier than anything it has seen, so replies sort after
 * what they answer even when clocks disagree, and every node orders a room the same way.
 */

export interface HlcTimestamp {
  ts: number
  lc: number
}

export interface HybridClockInit {
  /** Source of wall-clock time; injectable for tests. */
  now?: () => number
}

export interface HybridClock {
  /** A timestamp for a new local event, later than every one issued or observed before. */
  tick: () => HlcTimestamp
  /** Takes a remote timestamp into account. */
  observe: (remote: HlcTimestamp) => void
  /** The latest timestamp issued or observed. */
  peek: () => HlcTimestamp
}

export function createHybridClock(init: HybridClockInit = {}): HybridClock {
  const now = init.now ?? Date.now
  let last: HlcTimestamp = { ts: 0, lc: 0 }
  return {
    tick() {
      const wall = now()
      last = wall > last.ts ? { ts: wall, lc: 0 } : { ts: last.ts, lc: last.lc + 1 }
      return last
    },
    observe(remote) {
      if (remote.ts > last.ts || (remote.ts === last.ts && remote.lc > last.lc)) last = { ts: remote.ts, lc: remote.lc }
    },
    peek() {
      return last
    }
  }
}
