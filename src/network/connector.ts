/**
 * Keeps the node connected to the peers it should be connected to, and decides who dials.
 *
 * - Peers given with `--peer` are dialed at start and redialed with exponential backoff whenever
 *   the connection is lost, so the order in which nodes start does not matter.
 * - Peers found by mDNS: when two nodes discover each other, the higher peer ID dials the lower at
 *   once; the lower waits `mdnsGrace` and dials only if no connection arrived (a node discovered by
 *   one side only still ends up connected). After a drop the same rule applies again, so nodes
 *   reconnect by themselves. A peer mDNS has not seen for `mdnsForget` is forgotten.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { InvalidOptionError } from '../errors.js'
import { TypedEvents } from '../events.js'

export const DEFAULT_TICK_INTERVAL = 250
export const DEFAULT_MDNS_GRACE = 1_500
export const DEFAULT_BACKOFF_MIN = 500
export const DEFAULT_BACKOFF_MAX = 30_000
export const DEFAULT_MDNS_FORGET = 60_000

export type DialReason = 'mdns' | 'dial'

export interface ConnectorInit {
  tickInterval?: number
  mdnsGrace?: number
  backoffMin?: number
  backoffMax?: number
  mdnsForget?: number
}

export interface ConnectorComponents {
  selfId: string
  /** Dials a peer by its addresses; resolves with the remote peer ID. */
  dial: (addrs: Multiaddr[], signal: AbortSignal) => Promise<string>
  isConnected: (peerId: string) => boolean
  now?: () => number
}

export interface ConnectorEvents extends Record<string, unknown> {
  'dial:error': { target: string; reason: DialReason; error: Error; retryInMs: number; attempt: number }
  'dial:success': { target: string; reason: DialReason; peerId: string }
}

interface Target {
  key: string
  reason: DialReason
  addrs: Multiaddr[]
  peerId?: string
  /** mDNS: first seen, or last disconnected; the grace period counts from here. */
  since: number
  lastSeen: number
  nextAttempt: number
  backoff: number
  attempt: number
  dialing: boolean
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidOptionError(`${name} must be a non-negative number`)
  return value
}

export class Connector extends TypedEvents<ConnectorEvents> {
  private readonly components: ConnectorComponents
  private readonly tickInterval: number
  private readonly grace: number
  private readonly backoffMin: number
  private readonly backoffMax: number
  private readonly forget: number
  private readonly now: () => number
  private readonly targets = new Map<string, Target>()
  private timer?: ReturnType<typeof setInterval>
  private abort?: AbortController

  constructor(components: ConnectorComponents, init: ConnectorInit = {}) {
    super()
    this.components = components
    this.tickInterval = positive('tickInterval', init.tickInterval ?? DEFAULT_TICK_INTERVAL)
    this.grace = positive('mdnsGrace', init.mdnsGrace ?? DEFAULT_MDNS_GRACE)
    this.backoffMin = positive('backoffMin', init.backoffMin ?? DEFAULT_BACKOFF_MIN)
    this.backoffMax = positive('backoffMax', init.backoffMax ?? DEFAULT_BACKOFF_MAX)
    this.forget = positive('mdnsForget', init.mdnsForget ?? DEFAULT_MDNS_FORGET)
    this.now = components.now ?? Date.now
  }

  start(): void {
    if (this.timer != null) return
    this.abort = new AbortController()
    this.timer = setInterval(() => {
      this.tick()
    }, this.tickInterval)
    this.timer.unref?.()
    this.tick()
  }

  stop(): void {
    if (this.timer == null) return
    clearInterval(this.timer)
    this.timer = undefined
    this.abort?.abort()
  }

  /** A peer to keep connected to, given by the user. */
  addStatic(addr: Multiaddr): void {
    const key = addr.toString()
    if (this.targets.has(key)) return
    const now = this.now()
    this.targets.set(key, {
      key,
      reason: 'dial',
      addrs: [addr],
      peerId: addr.getComponents().findLast(c => c.name === 'p2p')?.value,
      since: now,
      lastSeen: now,
      nextAttempt: now,
      backoff: this.backoffMin,
      attempt: 0,
      dialing: false
    })
    this.tick()
  }

  /** mDNS saw this peer (again). */
  discovered(peerId: string, addrs: Multiaddr[]): void {
    if (peerId === this.components.selfId || addrs.length === 0) return
    const now = this.now()
    const existing = this.targets.get(peerId)
    if (existing != null) {
      existing.addrs = addrs
      existing.lastSeen = now
      // A peer that reappears after a long silence is worth trying again at once.
      if (existing.nextAttempt > now + this.backoffMin && !existing.dialing) {
        existing.nextAttempt = now
        existing.backoff = this.backoffMin
      }
    } else {
      this.targets.set(peerId, {
        key: peerId,
        reason: 'mdns',
        addrs,
        peerId,
        since: now,
        lastSeen: now,
        nextAttempt: now,
        backoff: this.backoffMin,
        attempt: 0,
        dialing: false
      })
    }
    this.tick()
  }

  /** Tells the connector a peer went away, so the grace period starts again. */
  disconnected(peerId: string): void {
    const now = this.now()
    for (const t of this.targets.values()) {
      if (t.peerId !== peerId) continue
      t.since = now
      t.nextAttempt = now + (t.reason === 'dial' ? this.backoffMin : 0)
    }
  }

  /** Why this node knows the peer: found by mDNS, given with --peer, or neither. */
  reasonFor(peerId: string): DialReason | undefined {
    for (const t of this.targets.values()) if (t.peerId === peerId) return t.reason
    return undefined
  }

  private eligible(t: Target, now: number): boolean {
    if (t.dialing || now < t.nextAttempt) return false
    if (t.peerId != null && this.components.isConnected(t.peerId)) return false
    if (t.reason === 'dial') return true
    // Tie-break: the higher peer ID dials; the lower gives it `grace` to do so.
    return this.components.selfId > (t.peerId ?? '') || now - t.since >= this.grace
  }

  private tick(): void {
    if (this.abort == null || this.abort.signal.aborted) return
    const now = this.now()
    for (const t of [...this.targets.values()]) {
      if (t.reason === 'mdns' && now - t.lastSeen > this.forget && !this.components.isConnected(t.peerId ?? '')) {
        this.targets.delete(t.key)
        continue
      }
      if (this.eligible(t, now)) void this.dial(t)
    }
  }

  private async dial(t: Target): Promise<void> {
    t.dialing = true
    t.attempt++
    const signal = this.abort?.signal ?? AbortSignal.abort()
    try {
      const peerId = await this.components.dial(t.addrs, signal)
      t.peerId = peerId
      t.backoff = this.backoffMin
      t.attempt = 0
      this.emit('dial:success', { target: t.key, reason: t.reason, peerId })
    } catch (err) {
      if (signal.aborted) return
      const retryInMs = t.backoff
      t.nextAttempt = this.now() + t.backoff
      t.backoff = Math.min(this.backoffMax, t.backoff * 2)
      this.emit('dial:error', { target: t.key, reason: t.reason, error: err as Error, retryInMs, attempt: t.attempt })
    } finally {
      t.dialing = false
    }
  }
}
