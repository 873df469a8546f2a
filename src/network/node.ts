/**
 * All libp2p configuration in one place: transports, encryption, muxing, services and gossipsub.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { gossipsub, type GossipSub, type TopicValidatorResult } from '@libp2p/gossipsub'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { mdnsServiceTag } from './topics.js'
import { lanDiscovery, type LanDiscovery } from './discovery.js'
import { lanGossipOptions } from './tuning.js'
import { createNodeNoiseCrypto } from './noise-crypto.js'

/**
 * The longest gap between a node's mDNS queries (discovery.ts backs off to it from 1 s). A query
 * lists the peers the node already knows (and has not lost a connection to), and they do not answer
 * it, so once everyone is connected each query costs the LAN one answer (the sender's own) instead
 * of N: chatter grows with N / interval per node, not N² (with @libp2p/mdns, at N=30 every node
 * parsed ~80 answers a second). A new node is still found at once: its first query lists nobody,
 * goes out as it starts listening, and is answered by everyone, itself included. Every node's own
 * answer comes once per interval, which the connector's mDNS absence (1.5 intervals) is measured
 * against.
 */
export const DEFAULT_MDNS_INTERVAL = 10_000
/** gossipsub heartbeat. */
export const DEFAULT_HEARTBEAT_INTERVAL = 1_000
/**
 * How long a dial, one address of it, and an inbound connection's handshake may take before libp2p
 * gives up (its defaults: 10 s, 6 s and 10 s, made for the internet). On a LAN a slow handshake is
 * a busy machine, not a lost packet, and giving up throws the work away: when the benchmark's 40
 * nodes start at once on two cores, 1,156 dials timed out in one run and were made again from the
 * start, and after 70 s the nodes had 10–28 of their 39 peers in the room. With 30 s, two runs:
 * 21–37 peers, then all 39 within the 70 s; idle CPU afterwards 1.41 and 1.02 % per node against
 * 4.37 and 3.81 % (bench --n 40 --only lan-chat). An address that does not answer at all is still
 * given up on: the connector stops dialing a peer mDNS no longer sees (connector.ts).
 */
export const LAN_DIAL_TIMEOUT = 30_000

/**
 * gossipsub as the chat uses it: with `asyncValidation` the app reports each message's verdict,
 * which the gossipsub class has (and the option's documentation names) but its exported interface
 * leaves out. createChatLibp2p checks that they are there.
 */
export interface RoomPubSub extends GossipSub {
  getMeshPeers: (topic: string) => string[]
  reportMessageValidationResult: (msgId: string, propagationSource: string, acceptance: TopicValidatorResult) => void
}

export interface Services extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  pubsub: RoomPubSub
  mdns?: LanDiscovery
}

export type ChatLibp2p = Libp2p<Services>

export interface NodeInit {
  privateKey: PrivateKey
  host: string
  port: number
  /** mDNS rendezvous tag, or undefined for no mDNS. */
  rendezvous?: string
  mdnsInterval?: number
  heartbeatInterval?: number
  /**
   * Many nodes on one IP (tests on 127.0.0.1): stop gossipsub punishing IP colocation and let one
   * host open many connections. Never for production, where every peer has its own address.
   */
  sharedHost?: boolean
  gater?: ConnectionGater
}

export async function createChatLibp2p(init: NodeInit): Promise<ChatLibp2p> {
  const services: Record<string, unknown> = {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub({
      // The chat signs its own messages (so they can be relayed later by anyone); gossipsub's
      // per-copy signatures would only repeat that work.
      globalSignaturePolicy: 'StrictNoSign',
      allowPublishToZeroTopicPeers: true,
      // Messages are relayed only once network.ts has decided that a mesh peer still needs them.
      asyncValidation: true,
      ignoreDuplicatePublishError: true,
      emitSelf: false,
      fallbackToFloodsub: false,
      heartbeatInterval: init.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
      // A small mesh: on a LAN flood publish already reaches every peer (see tuning.ts).
      ...lanGossipOptions(),
      scoreParams: init.sharedHost === true ? { IPColocationFactorWhitelist: new Set(['127.0.0.1']), IPColocationFactorWeight: 0 } : {}
    })
  }
  if (init.rendezvous != null) {
    // Starts querying once the node listens (see discovery.ts), so a new node is found at once.
    services.mdns = lanDiscovery({ serviceTag: mdnsServiceTag(init.rendezvous), interval: init.mdnsInterval ?? DEFAULT_MDNS_INTERVAL })
  }
  const node = (await createLibp2p({
    privateKey: init.privateKey,
    start: false,
    addresses: { listen: [`/ip4/${init.host}/tcp/${init.port}`] },
    transports: [tcp()],
    // node:crypto instead of noise's WebAssembly for small frames: 3 MB less per node (noise-crypto.ts).
    connectionEncrypters: [noise({ crypto: createNodeNoiseCrypto() })],
    // health.ts pings a connection only when it has been silent (yamux PING frames); yamux's own
    // keep-alive would PING every connection every 30 s on top, whether it carried traffic or not.
    streamMuxers: [yamux({ enableKeepAlive: false })],
    connectionGater: init.gater,
    // health.ts already checks every connection with a yamux PING frame; libp2p's own monitor would
    // open a ping stream to every peer every 10 s on top (a stream, a peer-store write each), which
    // was 7 % of an idle node's CPU in the benchmark's N=10 profile, before the peer-store writes.
    connectionMonitor: { enabled: false },
    connectionManager: {
      dialTimeout: LAN_DIAL_TIMEOUT,
      addressDialTimeout: LAN_DIAL_TIMEOUT,
      inboundUpgradeTimeout: LAN_DIAL_TIMEOUT,
      ...(init.sharedHost === true ? { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1_000 } : {})
    },
    services: services as any
  })) as unknown as ChatLibp2p
  const pubsub = node.services.pubsub as Partial<RoomPubSub>
  if (typeof pubsub.getMeshPeers !== 'function' || typeof pubsub.reportMessageValidationResult !== 'function')
    throw new Error('this @libp2p/gossipsub lacks getMeshPeers/reportMessageValidationResult, which LAN Chat relies on')
  return node
}
