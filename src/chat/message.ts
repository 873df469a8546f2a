/**
 * The chat message format: what travels on the wire, what chat.log stores, and what history sync
 * relays. Pure functions: encode, decode (shape and limits), canonical bytes and the message ID.
 * Signing and verification live in `signature.ts`.
 *
 * A message is a JSON object. The author signs the canonical bytes of every field but `id` and
 * `sig`; the ID is derived from the same bytes, so any peer can relay a message and any receiver
 * can check that nobody changed it on the way.
 */
import { createHash } from 'node:crypto'
import { InvalidMessageError } from '../errors.js'
import { MAX_TEXT_BYTES, checkText, isValidNick, isValidRoom } from '../rules.js'

export const MESSAGE_VERSION = 1
/** Largest encoded message accepted from the network or chat.log, in bytes. */
export const MAX_MESSAGE_BYTES = MAX_TEXT_BYTES + 8 * 1024
/** Hex characters of the message ID (128 bits). */
export const MESSAGE_ID_LENGTH = 32

const SIGNING_DOMAIN = 'lan-chat/message/v1\n'
const FIELDS = ['v', 'id', 'room', 'from', 'nick', 'text', 'ts', 'lc', 'seq', 'sig'] as const
const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/
const SIG_PATTERN = /^[A-Za-z0-9_-]{80,200}$/
const MAX_LOGICAL = 0x7fffffff

/** A signed chat message. */
export interface ChatMessage {
  v: typeof MESSAGE_VERSION
  /** Hex SHA-256 of the canonical bytes, first 128 bits. */
  id: string
  room: string
  /** Author's peer ID (Ed25519, so it carries the public key). */
  from: string
  nick: string
  text: string
  /** Hybrid logical clock: wall-clock milliseconds part. */
  ts: number
  /** Hybrid logical clock: logical counter part. */
  lc: number
  /** Per-author sequence number, from 1. */
  seq: number
  /** Base64url Ed25519 signature over the canonical bytes. */
  sig: string
}

/** The fields an author fills in before signing. */
export type UnsignedMessage = Omit<ChatMessage, 'id' | 'sig' | 'v'>

/** The bytes an author signs and the ID is derived from. */
export function canonicalBytes(m: UnsignedMessage): Buffer {
  return Buffer.from(SIGNING_DOMAIN + JSON.stringify([MESSAGE_VERSION, m.room, m.from, m.nick, m.text, m.ts, m.lc, m.seq]), 'utf8')
}

export function messageId(canonical: Uint8Array): string {
  return createHash('sha256').update(canonical).digest('hex').slice(0, MESSAGE_ID_LENGTH)
}

/** Serialises a message with a fixed key order. */
export function encodeMessage(m: ChatMessage): Uint8Array {
  return Buffer.from(JSON.stringify(toRecord(m)), 'utf8')
}

export function toRecord(m: ChatMessage): ChatMessage {
  return { v: m.v, id: m.id, room: m.room, from: m.from, nick: m.nick, text: m.text, ts: m.ts, lc: m.lc, seq: m.seq, sig: m.sig }
}

function fail(reason: string, message: string): never {
  throw new InvalidMessageError(reason, message)
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
}

/** Decodes bytes from the network. Checks size, JSON and shape; not the signature. */
export function decodeMessage(bytes: Uint8Array): ChatMessage {
  if (bytes.byteLength > MAX_MESSAGE_BYTES) fail('too-large', `message is ${bytes.byteLength} bytes; the limit is ${MAX_MESSAGE_BYTES}`)
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch {
    fail('malformed', 'message is not JSON')
  }
  return checkShape(value)
}

/**
 * Checks that a parsed value is a well-formed message whose ID matches its content.
 * Used for network input and for chat.log lines.
 */
export function checkShape(value: unknown): ChatMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('malformed', 'message is not an object')
  const o = value as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length !== FIELDS.length || !FIELDS.every(f => Object.hasOwn(o, f)))
    fail('malformed', `message must have exactly the fields ${FIELDS.join(', ')}`)
  if (o.v !== MESSAGE_VERSION) fail('unsupported-version', `message version ${String(o.v)} is not supported`)
  if (typeof o.room !== 'string' || !isValidRoom(o.room)) fail('bad-room', 'message room is not a valid room name')
  if (typeof o.from !== 'string' || !PEER_ID_PATTERN.test(o.from)) fail('bad-author', 'message author is not a peer ID')
  if (typeof o.nick !== 'string' || !isValidNick(o.nick)) fail('bad-nick', 'message nick is empty, too long or has control characters')
  if (typeof o.text !== 'string') fail('bad-text', 'message text is not a string')
  try {
    checkText(o.text)
  } catch (err) {
    fail('bad-text', (err as Error).message)
  }
  if (!isInt(o.ts, 0, 8.64e15)) fail('bad-time', 'message time is not a valid timestamp')
  if (!isInt(o.lc, 0, MAX_LOGICAL)) fail('bad-time', 'message logical clock is out of range')
  if (!isInt(o.seq, 1, Number.MAX_SAFE_INTEGER)) fail('bad-seq', 'message sequence number is out of range')
  if (typeof o.sig !== 'string' || !SIG_PATTERN.test(o.sig)) fail('bad-signature', 'message signature is missing or malformed')
  if (typeof o.id !== 'string') fail('bad-id', 'message ID is not a string')
  const m = o as unknown as ChatMessage
  if (messageId(canonicalBytes(m)) !== m.id) fail('bad-id', 'message ID does not match its content')
  return m
}

/** Total order of a room's history: hybrid logical time, then ID. Same on every node. */
export function compareMessages(a: Pick<ChatMessage, 'ts' | 'lc' | 'id'>, b: Pick<ChatMessage, 'ts' | 'lc' | 'id'>): number {
  if (a.ts !== b.ts) return a.ts - b.ts
  if (a.lc !== b.lc) return a.lc - b.lc
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
