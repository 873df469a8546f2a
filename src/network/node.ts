/**
 * All libp2p configuration in one place: transports, encryption, muxing, services and gossipsub.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { mdnsServiceTag } from './topics.js'
import { lanDiscovery, type LanDiscovery } from './discovery.js'
import { lanGossipOptions } from './tuning.js'

/**
 * How often mDNS asks the LAN who is there. Every node answers every query by multicast, so each
 * query costs every node N packets to parse: the LAN's chatter grows with N² / interval, and at 5 s
 * it was the largest idle cost of a 30-node LAN (bench/). A new node is still found at once (its
 * first query goes out as it starts listening), and since every node hears the answers to every
 * node's query, a LAN of N nodes refreshes its view every interval / N on average.
 */
export const DEFAULT_MDNS_INTERVAL = 10_000
/** gossipsub heartbeat. */
export const DEFAULT_HEARTBEAT_INTERVAL = 1_000

export interface Services extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
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
  return (await createLibp2p({
    privateKey: init.privateKey,
    start: false,
    addresses: { listen: [`/ip4/${init.host}/tcp/${init.port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: init.gater,
    connectionManager: init.sharedHost === true ? { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1_000 } : {},
    services: services as any
  })) as unknown as ChatLibp2p
}
