/**
 * The network: a libp2p node (TCP, noise, yamux, identify, ping, gossipsub, mDNS) seen through
 * the chat's needs: rooms, peers, nicks, and one handler that judges every received message.
 *
 * @example
 * ```ts
 * const net = await Network.create({ privateKey, host: '0.0.0.0', port: 0, rendezvous: 'lab', nick: 'ada' })
 * net.handleMessages((room, data, from) => 'accept')
 * net.joinRoom('main')
 * await net.start()
 * await net.publish('main', bytes)
 * ```
 */
export {
  Network,
  dialableAddrs,
  type NetworkInit,
  type NetworkEvents,
  type MessageHandler,
  type Verdict,
  type ConnectVia,
  type PeerSummary
} from './network.js'
export { roomTopic, topicRoom, mdnsServiceTag, shortPeerId, HELLO_PROTOCOL, SYNC_PROTOCOL } from './topics.js'
export {
  encodeSyncFrame,
  decodeSyncFrame,
  DEFAULT_MAX_SYNC_REQUEST_BYTES,
  DEFAULT_MAX_SYNC_RESPONSE_BYTES,
  DEFAULT_SYNC_TIMEOUT,
  type SyncHandler,
  type SyncProtocolInit
} from './sync-protocol.js'
export type { ConnectorInit, DialReason } from './connector.js'
export type { HealthInit } from './health.js'
