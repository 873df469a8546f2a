/**
 * mDNS discovery that finds a new node at once and then goes quiet once everyone is connected.
 *
 * Wire format as @libp2p/mdns (mdns-records.ts), on multicast-dns, with what RFC 6762 asks of a
 * well-behaved node. With @libp2p/mdns every node answered every query by multicast, so each node
 * parsed N answers per query and N queries per interval: chatter grew with N² forever.
 * - Start after listening: libp2p starts services before its transports listen, and a node with no
 *   address cannot answer. Started after listening, a node's first query is answered by the node
 *   itself too (multicast loops back to the sender), so every node on the LAN learns about the new
 *   one at the moment it learns about them: discovery takes milliseconds and both sides of a pair
 *   discover each other at once, which the dial tie-break (connector.ts) relies on. Every later
 *   query is answered by its sender too (it never lists itself), so a healed link is seen from
 *   both ends at once as well, and a node that hears the LAN but is not heard (a one-way fault)
 *   still learns every peer within an interval.
 * - Announcement (§8.3): an unsolicited answer at start and again `announceInterval` later, for
 *   nodes that missed the first.
 * - Known-answer suppression (§7.1): a query lists the peers this node already knows (a live
 *   record), and they do not answer it; except peers it lost a connection to and has not
 *   reconnected since, so that a healed link is answered, and seen from both ends at once. Listing
 *   known but not yet connected peers too keeps start-up quiet: a node's first query (listing
 *   nobody) is answered by everyone, its backoff queries only by itself.
 * - Backoff (§5.2): queries `minInterval` apart at first, doubling up to `interval`; back to
 *   `minInterval` whenever a connected peer is lost, so a partition heals quickly.
 * - Answers to another node's query go to that node alone, by unicast (as §5.4 allows a querier to
 *   ask for); only a node's answer to its own query goes by multicast, which is how the LAN hears
 *   of it. Multicast answers reached every node: when a node joined a LAN of 40, each of the 40
 *   parsed 40 answers about peers it already knew, and when 40 nodes started at once, answers to
 *   the early ones' queries were parsed 40 times over. A node tells its own query by its source
 *   address (one of this host's), so two nodes on one host still answer each other by multicast.
 * - Goodbye (§10.1): a node that stops sends its records once more with TTL 0, by multicast, before
 *   it closes its connections. The others then take its disconnect for a departure, not a loss:
 *   no 1 s queries to look for it (each listing ~N known answers that all N nodes parse), and a
 *   `goodbye` event, on which the connector stops redialing it. A goodbye is honoured only from the
 *   instance name the peer announced, and a new sighting of the peer undoes it.
 * On a LAN where everyone is connected, each node sends one query and its own answer per
 * `interval`, and nobody else answers it: a node parses 2N packets per interval instead of N².
 * (Duplicate question suppression, §7.3, would cut that further but leave a node that cannot be
 * heard learning its peers only once per half a record TTL.)
 *
 * A libp2p service: `peer` events carry `{ id, multiaddrs }` as from @libp2p/mdns, `goodbye` events
 * the peer ID (a string) of a peer that left. It is not registered as libp2p peer discovery: the
 * connector decides whom to dial.
 */
import { randomBytes } from 'node:crypto'
import type { RemoteInfo } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import multicastDNS from 'multicast-dns'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, PeerInfo, Startable, TypedEventTarget } from '@libp2p/interface'
import type { Packet } from 'dns-packet'
import { InvalidOptionError } from '../errors.js'
import {
  buildQuery,
  buildResponse,
  DEFAULT_MAX_QUERY_BYTES,
  DEFAULT_RECORD_TTL,
  knownAnswers,
  parseQuery,
  parseResponse,
  shouldAnswer,
  type HeldRecord,
  type KnownAnswer
} from './mdns-records.js'

/** Longest (steady) gap between queries, ms. */
export const DEFAULT_QUERY_INTERVAL = 10_000
/** First gap between queries, ms; doubles after each query up to the interval. */
export const DEFAULT_QUERY_MIN_INTERVAL = 1_000
/** Gap between the two announcements at start, ms. */
export const DEFAULT_ANNOUNCE_INTERVAL = 1_000
/** Announcements at start (RFC 6762 §8.3: at least two). */
export const DEFAULT_ANNOUNCE_COUNT = 2
export const MDNS_PORT = 5353
export const MDNS_GROUP = '224.0.0.251'
/**
 * Peers whose last sighting is kept parsed (see `emitPeer`): far more than a LAN holds, so only a
 * flood of made-up peers ever pushes one out.
 */
export const MAX_PARSED_SIGHTINGS = 1_024
/** How long stopping waits for the goodbye packet to be sent, ms. */
export const DEFAULT_GOODBYE_TIMEOUT = 250
/** Random bytes of our instance name (hex, so 32 characters of the 63 a label holds). */
const INSTANCE_NAME_BYTES = 16

export interface LanDiscoveryInit {
  /** The mDNS service name (see `mdnsServiceTag`). */
  serviceTag: string
  /** Longest (steady) gap between queries, ms. */
  interval?: number
  /** First gap between queries, ms, and again after a connected peer is lost. */
  minInterval?: number
  announceInterval?: number
  announceCount?: number
  /** TTL of our records, seconds. */
  recordTtl?: number
  maxQueryBytes?: number
  /** How long stopping waits for the goodbye packet to be sent, ms. */
  goodbyeTimeout?: number
  port?: number
  group?: string
}

export interface LanDiscoveryComponents {
  addressManager: { getAddresses: () => Multiaddr[] }
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

interface Held {
  record: HeldRecord
  peerId: string
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new InvalidOptionError(`${name} must be a positive number`)
  return value
}

export class LanDiscovery extends EventTarget implements Startable {
  private readonly components: LanDiscoveryComponents
  private readonly log: Logger
  private readonly serviceTag: string
  private readonly instance: string
  private readonly maxInterval: number
  private readonly minInterval: number
  private readonly announceInterval: number
  private readonly announceCount: number
  private readonly recordTtl: number
  private readonly maxQueryBytes: number
  private readonly goodbyeTimeout: number
  private readonly port: number
  private readonly group: string
  /** Peers' PTR records, by lower-cased instance name. */
  private readonly held = new Map<string, Held>()
  /** Each peer's last sighting, parsed: its addresses as they came, and what `peer` events carry. */
  private readonly parsed = new Map<string, { addrs: string; info: PeerInfo }>()
  /** Peers whose connection dropped and did not come back: left out of known answers. */
  private readonly lost = new Set<string>()
  /** Peers that said goodbye and have not been seen since: their disconnect is a departure. */
  private readonly departed = new Set<string>()
  /** The query step before the first of the current losses, to go back to if they all said goodbye. */
  private calmStep?: number
  private local?: Set<string>
  private mdns?: multicastDNS.MulticastDNS
  private started = false
  private step = 0
  private queryTimer?: ReturnType<typeof setTimeout>
  private announceTimer?: ReturnType<typeof setTimeout>

  private readonly onListening = (): void => {
    this.begin()
  }

  private readonly onConnect = (e: CustomEvent<PeerId>): void => {
    const peer = e.detail.toString()
    this.departed.delete(peer)
    if (this.lost.delete(peer) && this.lost.size === 0) this.calmStep = undefined
  }

  private readonly onDisconnect = (e: CustomEvent<PeerId>): void => {
    const peer = e.detail.toString()
    // It said goodbye: it left, there is no partition to look for.
    if (this.departed.has(peer)) return
    if (this.lost.size === 0) this.calmStep = this.step
    this.lost.add(peer)
    if (this.mdns == null) return
    // A lost peer may be behind a partition: look for it often again until it is back.
    this.step = this.minInterval
    this.scheduleQuery(this.step)
  }

  private readonly onQuery = (packet: Packet, from: RemoteInfo): void => {
    try {
      const query = parseQuery(packet, this.serviceTag)
      if (query == null || !shouldAnswer(query, this.instance, this.recordTtl)) return
      if (this.localAddresses().has(from.address)) this.announce()
      else this.announce({ address: from.address, port: from.port })
    } catch (err) {
      this.log.error('ignoring mDNS query - %e', err)
    }
  }

  private readonly onResponse = (packet: Packet): void => {
    try {
      const now = Date.now()
      for (const found of parseResponse(packet, this.serviceTag, this.instance)) {
        const key = found.instance.toLowerCase()
        if (found.ttl === 0) {
          const held = this.held.get(key)
          this.held.delete(key)
          if (held?.peerId === found.peerId) this.farewell(found.peerId)
          continue
        }
        this.departed.delete(found.peerId)
        this.held.set(key, {
          record: { instance: found.instance, ttl: found.ttl, expiresAt: now + found.ttl * 1000 },
          peerId: found.peerId
        })
        this.emitPeer(found.peerId, found.addrs)
      }
    } catch (err) {
      this.log.error('ignoring mDNS response - %e', err)
    }
  }

  private readonly onWarning = (err: Error): void => {
    this.log('mDNS warning - %e', err)
  }

  private readonly onError = (err: Error): void => {
    this.log.error('mDNS error - %e', err)
  }

  constructor(components: LanDiscoveryComponents, init: LanDiscoveryInit) {
    super()
    this.components = components
    this.log = components.logger.forComponent('lan-chat:discovery')
    this.serviceTag = init.serviceTag
    this.instance = `${randomBytes(INSTANCE_NAME_BYTES).toString('hex')}.${init.serviceTag}`
    this.maxInterval = positive('interval', init.interval ?? DEFAULT_QUERY_INTERVAL)
    this.minInterval = Math.min(positive('minInterval', init.minInterval ?? DEFAULT_QUERY_MIN_INTERVAL), this.maxInterval)
    this.announceInterval = positive('announceInterval', init.announceInterval ?? DEFAULT_ANNOUNCE_INTERVAL)
    this.announceCount = Math.floor(positive('announceCount', init.announceCount ?? DEFAULT_ANNOUNCE_COUNT))
    this.recordTtl = Math.floor(positive('recordTtl', init.recordTtl ?? DEFAULT_RECORD_TTL))
    this.maxQueryBytes = positive('maxQueryBytes', init.maxQueryBytes ?? DEFAULT_MAX_QUERY_BYTES)
    this.goodbyeTimeout = positive('goodbyeTimeout', init.goodbyeTimeout ?? DEFAULT_GOODBYE_TIMEOUT)
    this.port = init.port ?? MDNS_PORT
    this.group = init.group ?? MDNS_GROUP
  }

  readonly [Symbol.toStringTag] = 'lan-chat/discovery'

  isStarted(): boolean {
    return this.started
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.components.events.addEventListener('peer:connect', this.onConnect)
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Runs while the transports start listening: begins as soon as there is an address to announce. */
  afterStart(): void {
    if (this.components.addressManager.getAddresses().length > 0) this.begin()
    else this.components.events.addEventListener('transport:listening', this.onListening)
  }

  /**
   * Says goodbye while the connections are still open, so peers hear it before they see them close:
   * our records with TTL 0, by multicast, waiting at most `goodbyeTimeout` for the send.
   */
  async beforeStop(): Promise<void> {
    const mdns = this.mdns
    if (mdns == null) return
    const addrs = this.components.addressManager.getAddresses().map(a => a.toString())
    const goodbye = buildResponse(this.serviceTag, this.instance, addrs, 0)
    if (goodbye.answers.length < 2) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, this.goodbyeTimeout)
      const done = (err?: Error | null): void => {
        clearTimeout(timer)
        if (err != null) this.log('mDNS goodbye not sent - %e', err)
        resolve()
      }
      try {
        mdns.respond(goodbye, done)
      } catch (err) {
        done(err as Error)
      }
    })
  }

  async stop(): Promise<void> {
    this.started = false
    this.components.events.removeEventListener('transport:listening', this.onListening)
    this.components.events.removeEventListener('peer:connect', this.onConnect)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    clearTimeout(this.queryTimer)
    clearTimeout(this.announceTimer)
    const mdns = this.mdns
    this.mdns = undefined
    this.lost.clear()
    this.departed.clear()
    this.calmStep = undefined
    this.held.clear()
    this.parsed.clear()
    if (mdns == null) return
    mdns.removeListener('query', this.onQuery)
    mdns.removeListener('response', this.onResponse)
    await new Promise<void>(resolve => {
      mdns.destroy(() => {
        resolve()
      })
    })
    mdns.removeListener('warning', this.onWarning)
    mdns.removeListener('error', this.onError)
  }

  private begin(): void {
    this.components.events.removeEventListener('transport:listening', this.onListening)
    if (this.mdns != null || !this.started) return
    const mdns = multicastDNS({ port: this.port, ip: this.group })
    mdns.on('warning', this.onWarning)
    mdns.on('error', this.onError)
    mdns.on('query', this.onQuery)
    mdns.on('response', this.onResponse)
    this.mdns = mdns
    this.step = this.minInterval
    this.query()
    this.announce()
    this.scheduleAnnouncements(this.announceCount - 1)
    this.scheduleQuery(this.step)
  }

  /** The PTR records to list in a query: live ones of peers not lost; forgets expired records. */
  private known(now: number): KnownAnswer[] {
    const records: HeldRecord[] = []
    for (const [key, h] of this.held) {
      if (h.record.expiresAt <= now) {
        this.held.delete(key)
        this.lost.delete(h.peerId)
      } else if (!this.lost.has(h.peerId)) records.push(h.record)
    }
    return knownAnswers(records, now)
  }

  /** A peer we know said goodbye: remember that it left, and tell the connector. */
  private farewell(peerId: string): void {
    this.departed.add(peerId)
    if (this.departed.size > MAX_PARSED_SIGHTINGS) this.departed.delete(this.departed.values().next().value as string)
    // Its connection closed before the goodbye arrived: the fast queries were for nothing.
    if (this.lost.delete(peerId) && this.lost.size === 0) {
      if (this.calmStep != null && this.mdns != null) {
        this.step = this.calmStep
        this.scheduleQuery(this.step)
      }
      this.calmStep = undefined
    }
    this.dispatchEvent(new CustomEvent('goodbye', { detail: peerId }))
  }

  private scheduleQuery(delay: number): void {
    clearTimeout(this.queryTimer)
    this.queryTimer = setTimeout(() => {
      this.query()
      this.step = Math.min(this.step * 2, this.maxInterval)
      this.scheduleQuery(this.step)
    }, delay)
    this.queryTimer.unref?.()
  }

  private scheduleAnnouncements(left: number): void {
    if (left <= 0) return
    this.announceTimer = setTimeout(() => {
      this.announce()
      this.scheduleAnnouncements(left - 1)
    }, this.announceInterval)
    this.announceTimer.unref?.()
  }

  private query(): void {
    this.local = undefined
    const query = buildQuery(this.serviceTag, this.known(Date.now()), this.maxQueryBytes)
    this.send(mdns => {
      mdns.query(query, this.sent)
    })
  }

  /** Our answer: by multicast (unsolicited, or to our own query), or by unicast to another node's query. */
  private announce(to?: { address: string; port: number }): void {
    const addrs = this.components.addressManager.getAddresses().map(a => a.toString())
    const response = buildResponse(this.serviceTag, this.instance, addrs, this.recordTtl)
    if (response.answers.length < 2) return
    this.send(mdns => {
      if (to == null) mdns.respond(response, this.sent)
      else mdns.respond(response, to, this.sent)
    })
  }

  /**
   * This host's IP addresses: a query from one of them is our own (multicast loops back) or another
   * node's on this host. Read when our own query goes out, so a changed interface is noticed.
   */
  private localAddresses(): Set<string> {
    if (this.local == null) {
      this.local = new Set()
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) this.local.add(a.address)
    }
    return this.local
  }

  private readonly sent = (err: Error | null): void => {
    if (err != null) this.log('mDNS send failed - %e', err)
  }

  private send(send: (mdns: multicastDNS.MulticastDNS) => void): void {
    if (this.mdns == null) return
    try {
      send(this.mdns)
    } catch (err) {
      this.log.error('mDNS send failed - %e', err)
    }
  }

  /**
   * A `peer` event for a sighting. Once everyone is connected, a sighting is the same peer on the
   * same addresses every time (each node's own answer, once an interval, reaches every node), and
   * parsing its ID (base58) and addresses again was a quarter of an idle node’s mDNS work at N=10:
   * the parsed peer is kept and sent again (listeners only read it).
   */
  private emitPeer(peerId: string, addrs: string[]): void {
    if (addrs.length === 0) return
    const key = addrs.join(' ')
    let detail = this.parsed.get(peerId)
    if (detail?.addrs !== key) {
      try {
        detail = { addrs: key, info: { id: peerIdFromString(peerId), multiaddrs: addrs.map(a => multiaddr(a)) } }
      } catch (err) {
        this.log('ignoring a peer with a bad ID or address - %e', err)
        return
      }
      this.parsed.delete(peerId)
      this.parsed.set(peerId, detail)
      if (this.parsed.size > MAX_PARSED_SIGHTINGS) this.parsed.delete(this.parsed.keys().next().value as string)
    }
    this.dispatchEvent(new CustomEvent('peer', { detail: detail.info }))
  }
}

/** The libp2p service factory. */
export function lanDiscovery(init: LanDiscoveryInit): (components: LanDiscoveryComponents) => LanDiscovery {
  return components => new LanDiscovery(components, init)
}
