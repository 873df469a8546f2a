/**
 * Who already has a room message: the relay hint, and the decision to relay. Pure.
 *
 * gossipsub's flood publish sends each new message straight to every peer in the room, and on a
 * LAN every node is connected to every node it finds. Every relay by a mesh peer then only adds
 * a copy that each receiver decrypts, decodes, hashes and drops: the benchmark counted 2.6
 * copies per delivered message at N=10, and relays were about a third of a node's CPU per message.
 * Relays still matter where the room is not fully connected (nodes that only `--peer` a hub, a
 * node still connecting, a broken link), so they are not turned off: the author says whom it sent
 * the message to, and a node relays only if one of its mesh peers is not on that list.
 *
 * On the wire, a room message on gossipsub is the signed chat message (JSON), then a NUL byte,
 * then a 4-byte fingerprint of each peer the author sent it to, itself included. JSON never
 * contains a raw NUL, so the split is unambiguous. The hint is not signed: a peer that lies in it
 * can only keep a message from peers that relied on it for relays, which it could do anyway by not
 * relaying; missed messages come back through history sync (a gap in an author's seq, or the next
 * periodic round).
 */

const SEPARATOR = 0x00
const FINGERPRINT_BYTES = 4
/** Above this many recipients the hint is left out and every node relays as gossipsub does. */
export const MAX_HINT_PEERS = 256

export interface RoomFrame {
  /** The signed chat message. */
  payload: Uint8Array
  /** Fingerprints of the peers the author sent it to, or undefined if the frame has no valid hint. */
  hint?: Set<number>
}

/** A 32-bit FNV-1a hash of a peer ID string: short, and cheap to compute for each mesh peer. */
export function fingerprint(peerId: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < peerId.length; i++) {
    h ^= peerId.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The payload followed by the hint; the payload alone when there are too many recipients. */
export function encodeRoomFrame(payload: Uint8Array, recipients: readonly number[]): Uint8Array {
  if (recipients.length === 0 || recipients.length > MAX_HINT_PEERS) return payload
  const out = new Uint8Array(payload.byteLength + 1 + recipients.length * FINGERPRINT_BYTES)
  out.set(payload, 0)
  out[payload.byteLength] = SEPARATOR
  const view = new DataView(out.buffer, out.byteOffset + payload.byteLength + 1)
  recipients.forEach((fp, i) => {
    view.setUint32(i * FINGERPRINT_BYTES, fp)
  })
  return out
}

/** Splits a frame; a frame without a well-formed hint is all payload, with no hint. */
export function decodeRoomFrame(data: Uint8Array): RoomFrame {
  const at = data.indexOf(SEPARATOR)
  if (at < 0) return { payload: data }
  const payload = data.subarray(0, at)
  const rest = data.byteLength - at - 1
  if (rest === 0 || rest % FINGERPRINT_BYTES !== 0 || rest / FINGERPRINT_BYTES > MAX_HINT_PEERS) return { payload }
  const view = new DataView(data.buffer, data.byteOffset + at + 1, rest)
  const hint = new Set<number>()
  for (let i = 0; i < rest; i += FINGERPRINT_BYTES) hint.add(view.getUint32(i))
  return { payload, hint }
}

/**
 * Whether a node should relay a message it received from `source`: yes if any of its mesh peers
 * other than the source is not among the author's recipients, or if there is no hint.
 */
export function needsRelay(
  meshPeers: Iterable<string>,
  source: string,
  hint: ReadonlySet<number> | undefined,
  fingerprintOf: (peerId: string) => number = fingerprint
): boolean {
  if (hint == null) return true
  for (const peer of meshPeers) {
    if (peer !== source && !hint.has(fingerprintOf(peer))) return true
  }
  return false
}
