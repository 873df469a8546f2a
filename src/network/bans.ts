/**
 * Penalties for peers that forward invalid messages: each rejection is counted in a sliding
 * window; past the limit the peer is banned for a while (the connection gater refuses it both
 * ways, and the caller hangs up). Time is injected, so tests need no waiting.
 */
import { InvalidOptionError } from '../errors.js'

export const DEFAULT_MAX_INVALID = 10
export const DEFAULT_INVALID_WINDOW = 60_000
export const DEFAULT_BAN_DURATION = 5 * 60_000

export interface BanListInit {
  /** Invalid messages from one peer within `invalidWindow` before it is banned. */
  maxInvalid?: number
  invalidWindow?: number
  banDuration?: number
  now?: () => number
}

export class BanList {
  private readonly maxInvalid: number
  private readonly window: number
  private readonly duration: number
  private readonly now: () => number
  private readonly hits = new Map<string, number[]>()
  private readonly until = new Map<string, number>()

  constructor(init: BanListInit = {}) {
    this.maxInvalid = init.maxInvalid ?? DEFAULT_MAX_INVALID
    this.window = init.invalidWindow ?? DEFAULT_INVALID_WINDOW
    this.duration = init.banDuration ?? DEFAULT_BAN_DURATION
    this.now = init.now ?? Date.now
    if (!Number.isInteger(this.maxInvalid) || this.maxInvalid < 1) throw new InvalidOptionError('maxInvalid must be a positive integer')
    if (this.window <= 0 || this.duration <= 0) throw new InvalidOptionError('invalidWindow and banDuration must be positive')
  }

  isBanned(peerId: string): boolean {
    const until = this.until.get(peerId)
    if (until == null) return false
    if (until > this.now()) return true
    this.until.delete(peerId)
    return false
  }

  /** Counts one invalid message; returns the end of the ban if this one crossed the limit. */
  penalise(peerId: string): number | undefined {
    const now = this.now()
    const hits = (this.hits.get(peerId) ?? []).filter(t => now - t < this.window)
    hits.push(now)
    if (hits.length < this.maxInvalid) {
      this.hits.set(peerId, hits)
      return undefined
    }
    this.hits.delete(peerId)
    const untilMs = now + this.duration
    this.until.set(peerId, untilMs)
    return untilMs
  }
}
