/**
 * Test authors: a fresh Ed25519 identity with a signer, and a way to build a signed message with
 * any fields, so tests can make valid messages and then spoil exactly one thing.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createSigner, type ChatMessage, type MessageSigner, type UnsignedMessage } from '../../src/chat/index.js'

export interface TestAuthor {
  peerId: string
  signer: MessageSigner
  /** A signed message; fields default to a valid one in room `main`. */
  message: (fields?: Partial<UnsignedMessage>) => ChatMessage
}

export async function createAuthor(nick = 'tester'): Promise<TestAuthor> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  const signer = createSigner(privateKey, peerId)
  let seq = 0
  return {
    peerId,
    signer,
    message: (fields = {}) => {
      seq++
      return signer.sign({ room: 'main', from: peerId, nick, text: `hello ${seq}`, ts: 1_700_000_000_000 + seq, lc: 0, seq, ...fields })
    }
  }
}

/** The message as JSON bytes with some fields replaced (or removed with `undefined`), unsigned again. */
export function tampered(m: ChatMessage, changes: Record<string, unknown>): Uint8Array {
  const o: Record<string, unknown> = { ...m, ...changes }
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete o[k]
  return Buffer.from(JSON.stringify(o), 'utf8')
}
