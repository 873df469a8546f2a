/**
 * gossipsub settings for a LAN, where the benchmark (bench/, README "Benchmarks") shows the
 * defaults spend much of their time on copies nobody needs.
 *
 * On a LAN every node dials every node it finds, and gossipsub's flood publish sends each new
 * message straight to every peer in the room. Relays by mesh peers then only add duplicates, so a
 * node relays only when one of its mesh peers is not among the author's recipients (relay-hint.ts).
 * The mesh is what carries messages where the room is not fully connected: a node grafts only one
 * or two peers itself (D, Dlo), but accepts as many grafts as the default before pruning (Dhi), so
 * a hub that every `--peer` node dialed keeps all of them in its mesh and relays to each. IHAVE
 * gossip goes to 2 peers, for the last heartbeat's messages; history sync covers the rest.
 */

/** Mesh degree and its bounds (gossipsub requires Dout < Dlo ≤ D ≤ Dhi, Dout ≤ D/2, Dscore ≤ D). */
export const LAN_MESH_D = 2
export const LAN_MESH_DLO = 1
/** gossipsub's default: prune only above 12 mesh peers. */
export const LAN_MESH_DHI = 12
/** Outbound-connection quota in the mesh (an eclipse defence for the open internet; 0 on a LAN). */
export const LAN_MESH_DOUT = 0
export const LAN_MESH_DSCORE = 1
/** Peers outside the mesh that get IHAVE gossip each heartbeat (a share of them, at least this many). */
export const LAN_GOSSIP_DLAZY = 2
export const LAN_GOSSIP_FACTOR = 0.1
/**
 * Heartbeats a message stays in gossipsub's message cache, to answer IWANT (default 5), and of
 * those, how many are announced in IHAVE gossip (default 3). Every entry holds the message with a
 * Set and a Map of its own: at 3,200 messages a second (the benchmark's top rate at N=2) five
 * seconds of them were 3–6 MB of a node's peak memory. A peer that misses a message on a LAN is
 * one hop away and asks within a heartbeat; later than that, history sync brings it.
 */
export const LAN_MCACHE_LENGTH = 2
export const LAN_MCACHE_GOSSIP = 1

/**
 * gossipsub 1.2's IDONTWANT: a node that receives a message of at least this many bytes tells each
 * of its mesh peers, one control frame per peer, not to send it that message. On a LAN the author
 * sends each message to every peer itself, and mesh peers relay only when the relay hint says
 * someone missed it (relay-hint.ts), so there is nothing to stop: every IDONTWANT was a frame
 * encrypted, written, read and decrypted for nothing. With gossipsub's default (512 bytes) a room
 * message crossed the threshold once its hint named about 30 recipients, and at N=40 sending
 * IDONTWANTs was 17 % of the nodes' CPU while everyone sent (CPU profiles of 10 of the benchmark's
 * 41 nodes). Never sending them, `bench --n 40 --only lan-chat`, two pairs: CPU per 1,000
 * delivered 1397 / 1337 → 936 / 968 ms, everyone-sending p99 907 / 969 → 679 / 733 ms.
 */
export const LAN_IDONTWANT_MIN_DATA_SIZE = Number.POSITIVE_INFINITY

/**
 * gossipsub's key for a message ID in its caches (seen for 2 minutes, message cache, IWANT
 * tracking): the ID in base64, through Buffer's native encoder. gossipsub's default appends one
 * character per 6 bits in JavaScript (3 % of the bytes a node allocated under load, two nodes
 * exchanging 1,600 messages a second) and then cuts off a prefix, which kept a 32-byte slice and
 * its 64-byte parent string per message in the seen cache; this is one flat 64-byte string. Only
 * this node sees these keys; peers exchange the ID's bytes.
 */
export function messageIdToString(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64')
}

export interface LanGossipOptions {
  D: number
  Dlo: number
  Dhi: number
  Dout: number
  Dscore: number
  Dlazy: number
  gossipFactor: number
  mcacheLength: number
  mcacheGossip: number
  idontwantMinDataSize: number
  msgIdToStrFn: (id: Uint8Array) => string
}

/** The gossipsub options above, to spread into `gossipsub({...})`. */
export function lanGossipOptions(): LanGossipOptions {
  return {
    D: LAN_MESH_D,
    Dlo: LAN_MESH_DLO,
    Dhi: LAN_MESH_DHI,
    Dout: LAN_MESH_DOUT,
    Dscore: LAN_MESH_DSCORE,
    Dlazy: LAN_GOSSIP_DLAZY,
    gossipFactor: LAN_GOSSIP_FACTOR,
    mcacheLength: LAN_MCACHE_LENGTH,
    mcacheGossip: LAN_MCACHE_GOSSIP,
    idontwantMinDataSize: LAN_IDONTWANT_MIN_DATA_SIZE,
    msgIdToStrFn: messageIdToString
  }
}
