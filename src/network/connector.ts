/**
 * Keeps the node connected to the peers it should be connected to, and decides who dials.
 *
 * - Peers given with `--peer` are dialed at start and redialed with exponential backoff whenever
 *   the connection is lost, so the order in which nodes start does not matter.
 * - Peers found by mDNS: when two nodes discover each other, the higher peer ID dials the lower at
 *   once; the lower waits `mdnsGrace` and dials only if no connection arrived (a node discovered by
 *   one side only still ends up connected).
 * - The grace period starts again whenever both sides may act at once: after a drop, and when the
 *   peer is back after `mdnsAbsence` of mDNS silence or with new addresses (a healed link, a
 *   restart). A peer mDNS has not seen for `mdnsAbsence` is not dialed, and a dial to it is not
 *   left waiting, as it would land whenever the link returns and race the other side. So after an
 *   outage the higher side redials the moment mDNS sees the peer again and the lower only if that
 *   did not connect: nodes reconnect by themselves (libp2p reports a discovered peer only once;
 *   our mDNS listener sees every answer), with one dial. A peer unseen for `mdnsForget` is
 *   forgotten.
 * - mDNS addresses are dialed with the peer ID appended, so libp2p checks the remote's identity and
 *   reuses an existing connection to the peer instead of opening a second one.
 * - At most `maxDials` dials are in flight; the others wait their turn, in the order the peers were
 *   found, and start as dials finish. A node joining a LAN of 40 found about 40 peers at once and
 *   dialed the half with lower IDs together, while the other half dialed it: ~40 handshakes
 *   shared its CPU, so none finished early and its first connection came after 0.9–1.7 s. A dial
 *   holds its turn for `dialTurn` at most: one to an address that never answers (libp2p gives up
 *   after 30 s, node.ts) does not hold the others back.
 * - The timer runs every `tickInterval` only while some peer is still to be connected; once every
 *   known peer is, it runs every `idleTickInterval`, and a drop, an mDNS sighting or a new static
 *   peer brings the fast ticks back at once.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { InvalidOptionError } from '../errors.js'
import { TypedEvents } from '../events.js'

export const DEFAULT_TICK_INTERVAL = 250
/**
 * The timer's period while every known peer is connected, when a tick has nothing to do (drops
 * and sightings bring the fast ticks back by themselves; this is only a safety net). Ticking every
 * 250 ms regardless woke an idle node 4 times a second, ~0.15 ms of CPU each on the benchmark
 * machine: about a quarter of an idle 2-node LAN's CPU (0.06 of its ~0.25 % of a core).
 */
export const DEFAULT_IDLE_TICK_INTERVAL = 5_000
export const DEFAULT_MDNS_GRACE = 1_500
export const DEFAULT_BACKOFF_MIN = 500
export const DEFAULT_BACKOFF_MAX = 30_000
export const DEFAULT_MDNS_FORGET = 60_000
/** mDNS silence after which a peer seen again counts as back (1.5 × the default mDNS interval of 10 s). */
export const DEFAULT_MDNS_ABSENCE = 15_000
/** Dials in flight at once. */
export const DEFAULT_MAX_DIALS = 4
/** How long a dial counts against `maxDials`. */
export const DEFAULT_DIAL_TURN = 1_000

export type DialReason = 'mdns' | 'dial'

export interface ConnectorInit {
  tickInterval?: number
  idleTickInterval?: number
  mdnsGrace?: number
  backoffMin?: number
  backoffMax?: number
  mdnsForget?: number
  mdnsAbsence?: number
  maxDials?: number
  dialTurn?: number
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
  /** Aborts the dial in flight, if any. */
  cancel?: AbortController
  /** When the dial in flight started. */
  dialStarted: number
}

/** The address with `/p2p/<peerId>` at the end, as libp2p needs to verify and reuse connections. */
function withPeerId(addr: Multiaddr, peerId: string): Multiaddr {
  const last = addr.getComponents().findLast(c => c.name === 'p2p')?.value
  if (last === peerId) return addr
  return last == null ? addr.encapsulate(multiaddr(`/p2p/${peerId}`)) : addr
}

function sameAddrs(a: Multiaddr[], b: Multiaddr[]): boolean {
  const key = (list: Multiaddr[]): string =>
    list
      .map(x => x.toString())
      .sort()
      .join(' ')
  return key(a) === key(b)
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidOptionError(`${name} must be a non-negative number`)
  return value
}

export class Connector extends TypedEvents<ConnectorEvents> {
  private readonly components: ConnectorComponents
  private readonly tickInterval: number
  private readonly idleTickInterval: number
  private readonly grace: number
  private readonly backoffMin: number
  private readonly backoffMax: number
  private readonly forget: number
  private readonly absence: number
  private readonly maxDials: number
  private readonly dialTurn: number
  private readonly now: () => number
  private readonly targets = new Map<string, Target>()
  private timer?: ReturnType<typeof setTimeout>
  private abort?: AbortController

  constructor(components: ConnectorComponents, init: ConnectorInit = {}) {
    super()
    this.components = components
    this.tickInterval = positive('tickInterval', init.tickInterval ?? DEFAULT_TICK_INTERVAL)
    this.idleTickInterval = positive('idleTickInterval', init.idleTickInterval ?? DEFAULT_IDLE_TICK_INTERVAL)
    this.grace = positive('mdnsGrace', init.mdnsGrace ?? DEFAULT_MDNS_GRACE)
    this.backoffMin = positive('backoffMin', init.backoffMin ?? DEFAULT_BACKOFF_MIN)
    this.backoffMax = positive('backoffMax', init.backoffMax ?? DEFAULT_BACKOFF_MAX)
    this.forget = positive('mdnsForget', init.mdnsForget ?? DEFAULT_MDNS_FORGET)
    this.absence = positive('mdnsAbsence', init.mdnsAbsence ?? DEFAULT_MDNS_ABSENCE)
    this.maxDials = Math.max(1, Math.floor(positive('maxDials', init.maxDials ?? DEFAULT_MAX_DIALS)))
    this.dialTurn = positive('dialTurn', init.dialTurn ?? DEFAULT_DIAL_TURN)
    this.now = components.now ?? Date.now
  }

  start(): void {
    if (this.running) return
    this.abort = new AbortController()
    this.tick()
  }

  stop(): void {
    if (!this.running) return
    clearTimeout(this.timer)
    this.timer = undefined
    this.abort?.abort()
  }

  private get running(): boolean {
    return this.abort != null && !this.abort.signal.aborted
  }

  /** The next tick: soon while a peer is still to be connected, rarely when none is. */
  private schedule(busy: boolean): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(
      () => {
        this.tick()
      },
      busy ? this.tickInterval : this.idleTickInterval
    )
    this.timer.unref?.()
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
      dialStarted: 0
    })
    this.tick()
  }

  /** mDNS saw this peer (again). */
  discovered(peerId: string, addrs: Multiaddr[]): void {
    if (peerId === this.components.selfId || addrs.length === 0) return
    const now = this.now()
    const withId = addrs.map(a => withPeerId(a, peerId))
    const existing = this.targets.get(peerId)
    if (existing != null) {
      const back = now - existing.lastSeen > this.absence || !sameAddrs(existing.addrs, withId)
      existing.addrs = withId
      existing.lastSeen = now
      // Back after a silence (a healed link) or on new addresses (a restart): try again at once,
      // and give the higher peer ID its head start again, as on first sight. A dial still waiting
      // on the old outage is dropped, or it would hold the higher side back for seconds.
      if (back && !this.components.isConnected(peerId)) {
        existing.cancel?.abort()
        existing.since = now
        existing.nextAttempt = now
        existing.backoff = this.backoffMin
      }
    } else {
      this.targets.set(peerId, {
        key: peerId,
        reason: 'mdns',
        addrs: withId,
        peerId,
        since: now,
        lastSeen: now,
        nextAttempt: now,
        backoff: this.backoffMin,
        attempt: 0,
        dialStarted: 0
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
    if (this.running) this.schedule(true)
  }

  /**
   * The peer said it is leaving (an mDNS goodbye): stop dialing what mDNS found of it, until mDNS
   * finds it again. Addresses given with --peer are still dialed.
   */
  departed(peerId: string): void {
    for (const t of [...this.targets.values()]) {
      if (t.peerId !== peerId || t.reason !== 'mdns') continue
      t.cancel?.abort()
      this.targets.delete(t.key)
    }
  }

  /** Whether a dial to this peer is in flight. */
  isDialing(peerId: string): boolean {
    for (const t of this.targets.values()) if (t.peerId === peerId && t.cancel != null) return true
    return false
  }

  /** Why this node knows the peer: found by mDNS, given with --peer, or neither. */
  reasonFor(peerId: string): DialReason | undefined {
    for (const t of this.targets.values()) if (t.peerId === peerId) return t.reason
    return undefined
  }

  private eligible(t: Target, now: number): boolean {
    if (t.cancel != null || now < t.nextAttempt) return false
    if (t.peerId != null && this.components.isConnected(t.peerId)) return false
    if (t.reason === 'dial') return true
    // mDNS tells when an absent peer is back; dialing it before that only fails.
    if (now - t.lastSeen > this.absence) return false
    // Tie-break: the higher peer ID dials; the lower gives it `grace` to do so.
    return this.components.selfId > (t.peerId ?? '') || now - t.since >= this.grace
  }

  private tick(): void {
    if (!this.running) return
    const now = this.now()
    let busy = false
    let dialing = 0
    for (const t of this.targets.values()) if (t.cancel != null && now - t.dialStarted < this.dialTurn) dialing++
    for (const t of [...this.targets.values()]) {
      const connected = t.peerId != null && this.components.isConnected(t.peerId)
      if (t.reason === 'mdns' && now - t.lastSeen > this.forget && !connected) {
        this.targets.delete(t.key)
        continue
      }
      busy ||= !connected
      // A dial into an outage would land whenever the link comes back, racing the other side.
      if (t.reason === 'mdns' && t.cancel != null && now - t.lastSeen > this.absence) t.cancel.abort()
      if (dialing < this.maxDials && this.eligible(t, now)) {
        dialing++
        void this.dial(t)
      }
    }
    this.schedule(busy)
  }

  private async dial(t: Target): Promise<void> {
    const cancel = new AbortController()
    t.cancel = cancel
    t.dialStarted = this.now()
    t.attempt++
    const stopped = this.abort?.signal ?? AbortSignal.abort()
    try {
      const peerId = await this.components.dial(t.addrs, AbortSignal.any([stopped, cancel.signal]))
      t.peerId = peerId
      t.backoff = this.backoffMin
      t.attempt = 0
      this.emit('dial:success', { target: t.key, reason: t.reason, peerId })
    } catch (err) {
      // Stopped, or dropped because the peer came back (discovered() has set the next attempt).
      if (stopped.aborted || cancel.signal.aborted) return
      // The other side's dial won (both dialed at once): connected, nothing to report or retry.
      if (t.peerId != null && this.components.isConnected(t.peerId)) {
        t.backoff = this.backoffMin
        t.attempt = 0
        return
      }
      const retryInMs = t.backoff
      t.nextAttempt = this.now() + t.backoff
      t.backoff = Math.min(this.backoffMax, t.backoff * 2)
      this.emit('dial:error', { target: t.key, reason: t.reason, error: err as Error, retryInMs, attempt: t.attempt })
    } finally {
      if (t.cancel === cancel) t.cancel = undefined
      // The next dial waiting for a turn (or a dropped dial's new attempt) starts now, not at the next tick.
      if (!stopped.aborted) this.tick()
    }
  }
}
