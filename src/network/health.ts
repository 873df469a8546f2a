/**
 * Notices peers that vanish without saying goodbye (power cut, cable pulled): every `interval` it
 * looks at each connected peer, and pings the ones it has heard nothing from for `silence`; a
 * failed ping is retried at once, and after `maxFailures` failures in a row the connection is
 * closed, so the peer shows as gone and the connector can redial it once it is back. Also keeps
 * the latest round-trip time of each peer for `/peers`.
 *
 * Anything received from a peer proves it alive as well as a ping's answer does, so only silence
 * is pinged: under traffic nobody pings, and at idle each connection carries one ping (and its
 * answer) per `silence`, from whichever end's silence runs out first; the other end hears that
 * ping and stays quiet. (Before, each round pinged every peer not heard from since the previous
 * round, so the two ends took turns: a ping every 2.5 s per idle connection, and about 30 % of an idle
 * node's CPU at N=10 in the benchmark.) A vanished peer is still hung up on within `interval`
 * (its last bytes are noticed a round late at worst) + `silence` + `interval` (rounds are ticks)
 * + `maxFailures` × `timeout`: 10 s with the defaults, as issue 2 asks.
 *
 * A busy node must not mistake its own slowness for a dead peer. When a process gets no CPU for a
 * while (dozens of nodes starting at once on two cores), the answer to a ping can be waiting in
 * the socket when the process runs again; but Node runs due timers before it reads sockets, so a
 * plain timeout would fire first and count a failure, and two such rounds would hang up on a
 * healthy peer. So a ping's time is up only after one more turn of the event loop: whatever has
 * already arrived is read first.
 */
import { InvalidOptionError, PingTimeoutError } from '../errors.js'

/** How often peers are looked at: a cheap walk over the connected peers, no traffic. */
export const DEFAULT_HEALTH_INTERVAL = 1_000
/** A peer heard nothing from for this long is pinged. */
export const DEFAULT_HEALTH_SILENCE = 4_000
export const DEFAULT_PING_TIMEOUT = 2_000
export const DEFAULT_MAX_FAILURES = 2

export interface HealthInit {
  interval?: number
  silence?: number
  timeout?: number
  maxFailures?: number
  /** The clock, in ms (tests). */
  now?: () => number
}

export interface HealthComponents {
  ping: (peerId: string, signal: AbortSignal) => Promise<number>
  peers: () => string[]
  hangUp: (peerId: string) => Promise<void>
  /**
   * A count that grows whenever something arrives from the peer (bytes read on its connections),
   * or undefined if unknown; a change counts as hearing from the peer. Without it only the answers
   * to pings do.
   */
  received?: (peerId: string) => number | undefined
}

export class HealthMonitor {
  private readonly components: HealthComponents
  private readonly interval: number
  private readonly silence: number
  private readonly timeout: number
  private readonly maxFailures: number
  private readonly now: () => number
  /** What `received` said of each peer when last looked at, and when it was last heard from. */
  private readonly heard = new Map<string, { count: number | undefined; at: number }>()
  private readonly rtts = new Map<string, number>()
  private readonly inFlight = new Set<string>()
  private timer?: ReturnType<typeof setInterval>
  private abort?: AbortController

  constructor(components: HealthComponents, init: HealthInit = {}) {
    this.components = components
    this.interval = init.interval ?? DEFAULT_HEALTH_INTERVAL
    this.silence = init.silence ?? DEFAULT_HEALTH_SILENCE
    this.timeout = init.timeout ?? DEFAULT_PING_TIMEOUT
    this.maxFailures = init.maxFailures ?? DEFAULT_MAX_FAILURES
    this.now = init.now ?? Date.now
    if (this.interval <= 0 || this.silence < 0 || this.timeout <= 0 || this.maxFailures < 1)
      throw new InvalidOptionError('health interval, timeout and maxFailures must be positive, silence not negative')
  }

  start(): void {
    if (this.timer != null) return
    this.abort = new AbortController()
    this.timer = setInterval(() => {
      this.round()
    }, this.interval)
    this.timer.unref?.()
  }

  stop(): void {
    if (this.timer == null) return
    clearInterval(this.timer)
    this.timer = undefined
    this.abort?.abort()
  }

  /** Latest round-trip time in ms, if a ping has succeeded. */
  rtt(peerId: string): number | undefined {
    return this.rtts.get(peerId)
  }

  /** Forget a peer that disconnected. */
  forget(peerId: string): void {
    this.heard.delete(peerId)
    this.rtts.delete(peerId)
  }

  /** Pings one peer now; resolves with its RTT or rejects. */
  async check(peerId: string): Promise<number> {
    const expiry = new AbortController()
    const parent = this.abort?.signal
    const signal = parent != null ? AbortSignal.any([parent, expiry.signal]) : expiry.signal
    let poll: ReturnType<typeof setImmediate> | undefined
    // Time is up after the timeout and then one poll phase (see the header).
    const timer = setTimeout(() => {
      poll = setImmediate(() => {
        expiry.abort(new PingTimeoutError(`no answer to a ping within ${this.timeout} ms`))
      })
    }, this.timeout)
    try {
      const rtt = await this.components.ping(peerId, signal)
      this.rtts.set(peerId, rtt)
      return rtt
    } finally {
      clearTimeout(timer)
      if (poll != null) clearImmediate(poll)
    }
  }

  private round(): void {
    const peers = this.components.peers()
    const now = this.now()
    for (const peerId of peers) {
      if (this.inFlight.has(peerId) || now - this.lastHeard(peerId, now) < this.silence) continue
      this.inFlight.add(peerId)
      void this.confirm(peerId).finally(() => this.inFlight.delete(peerId))
    }
  }

  /** When the peer was last heard from: now if its count moved since the last look (or it is new). */
  private lastHeard(peerId: string, now: number): number {
    const count = this.components.received?.(peerId)
    const seen = this.heard.get(peerId)
    if (seen == null || (count != null && count !== seen.count)) {
      this.heard.set(peerId, { count, at: now })
      return now
    }
    return seen.at
  }

  /** An answer came: the peer was heard from now, and the answer's own bytes are not news. */
  private answered(peerId: string): void {
    if (!this.heard.has(peerId)) return // forgotten meanwhile (disconnected)
    this.heard.set(peerId, { count: this.components.received?.(peerId), at: this.now() })
  }

  /** Pings until an answer comes or `maxFailures` pings in a row have failed, then hangs up. */
  private async confirm(peerId: string): Promise<void> {
    for (let failures = 1; ; failures++) {
      try {
        await this.check(peerId)
        this.answered(peerId)
        return
      } catch {
        if (this.abort?.signal.aborted === true) return
        if (failures >= this.maxFailures) break
      }
    }
    this.forget(peerId)
    await this.components.hangUp(peerId).catch(() => {})
  }
}
