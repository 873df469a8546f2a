/**
 * Signing and verifying chat messages with Ed25519, using node:crypto key objects that are built
 * once per key (importing a key per verification is the largest cost of naive verification).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { InvalidMessageError, InvalidOptionError } from '../errors.js'
import { canonicalBytes, messageId, MESSAGE_VERSION, type ChatMessage, type UnsignedMessage } from './message.js'

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
/** Authors whose public key is kept ready for verification. */
export const DEFAULT_KEY_CACHE_SIZE = 1024

export interface MessageSigner {
  /** The author's peer ID as a string. */
  readonly author: string
  sign: (m: UnsignedMessage) => ChatMessage
}

/** Makes a signer from the node's libp2p Ed25519 private key. */
export function createSigner(privateKey: PrivateKey, author: string): MessageSigner {
  if (privateKey.type !== 'Ed25519') throw new InvalidOptionError('LAN Chat needs an Ed25519 identity key')
  const seed = privateKey.raw.subarray(0, 32)
  const keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  return {
    author,
    sign(m: UnsignedMessage): ChatMessage {
      const bytes = canonicalBytes(m)
      const sig = sign(null, bytes, keyObject).toString('base64url')
      return {
        v: MESSAGE_VERSION,
        id: messageId(bytes),
        room: m.room,
        from: m.from,
        nick: m.nick,
        text: m.text,
        ts: m.ts,
        lc: m.lc,
        seq: m.seq,
        sig
      }
    }
  }
}

export interface MessageVerifierInit {
  /** How many authors' keys to keep imported. */
  keyCacheSize?: number
}

export interface MessageVerifier {
  /** Throws InvalidMessageError(`bad-signature` | `bad-author`) unless the author signed exactly this message. */
  verify: (m: ChatMessage) => void
}

export function createVerifier(init: MessageVerifierInit = {}): MessageVerifier {
  const cacheSize = init.keyCacheSize ?? DEFAULT_KEY_CACHE_SIZE
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new InvalidOptionError('keyCacheSize must be a positive integer')
  const keys = new Map<string, KeyObject>()

  function keyFor(author: string): KeyObject {
    const cached = keys.get(author)
    if (cached != null) return cached
    let raw: Uint8Array | undefined
    try {
      const peerId = peerIdFromString(author)
      if (peerId.type === 'Ed25519') raw = peerId.publicKey.raw
    } catch {}
    if (raw == null) throw new InvalidMessageError('bad-author', 'message author is not an Ed25519 peer ID')
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' })
    if (keys.size >= cacheSize) keys.delete(keys.keys().next().value as string)
    keys.set(author, key)
    return key
  }

  return {
    verify(m: ChatMessage): void {
      const key = keyFor(m.from)
      const ok = verify(null, canonicalBytes(m), key, Buffer.from(m.sig, 'base64url'))
      if (!ok) throw new InvalidMessageError('bad-signature', 'message signature does not match its author')
    }
  }
}
