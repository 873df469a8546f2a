/**
 * Signing and verifying chat messages with Ed25519, using node:crypto key objects that are built
 * once per key (importing a key per verification is the largest cost of naive verification).
 *
 * Live messages are verified synchronously (gossipsub needs a verdict at once). History sync
 * verifies thousands at a time, which made a 10,000-message sync spend most of its time in
 * verification on the one JavaScript thread: `verifyMany` sends them to worker threads
 * (verify-pool.ts), so other cores do it.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { InvalidMessageError, InvalidOptionError } from '../errors.js'
import { canonicalBytes, messageId, MESSAGE_VERSION, type ChatMessage, type UnsignedMessage } from './message.js'
import { createVerifyPool, type VerifyJob, type VerifyPoolInit } from './verify-pool.js'

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
/** Authors whose public key is kept ready for verification. */
export const DEFAULT_KEY_CACHE_SIZE = 1024
/**
 * `verifyMany` of fewer messages than this stays on the calling thread unless the workers are
 * already running (`warm`): starting a worker costs more than checking a small catch-up here.
 */
export const DEFAULT_MIN_FOR_POOL = 128

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
  /** Worker threads for `verifyMany` (history sync); see verify-pool.ts. */
  pool?: VerifyPoolInit
  /** `verifyMany` checks fewer messages than this on the calling thread, unless the workers run already. */
  minForPool?: number
}

export interface MessageVerifier {
  /** Throws InvalidMessageError(`bad-signature` | `bad-author`) unless the author signed exactly this message. */
  verify: (m: ChatMessage) => void
  /**
   * The same check for many messages, on worker threads: for each message, undefined if its
   * author signed exactly it, else the InvalidMessageError. Rejects only with NotStartedError
   * after close().
   */
  verifyMany: (messages: ChatMessage[]) => Promise<Array<InvalidMessageError | undefined>>
  /** Starts the worker threads ahead of a large `verifyMany`. */
  warm: () => void
  /** Ends the worker threads. */
  close: () => Promise<void>
}

function badSignature(): InvalidMessageError {
  return new InvalidMessageError('bad-signature', 'message signature does not match its author')
}

interface AuthorKey {
  key: KeyObject
  raw: Uint8Array
}

export function createVerifier(init: MessageVerifierInit = {}): MessageVerifier {
  const cacheSize = init.keyCacheSize ?? DEFAULT_KEY_CACHE_SIZE
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new InvalidOptionError('keyCacheSize must be a positive integer')
  const minForPool = init.minForPool ?? DEFAULT_MIN_FOR_POOL
  if (!Number.isInteger(minForPool) || minForPool < 0) throw new InvalidOptionError('minForPool must be an integer ≥ 0')
  const pool = createVerifyPool(init.pool)
  const keys = new Map<string, AuthorKey>()

  function keyFor(author: string): AuthorKey {
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
    const entry = { key, raw }
    keys.set(author, entry)
    return entry
  }

  function verifyOne(m: ChatMessage): void {
    const ok = verify(null, canonicalBytes(m), keyFor(m.from).key, Buffer.from(m.sig, 'base64url'))
    if (!ok) throw badSignature()
  }

  return {
    verify: verifyOne,
    async verifyMany(messages) {
      const out: Array<InvalidMessageError | undefined> = []
      if (messages.length < minForPool && pool.threads() === 0) {
        for (const m of messages) {
          try {
            verifyOne(m)
            out.push(undefined)
          } catch (err) {
            if (!(err instanceof InvalidMessageError)) throw err
            out.push(err)
          }
        }
        return out
      }
      const jobs: VerifyJob[] = []
      const index: number[] = []
      for (const [i, m] of messages.entries()) {
        try {
          jobs.push({ data: canonicalBytes(m), signature: Buffer.from(m.sig, 'base64url'), publicKey: keyFor(m.from).raw })
          index.push(i)
          out.push(undefined)
        } catch (err) {
          if (!(err instanceof InvalidMessageError)) throw err
          out.push(err)
        }
      }
      const ok = await pool.verify(jobs)
      ok.forEach((valid, k) => {
        if (!valid) out[index[k]] = badSignature()
      })
      return out
    },
    warm: pool.warm,
    close: pool.close
  }
}
