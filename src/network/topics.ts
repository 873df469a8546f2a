/**
 * Names on the wire: the gossipsub topic of a room, the mDNS service tag of a rendezvous, and our
 * protocol IDs. Pure.
 */

const TOPIC_PREFIX = 'lan-chat/room/'
/** v2: room messages carry a relay hint after the signed message (relay-hint.ts). */
const TOPIC_SUFFIX = '/v2'

export const HELLO_PROTOCOL = '/lan-chat/hello/1.0.0'
/** History sync: summaries and batches of a room's messages (network/sync-protocol.ts). */
export const SYNC_PROTOCOL = '/lan-chat/sync/1.0.0'

export function roomTopic(room: string): string {
  return `${TOPIC_PREFIX}${room}${TOPIC_SUFFIX}`
}

/** The room of a topic, or undefined if the topic is not a LAN Chat room. */
export function topicRoom(topic: string): string | undefined {
  if (!topic.startsWith(TOPIC_PREFIX) || !topic.endsWith(TOPIC_SUFFIX)) return undefined
  const room = topic.slice(TOPIC_PREFIX.length, topic.length - TOPIC_SUFFIX.length)
  return room.length > 0 ? room : undefined
}

/**
 * The mDNS service name for a rendezvous tag. App-specific, so LAN Chat never finds other libp2p
 * apps, and per tag, so nodes with another tag never even see each other.
 */
export function mdnsServiceTag(rendezvous: string): string {
  return `_lanchat-${rendezvous.toLowerCase()}._udp.local`
}

/** A short, readable form of a peer ID: its last 8 characters. */
export function shortPeerId(peerId: string): string {
  return peerId.length <= 10 ? peerId : `…${peerId.slice(-8)}`
}
