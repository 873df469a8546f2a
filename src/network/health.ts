/**
 * Notices peers that vanish without saying goodbye (power cut, cable pulled): each `interval` it
 * pings every connected peer it has not heard from since the previous round; a failed ping is
 * retried at once, and after `maxFailures` failures in a row the connection is closed, so the peer
 * shows as gone and the connector can redial it once it is back. Also keeps the latest round-trip
 * time of each peer for `/peers`.
 *
 * Anything received from a peer proves it alive as well as a ping's answer does, so a peer that
 * sent something since the previous round (a message, or a ping of its own, or the answer to ours)
 * is not pinged: at idle the two ends of a connection stop pinging each other in the same round,
 * and under traffic nobody pings. A vanished peer is still hung up on within 2 × `interval` +
 * `maxFailures` × `timeout` (10 s with the defaults): one round may still see what it sent before
 * it vanished, the next pings it.
 *
 * A busy node must not mistake its own slowness for a dead peer. When a process gets no CPU for a
 * while (dozens of nodes starting at once on two cores), the answer to a ping can be waiting in
 * the socket when the process runs again; but Node runs due timers before it reads sockets, so a
 * plain timeout would fire first and count a failure, and two such rounds would hang up on a
 * healthy peer. So a ping's time is up only after one more turn of the event loop: whatever has
 * already arrived is read first.
 */
import { InvalidOptionError, PingTimeoutError } from '../errors.js'

/**
 * The gap between rounds. With the ping answered by whichever end's round comes first and a peer
 * heard from not pinged, an idle connection sees about one ping every 1.5 intervals instead of two
 * every interval (3 s before): in the benchmark's N=10 idle profile, pings and their answers were
 * about half of each node's CPU. 2.5 s keeps a vanished peer gone within 10 s (see the header).
 */
export const DEFAULT_HEALTH_INTERVAL = 2_500
export const DEFAULT_PING_TIMEOUT = 2_500
export const DEFAULT_MAX_FAILURES = 2

export interface HealthInit {
  interval?: number
  timeout?: number
  maxFailures?: number
}

export interface HealthComponents {
  ping: (peerId: string, signal: AbortSignal) => Promise<number>
  peers: () => string[]
  hangUp: (peerId: string) => Promise<void>
  /**
   * A count that grows whenever something arrives from the peer (bytes read on its connections),
   * or undefined if unknown; a peer whose count changed since the previous round is not pinged.
   * Without it every peer is pinged every round.
   */
  received?: (peerId: string) => number | undefined
}

export class HealthMonitor {
  private readonly components: HealthComponents
  private readonly interval: number
  private readonly timeout: number
  private readonly maxFailures: number
  /** What `received` said of each peer at the previous round. */
  private readonly heard = new Map<string, number>()
  private readonly rtts = new Map<string, number>()
  private readonly inFlight = new Set<string>()
  private timer?: ReturnType<typeof setInterval>
  private abort?: AbortController

  constructor(components: HealthComponents, init: HealthInit = {}) {
    this.components = components
    this.interval = init.interval ?? DEFAULT_HEALTH_INTERVAL
    this.timeout = init.timeout ?? DEFAULT_PING_TIMEOUT
    this.maxFailures = init.maxFailures ?? DEFAULT_MAX_FAILURES
    if (this.interval <= 0 || this.timeout <= 0 || this.maxFailures < 1)
      throw new InvalidOptionError('health interval, timeout and maxFailures must be positive')
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
    for (const peerId of this.components.peers()) {
      if (this.inFlight.has(peerId) || this.heardFrom(peerId)) continue
      this.inFlight.add(peerId)
      void this.confirm(peerId).finally(() => this.inFlight.delete(peerId))
    }
  }

  /** Whether something arrived from the peer since the previous round (and notes the count). */
  private heardFrom(peerId: string): boolean {
    const count = this.components.received?.(peerId)
    if (count == null) return false
    const before = this.heard.get(peerId)
    this.heard.set(peerId, count)
    return before != null && before !== count
  }

  /** Pings until an answer comes or `maxFailures` pings in a row have failed, then hangs up. */
  private async confirm(peerId: string): Promise<void> {
    for (let failures = 1; ; failures++) {
      try {
        await this.check(peerId)
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
