/** Signatures: an author's message verifies; any change or another author's key does not. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createSigner, createVerifier } from '../../../src/chat/signature.js'
import { canonicalBytes, decodeMessage, messageId, type ChatMessage } from '../../../src/chat/message.js'
import { InvalidMessageError, InvalidOptionError, NotStartedError } from '../../../src/errors.js'
import { createAuthor, tampered } from '../../helpers/signed.js'

const alice = await createAuthor('alice')
const bob = await createAuthor('bob')

function rejection(m: ChatMessage): string {
  const verifier = createVerifier()
  try {
    verifier.verify(decodeMessage(Buffer.from(JSON.stringify(m))))
  } catch (err) {
    assert.ok(err instanceof InvalidMessageError, String(err))
    return err.reason
  }
  return 'accepted'
}

/** Changes a field and recomputes the ID, as a forger would, keeping the old signature. */
function forged(m: ChatMessage, change: Partial<ChatMessage>): ChatMessage {
  const f = { ...m, ...change }
  return { ...f, id: messageId(canonicalBytes(f)) }
}

void test('a signed message verifies, and again from the cached key', () => {
  const verifier = createVerifier()
  const m = alice.message({ text: 'signed' })
  verifier.verify(m)
  verifier.verify(alice.message())
  assert.equal(rejection(m), 'accepted')
})

void test('tampered text, nick or seq is refused as bad-id, or bad-signature when the ID is recomputed', () => {
  const m = alice.message()
  for (const change of [{ text: 'changed' }, { nick: 'mallory' }, { seq: m.seq + 5 }] as Array<Partial<ChatMessage>>) {
    assert.throws(
      () => decodeMessage(tampered(m, change)),
      (e: unknown) => e instanceof InvalidMessageError && e.reason === 'bad-id'
    )
    assert.equal(rejection(forged(m, change)), 'bad-signature', JSON.stringify(change))
  }
})

void test('a message whose author is swapped for another peer does not verify', () => {
  const m = alice.message()
  assert.equal(rejection(forged(m, { from: bob.peerId })), 'bad-signature')
})

void test('a signature from another message does not verify', () => {
  const m = alice.message()
  const other = alice.message()
  assert.equal(rejection({ ...m, sig: other.sig }), 'bad-signature')
})

void test('an author ID that is not an Ed25519 peer ID is bad-author', () => {
  const verifier = createVerifier()
  const m = forged(alice.message(), { from: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' })
  assert.throws(
    () => {
      verifier.verify(m)
    },
    (e: unknown) => e instanceof InvalidMessageError && e.reason === 'bad-author'
  )
})

void test('the verifier keeps working when its key cache is full', () => {
  const verifier = createVerifier({ keyCacheSize: 1 })
  verifier.verify(alice.message())
  verifier.verify(bob.message())
  verifier.verify(alice.message())
  assert.throws(
    () => {
      verifier.verify(forged(alice.message(), { text: 'x' }))
    },
    (e: unknown) => e instanceof InvalidMessageError && e.reason === 'bad-signature'
  )
})

void test('bad options and non-Ed25519 keys are refused', async () => {
  assert.throws(() => createVerifier({ keyCacheSize: 0 }), InvalidOptionError)
  assert.throws(() => createVerifier({ minForPool: -1 }), InvalidOptionError)
  const secp = await generateKeyPair('secp256k1')
  assert.throws(() => createSigner(secp, 'x'), InvalidOptionError)
})

void test('verifyMany gives each message the verdict verify gives it, on worker threads and below their threshold', async t => {
  const verifier = createVerifier({ minForPool: 4 })
  t.after(async () => {
    await verifier.close()
  })
  const good = [alice.message(), bob.message(), alice.message()]
  const badSig = { ...alice.message(), sig: bob.message().sig }
  const badAuthor = forged(alice.message(), { from: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' })
  const swapped = forged(bob.message(), { from: alice.peerId })
  const batch = [good[0], badSig, good[1], badAuthor, swapped, good[2]]
  // Two messages stay on this thread; six go to the workers (and then anything does, while they run).
  for (const messages of [batch.slice(0, 2), batch, batch.slice(0, 2)]) {
    const verdicts = await verifier.verifyMany(messages)
    assert.deepEqual(
      verdicts.map(e => (e == null ? 'ok' : e instanceof InvalidMessageError ? e.reason : String(e))),
      messages.map(m => rejection(m).replace('accepted', 'ok'))
    )
  }
  assert.deepEqual(
    (await verifier.verifyMany(batch)).map(e => e?.reason ?? 'ok'),
    ['ok', 'bad-signature', 'ok', 'bad-author', 'bad-signature', 'ok']
  )
})

void test('a verifier closed while verifying refuses, and verifies again when asked', async () => {
  const verifier = createVerifier({ minForPool: 1, pool: { threads: 1, chunk: 1 } })
  const refused = assert.rejects(verifier.verifyMany([alice.message(), alice.message(), alice.message()]), NotStartedError)
  await verifier.close()
  await refused
  assert.deepEqual(await verifier.verifyMany([alice.message()]), [undefined])
  await verifier.close()
})
