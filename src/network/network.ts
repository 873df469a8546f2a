/**
 * The chat's view of the network: a libp2p node with rooms over gossipsub, discovery, dialing,
 * liveness and nick exchange. The only module (with node.ts) that talks to libp2p; everything it
 * emits uses our own types (peer IDs as strings).
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream, IdentifyResult } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { TypedEvents } from '../events.js'
import { createChatLibp2p, DEFAULT_MDNS_INTERVAL, type ChatLibp2p, type NodeInit } from './node.js'
import { Connector, type ConnectorInit, type DialReason } from './connector.js'
import { redundantConnections } from './duplicates.js'
import { HealthMonitor, type HealthInit } from './health.js'
import { bytesReceived, livenessPing } from './liveness.js'
import { decodeHello, encodeHello, MAX_HELLO_BYTES, type FoundBy } from './hello.js'
import { HELLO_PROTOCOL, roomTopic, topicRoom } from './topics.js'
import { SyncProtocol, type SyncHandler, type SyncProtocolInit } from './sync-protocol.js'
import { NotStartedError } from '../errors.js'
import { BanList } from './bans.js'
import { decodeRoomFrame, encodeRoomFrame, fingerprint, needsRelay } from './relay-hint.js'
import { TopicValidatorResult, type GossipsubMessage } from '@libp2p/gossipsub'

/** How long a new peer's hello (nick, how it found us) is awaited before announcing it anyway; it
 * normally arrives within milliseconds, so only a busy machine or a peer without hello waits. */
export const DEFAULT_HELLO_TIMEOUT = 3_000
/** Parsed peer IDs kept (peerIdObject); cleared when full. */
const PEER_ID_CACHE_SIZE = 4_096
/** Peer ID fingerprints kept for relay hints (relay-hint.ts); cleared when full. */
const FINGERPRINT_CACHE_SIZE = 4_096

export type Verdict = 'accept' | 'ignore' | 'reject'
export type ConnectVia = 'mdns' | 'dial' | 'inbound'

/**
 * Decides what to do with a message received on a room's topic, before it is forwarded. `from` is
 * the peer that sent it here (its connection proved that peer's key); `relay` tells whether this
 * node will forward it to mesh peers that have not got it (relay-hint.ts) if it is accepted.
 */
export type MessageHandler = (room: string, data: Uint8Array, from: string, relay: boolean) => Verdict

export interface PeerSummary {
  peerId: string
  nick?: string
  via: ConnectVia
  /** Latest ping round-trip time in ms. */
  rtt?: number
  addrs: string[]
  rooms: string[]
}

export interface NetworkEvents extends Record<string, unknown> {
  'peer:connect': { peerId: string; via: ConnectVia; nick?: string }
  'peer:disconnect': { peerId: string; nick?: string }
  'peer:nick': { peerId: string; nick: string; previous?: string }
  'room:peer-join': { room: string; peerId: string }
  'room:peer-leave': { room: string; peerId: string }
  'peer:banned': { peerId: string; reason: string; untilMs: number }
  'dial:error': { target: string; reason: DialReason; error: string; retryInMs: number; attempt: number }
}

export interface NetworkInit extends Omit<NodeInit, 'gater'> {
  nick: string
  /** Peers to dial at start and keep connected. */
  peers?: Multiaddr[]
  connector?: ConnectorInit
  health?: HealthInit
  helloTimeout?: number
  /** Invalid messages from one peer within `invalidWindow` before it is disconnected and banned. */
  maxInvalid?: number
  invalidWindow?: number
  banDuration?: number
  now?: () => number
  /** History sync protocol limits and timeout. */
  sync?: SyncProtocolInit
}

function isLoopbackAddr(ma: Multiaddr): boolean {
  const ip = ma.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')?.value ?? ''
  return ip.startsWith('127.') || ip === '::1'
}

/** Addresses worth dialing: TCP only, and not loopback when the peer has any other. */
export function dialableAddrs(addrs: Multiaddr[]): Multiaddr[] {
  const tcp = addrs.filter(a => a.getComponents().some(c => c.name === 'tcp'))
  const remote = tcp.filter(a => !isLoopbackAddr(a))
  return remote.length > 0 ? remote : tcp
}

export class Network extends TypedEvents<NetworkEvents> {
  readonly peerId: string
  private readonly node: ChatLibp2p
  private readonly connector: Connector
  private readonly health: HealthMonitor
  private readonly sync: SyncProtocol
  private readonly init: NetworkInit
  private readonly now: () => number
  private nick: string
  private handler?: MessageHandler
  /** Each accepted message's relay decision, made once in the validator and kept for settleRelay. */
  private readonly relays = new WeakMap<object, boolean>()
  private readonly joined = new Set<string>()
  private readonly members = new Map<string, Set<string>>()
  private readonly nicks = new Map<string, string>()
  private readonly remoteFound = new Map<string, FoundBy>()
  private readonly announced = new Map<string, ConnectVia>()
  private readonly helloWaiters = new Map<string, () => void>()
  private readonly bans: BanList
  private readonly cleanups: Array<() => void> = []
  private readonly peerIds = new Map<string, PeerId>()
  private readonly fingerprints = new Map<string, number>()
  private started = false

  private constructor(node: ChatLibp2p, init: NetworkInit, bans: BanList) {
    super()
    this.node = node
    this.init = init
    this.nick = init.nick
    this.bans = bans
    this.now = init.now ?? Date.now
    this.peerId = node.peerId.toString()
    this.connector = new Connector(
      {
        selfId: this.peerId,
        dial: async (addrs, signal) => (await node.dial(addrs, { signal })).remotePeer.toString(),
        isConnected: peerId => this.isConnected(peerId),
        now: this.now
      },
      // A peer is "back" after one and a half mDNS intervals of silence.
      { mdnsAbsence: 1.5 * (init.mdnsInterval ?? DEFAULT_MDNS_INTERVAL), ...init.connector }
    )
    this.health = new HealthMonitor(
      {
        // A yamux PING frame on the open connection, not a new ping stream (see liveness.ts).
        ping: async (peerId, signal) =>
          await livenessPing(
            {
              connections: () => node.getConnections(this.peerIdObject(peerId)),
              pingProtocol: async s => await node.services.ping.ping(this.peerIdObject(peerId), { signal: s })
            },
            signal
          ),
        peers: () => [...this.announced.keys()],
        hangUp: async peerId => {
          await node.hangUp(this.peerIdObject(peerId))
        },
        // A peer heard from since the last round is not pinged (see health.ts).
        received: peerId => bytesReceived(node.getConnections(this.peerIdObject(peerId)))
      },
      init.health
    )
    this.sync = new SyncProtocol(
      {
        handle: async (protocol, handler, options) => {
          await node.handle(protocol, handler, options)
        },
        unhandle: async protocol => {
          await node.unhandle(protocol)
        },
        dialProtocol: async (peer, protocol, options) => await node.dialProtocol(peer, protocol, options),
        toPeerId: peerId => this.peerIdObject(peerId)
      },
      init.sync
    )
  }

  static async create(init: NetworkInit): Promise<Network> {
    const bans = new BanList({
      maxInvalid: init.maxInvalid,
      invalidWindow: init.invalidWindow,
      banDuration: init.banDuration,
      now: init.now
    })
    const isBanned = (peerId: PeerId): boolean => bans.isBanned(peerId.toString())
    // The gater is made before the Network it asks; it is only consulted once the node runs.
    const self: { network?: Network } = {}
    const node = await createChatLibp2p({
      ...init,
      gater: {
        denyDialPeer: isBanned,
        denyInboundEncryptedConnection: peerId => isBanned(peerId) || (self.network?.losesToOwnDial(peerId) ?? false),
        denyOutboundEncryptedConnection: isBanned
      }
    })
    self.network = new Network(node, init, bans)
    return self.network
  }

  /** Sets the function that answers history sync requests from peers (chat/history-sync.ts). */
  handleSync(handler: SyncHandler): void {
    this.sync.handle(handler)
  }

  /** Sends a history sync request to a connected peer; resolves with its answer. Throws SyncError. */
  async requestSync(peerId: string, body: unknown, options: { signal?: AbortSignal } = {}): Promise<unknown> {
    if (!this.started) throw new NotStartedError('network is not started')
    return await this.sync.request(peerId, body, options)
  }

  /** Sets the function that judges every received room message. */
  handleMessages(handler: MessageHandler): void {
    this.handler = handler
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    const node = this.node
    const listen = <K extends string>(target: EventTarget, type: K, fn: (e: any) => void): void => {
      target.addEventListener(type, fn)
      this.cleanups.push(() => target.removeEventListener(type, fn))
    }
    await node.handle(
      HELLO_PROTOCOL,
      async (stream: Stream, connection: Connection) => {
        await this.onHelloStream(stream, connection)
      },
      { maxInboundStreams: 4 }
    )
    await this.sync.start()
    listen(node, 'peer:connect', (e: CustomEvent<PeerId>) => {
      this.onPeerConnect(e.detail.toString())
    })
    listen(node, 'peer:disconnect', (e: CustomEvent<PeerId>) => {
      this.onPeerDisconnect(e.detail.toString())
    })
    listen(node, 'connection:open', (e: CustomEvent<Connection>) => {
      this.dropDuplicate(e.detail)
    })
    listen(node, 'peer:identify', (e: CustomEvent<IdentifyResult>) => {
      if (e.detail.protocols.includes(HELLO_PROTOCOL)) void this.sendHello(e.detail.peerId.toString())
    })
    listen(
      node.services.pubsub,
      'subscription-change',
      (e: CustomEvent<{ peerId: PeerId; subscriptions: Array<{ topic: string; subscribe: boolean }> }>) => {
        const peerId = e.detail.peerId.toString()
        for (const s of e.detail.subscriptions) {
          const room = topicRoom(s.topic)
          if (room == null) continue
          this.setMember(room, peerId, s.subscribe)
        }
      }
    )
    // Validated room messages: relay them only where a mesh peer has not got them (relay-hint.ts).
    listen(node.services.pubsub, 'gossipsub:message', (e: CustomEvent<GossipsubMessage>) => {
      this.settleRelay(e.detail)
    })
    if (node.services.mdns != null) {
      listen(node.services.mdns, 'peer', (e: CustomEvent<{ id: PeerId; multiaddrs: Multiaddr[] }>) => {
        this.connector.discovered(e.detail.id.toString(), dialableAddrs(e.detail.multiaddrs))
      })
      listen(node.services.mdns, 'goodbye', (e: CustomEvent<string>) => {
        this.connector.departed(e.detail)
      })
    }
    listen(
      this.connector,
      'dial:error',
      (e: CustomEvent<{ target: string; reason: DialReason; error: Error; retryInMs: number; attempt: number }>) => {
        this.emit('dial:error', { ...e.detail, error: e.detail.error.message })
      }
    )
    await node.start()
    for (const room of this.joined) this.subscribe(room)
    for (const addr of this.init.peers ?? []) this.connector.addStatic(addr)
    this.connector.start()
    this.health.start()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.connector.stop()
    this.health.stop()
    for (const room of this.joined) {
      try {
        this.node.services.pubsub.unsubscribe(roomTopic(room))
      } catch {}
    }
    for (const resolve of this.helloWaiters.values()) resolve()
    await this.sync.stop()
    await this.node.stop()
    for (const fn of this.cleanups.splice(0)) fn()
  }

  /** Every address this node listens on, with its peer ID. */
  addresses(): string[] {
    return this.node.getMultiaddrs().map(a => a.toString())
  }

  rooms(): string[] {
    return [...this.joined]
  }

  joinRoom(room: string): void {
    if (this.joined.has(room)) return
    this.joined.add(room)
    if (this.started) this.subscribe(room)
  }

  leaveRoom(room: string): void {
    if (!this.joined.delete(room)) return
    const topic = roomTopic(room)
    this.node.services.pubsub.topicValidators.delete(topic)
    if (this.started) this.node.services.pubsub.unsubscribe(topic)
  }

  /** Publishes to a room; resolves with how many peers it was sent to. */
  async publish(room: string, data: Uint8Array): Promise<number> {
    if (!this.started) throw new NotStartedError('network is not started')
    const topic = roomTopic(room)
    const pubsub = this.node.services.pubsub
    // Flood publish sends it to every peer in the room: tell them so, and they need not relay it.
    const recipients = [this.peerId, ...pubsub.getSubscribers(topic).map(p => p.toString())].map(id => this.fingerprintOf(id))
    const result = await pubsub.publish(topic, encodeRoomFrame(data, recipients))
    return result.recipients.length
  }

  /** Connected peers subscribed to a room. */
  roomPeers(room: string): string[] {
    return [...(this.members.get(room) ?? [])].filter(p => this.announced.has(p))
  }

  nickOf(peerId: string): string | undefined {
    return this.nicks.get(peerId)
  }

  peers(): PeerSummary[] {
    return [...this.announced.entries()].map(([peerId, via]) => ({
      peerId,
      nick: this.nicks.get(peerId),
      via,
      rtt: this.health.rtt(peerId),
      addrs: this.node.getConnections(this.peerIdObject(peerId)).map(c => c.remoteAddr.toString()),
      rooms: [...this.members.entries()].filter(([, set]) => set.has(peerId)).map(([room]) => room)
    }))
  }

  /** Number of open connections to a peer (tests check there is one per pair). */
  connectionCount(peerId: string): number {
    return this.node.getConnections(this.peerIdObject(peerId)).length
  }

  async ping(peerId: string): Promise<number> {
    return await this.health.check(peerId)
  }

  setNick(nick: string): void {
    this.nick = nick
    for (const peerId of this.announced.keys()) void this.sendHello(peerId)
  }

  /** Counts a rejected message against the peer that forwarded it; bans it past the limit. */
  private penalise(peerId: string, reason: string): void {
    const untilMs = this.bans.penalise(peerId)
    if (untilMs == null) return
    this.emit('peer:banned', { peerId, reason, untilMs })
    void this.node.hangUp(this.peerIdObject(peerId)).catch(() => {})
  }

  private subscribe(room: string): void {
    const topic = roomTopic(room)
    const pubsub = this.node.services.pubsub
    pubsub.topicValidators.set(topic, (source, msg) => {
      const from = source.toString()
      let verdict: Verdict = 'ignore'
      try {
        const frame = decodeRoomFrame(msg.data)
        const relay = needsRelay(pubsub.getMeshPeers(topic), from, frame.hint, id => this.fingerprintOf(id))
        verdict = this.handler?.(room, frame.payload, from, relay) ?? 'ignore'
        if (verdict === 'accept') this.relays.set(msg, relay)
      } catch {
        verdict = 'reject'
      }
      if (verdict === 'reject') this.penalise(from, 'invalid messages')
      return verdict as any
    })
    pubsub.subscribe(topic)
  }

  /**
   * Called for every message the validator accepted (gossipsub runs with asyncValidation): relays
   * it to the mesh if the validator found a mesh peer that is not among the author's recipients,
   * otherwise lets gossipsub drop it from its cache (no relay, no penalty). The decision is the
   * validator's, so the handler knew it: it verifies the signature of whatever will be relayed.
   */
  private settleRelay({ propagationSource, msgId, msg }: GossipsubMessage): void {
    const relay = this.relays.get(msg) === true
    this.node.services.pubsub.reportMessageValidationResult(
      msgId,
      propagationSource.toString(),
      relay ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
    )
  }

  private fingerprintOf(peerId: string): number {
    let fp = this.fingerprints.get(peerId)
    if (fp == null) {
      fp = fingerprint(peerId)
      if (this.fingerprints.size >= FINGERPRINT_CACHE_SIZE) this.fingerprints.clear()
      this.fingerprints.set(peerId, fp)
    }
    return fp
  }

  private setMember(room: string, peerId: string, member: boolean): void {
    let set = this.members.get(room)
    if (set == null) {
      set = new Set()
      this.members.set(room, set)
    }
    if (member === set.has(peerId)) return
    if (member) set.add(peerId)
    else set.delete(peerId)
    // Joins of peers not yet announced are reported with their connect.
    if (this.announced.has(peerId) && this.joined.has(room)) this.emit(member ? 'room:peer-join' : 'room:peer-leave', { room, peerId })
  }

  private isConnected(peerId: string): boolean {
    try {
      return this.node.getConnections(this.peerIdObject(peerId)).length > 0
    } catch {
      return false
    }
  }

  /**
   * The PeerId of a peer ID string, parsed once: the connector asks about every known peer on each
   * tick and each mDNS response, and scanning every connection for it made that O(peers²).
   */
  private peerIdObject(peerId: string): PeerId {
    let id = this.peerIds.get(peerId)
    if (id == null) {
      id = peerIdFromString(peerId)
      if (this.peerIds.size >= PEER_ID_CACHE_SIZE) this.peerIds.clear()
      this.peerIds.set(peerId, id)
    }
    return id
  }

  /**
   * Two nodes dialing each other at once (see duplicates.ts): an inbound connection from a lower
   * peer ID that this node is dialing right now is refused while it is still being set up, as this
   * node's own dial is the one both ends keep.
   */
  private losesToOwnDial(peer: PeerId): boolean {
    const id = peer.toString()
    return this.peerId > id && this.connector.isDialing(id)
  }

  /**
   * Two nodes that dialed each other at once keep one connection, the same at both ends (see
   * duplicates.ts). Only a connection that has just opened is closed, here and now, before any
   * stream runs on it: closing one that protocols already use can leave gossipsub holding a dead
   * stream to a peer that is still connected. With the refusal above, the losing connection is
   * the one that opens last at the end that closes it; should neither end see it open last, both
   * connections stay, which is harmless.
   */
  private dropDuplicate(conn: Connection): void {
    const conns = this.node.getConnections(conn.remotePeer).filter(c => c.status === 'open')
    const facts = conns.map(c => ({ id: c.id, direction: c.direction, opened: c.timeline.open }))
    if (!redundantConnections(this.peerId, conn.remotePeer.toString(), facts).includes(conn.id)) return
    void conn.close().catch((err: Error) => {
      conn.abort(err)
    })
  }

  private onPeerConnect(peerId: string): void {
    const timeout = this.init.helloTimeout ?? DEFAULT_HELLO_TIMEOUT
    const done = (): void => {
      clearTimeout(timer)
      this.helloWaiters.delete(peerId)
      if (!this.started || !this.isConnected(peerId) || this.announced.has(peerId)) return
      const via = this.viaFor(peerId)
      this.announced.set(peerId, via)
      this.emit('peer:connect', { peerId, via, nick: this.nicks.get(peerId) })
      for (const [room, set] of this.members) {
        if (set.has(peerId) && this.joined.has(room)) this.emit('room:peer-join', { room, peerId })
      }
    }
    const timer = setTimeout(done, timeout)
    this.helloWaiters.set(peerId, done)
    if (this.nicks.has(peerId) && this.remoteFound.has(peerId)) done()
  }

  private viaFor(peerId: string): ConnectVia {
    const mine = this.connector.reasonFor(peerId)
    if (mine === 'mdns' || this.remoteFound.get(peerId) === 'mdns') return 'mdns'
    return mine ?? 'inbound'
  }

  private onPeerDisconnect(peerId: string): void {
    this.helloWaiters.get(peerId)?.()
    this.connector.disconnected(peerId)
    this.health.forget(peerId)
    const wasAnnounced = this.announced.delete(peerId)
    for (const [room, set] of this.members) {
      if (set.delete(peerId) && wasAnnounced && this.joined.has(room)) this.emit('room:peer-leave', { room, peerId })
    }
    this.remoteFound.delete(peerId)
    if (wasAnnounced) this.emit('peer:disconnect', { peerId, nick: this.nicks.get(peerId) })
  }

  private async sendHello(peerId: string): Promise<void> {
    const found: FoundBy = this.connector.reasonFor(peerId) ?? 'inbound'
    try {
      const stream = await this.node.dialProtocol(this.peerIdObject(peerId), HELLO_PROTOCOL, {
        signal: AbortSignal.timeout(this.init.helloTimeout ?? DEFAULT_HELLO_TIMEOUT)
      })
      const lp = lpStream(stream, { maxDataLength: MAX_HELLO_BYTES })
      await lp.write(encodeHello({ nick: this.nick, found }))
      await stream.close()
    } catch {
      // The peer went away or does not speak hello: it is shown by its short peer ID.
    }
  }

  private async onHelloStream(stream: Stream, connection: Connection): Promise<void> {
    const peerId = connection.remotePeer.toString()
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_HELLO_BYTES })
      const hello = decodeHello(
        (await lp.read({ signal: AbortSignal.timeout(this.init.helloTimeout ?? DEFAULT_HELLO_TIMEOUT) })).subarray()
      )
      await stream.close().catch(() => {})
      const previous = this.nicks.get(peerId)
      this.nicks.set(peerId, hello.nick)
      this.remoteFound.set(peerId, hello.found)
      if (this.announced.has(peerId) && previous !== hello.nick) this.emit('peer:nick', { peerId, nick: hello.nick, previous })
      this.helloWaiters.get(peerId)?.()
    } catch {
      stream.abort(new Error('bad hello'))
    }
  }
}
