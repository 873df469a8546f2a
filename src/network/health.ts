/**
 * Notices peers that vanish without saying goodbye (power cut, cable pulled): pings every
 * connected peer each `interval`; after `maxFailures` failed pings in a row the connection is
 * closed, so the peer shows as gone and the connector can redial it once it is back.
 * Also keeps the latest round-trip time of each peer for `/peers`.
 *
 * A busy node must not mistake its own slowness for a dead peer. When a process gets no CPU for a
 * while (dozens of nodes starting at once on two cores), the answer to a ping can be waiting in
 * the socket when the process runs again; but Node runs due timers before it reads sockets, so a
 * plain timeout would fire first and count a failure, and two such rounds would hang up on a
 * healthy peer. So a ping's time is up only after one more turn of the event loop: whatever has
 * already arrived is read first.
 */
import { InvalidOptionError, PingTimeoutError } from '../errors.js'

export const DEFAULT_HEALTH_INTERVAL = 3_000
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
}

export class HealthMonitor {
  private readonly components: HealthComponents
  private readonly interval: number
  private readonly timeout: number
  private readonly maxFailures: number
  private readonly failures = new Map<string, number>()
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
    this.failures.delete(peerId)
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
      this.failures.delete(peerId)
      return rtt
    } finally {
      clearTimeout(timer)
      if (poll != null) clearImmediate(poll)
    }
  }

  private round(): void {
    for (const peerId of this.components.peers()) {
      if (this.inFlight.has(peerId)) continue
      this.inFlight.add(peerId)
      this.check(peerId)
        .catch(async () => {
          if (this.abort?.signal.aborted === true) return
          const n = (this.failures.get(peerId) ?? 0) + 1
          this.failures.set(peerId, n)
          if (n >= this.maxFailures) {
            this.forget(peerId)
            await this.components.hangUp(peerId).catch(() => {})
          }
        })
        .finally(() => this.inFlight.delete(peerId))
    }
  }
}
