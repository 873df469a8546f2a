import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { pureJsCrypto } from '@libp2p/noise'
import { Uint8ArrayList } from 'uint8arraylist'
import { createNodeNoiseCrypto } from '../../../src/network/noise-crypto.js'

const nodeNoiseCrypto = createNodeNoiseCrypto()

// pureJsCrypto (@noble) is the library's reference implementation: same inputs, same bytes.
const bytes = (x: Uint8Array | Uint8ArrayList): Uint8Array => (x instanceof Uint8Array ? Uint8Array.from(x) : x.subarray())

void test('SHA-256 and HKDF give the same bytes as the library’s pure-JS implementation', () => {
  for (const size of [0, 1, 32, 200, 5_000]) {
    const data = randomBytes(size)
    assert.deepEqual(bytes(nodeNoiseCrypto.hashSHA256(data)), bytes(pureJsCrypto.hashSHA256(data)))
    assert.deepEqual(
      bytes(nodeNoiseCrypto.hashSHA256(new Uint8ArrayList(data.subarray(0, 7), data.subarray(7)))),
      bytes(pureJsCrypto.hashSHA256(data))
    )
  }
  const ck = randomBytes(32)
  const ikm = randomBytes(32)
  assert.deepEqual(nodeNoiseCrypto.getHKDF(ck, ikm).map(bytes), pureJsCrypto.getHKDF(ck, ikm).map(bytes))
})

void test('X25519 keys and shared secrets agree with the library’s pure-JS implementation', () => {
  const seed = randomBytes(32)
  const fromSeed = nodeNoiseCrypto.generateX25519KeyPairFromSeed(seed)
  assert.deepEqual(bytes(fromSeed.publicKey), bytes(pureJsCrypto.generateX25519KeyPairFromSeed(seed).publicKey))

  const ours = nodeNoiseCrypto.generateX25519KeyPair()
  const theirs = pureJsCrypto.generateX25519KeyPair()
  assert.equal(ours.publicKey.byteLength, 32)
  assert.equal(ours.privateKey.byteLength, 32)
  const a = nodeNoiseCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)
  const b = pureJsCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey)
  assert.deepEqual(bytes(a), bytes(b))
  assert.deepEqual(
    bytes(nodeNoiseCrypto.generateX25519SharedKey(new Uint8ArrayList(ours.privateKey), new Uint8ArrayList(theirs.publicKey))),
    bytes(b)
  )
})

void test('ChaCha20-Poly1305 frames open on the other implementation, both ways, and a changed byte is refused', () => {
  const k = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = randomBytes(32)
  for (const size of [0, 1, 100, 1_199, 1_200, 65_519]) {
    const plaintext = randomBytes(size)
    const sealed = nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    assert.deepEqual(bytes(sealed), bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)))
    assert.deepEqual(bytes(pureJsCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k)), Uint8Array.from(plaintext))
    const theirs = bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
    assert.deepEqual(bytes(nodeNoiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k)), Uint8Array.from(plaintext))
    // A frame that arrived in pieces.
    const pieces = new Uint8ArrayList(theirs.subarray(0, size >> 1), theirs.subarray(size >> 1))
    assert.deepEqual(bytes(nodeNoiseCrypto.chaCha20Poly1305Decrypt(pieces, nonce, ad, k)), Uint8Array.from(plaintext))
    assert.deepEqual(
      bytes(nodeNoiseCrypto.chaCha20Poly1305Encrypt(new Uint8ArrayList(plaintext.subarray(0, 3), plaintext.subarray(3)), nonce, ad, k)),
      theirs
    )

    const tampered = Uint8Array.from(theirs)
    tampered[tampered.length >> 1] ^= 1
    assert.throws(() => nodeNoiseCrypto.chaCha20Poly1305Decrypt(tampered, nonce, ad, k))
  }
})

void test('a private key is used again from the cache only while its bytes are unchanged', () => {
  const crypto = createNodeNoiseCrypto()
  const ours = crypto.generateX25519KeyPair()
  const theirs = pureJsCrypto.generateX25519KeyPair()
  const expected = bytes(pureJsCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey))
  assert.deepEqual(bytes(crypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)), expected)
  assert.deepEqual(bytes(crypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)), expected, 'the same array again')
  // The same array, now holding another key: the secret is that key's, not the cached one's.
  const other = pureJsCrypto.generateX25519KeyPair()
  ours.privateKey.set(other.privateKey)
  assert.deepEqual(
    bytes(crypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)),
    bytes(pureJsCrypto.generateX25519SharedKey(theirs.privateKey, other.publicKey))
  )
  // A seed's key, used twice.
  const seed = randomBytes(32)
  const fromSeed = crypto.generateX25519KeyPairFromSeed(seed)
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(
      bytes(crypto.generateX25519SharedKey(fromSeed.privateKey, theirs.publicKey)),
      bytes(pureJsCrypto.generateX25519SharedKey(theirs.privateKey, fromSeed.publicKey))
    )
  }
})

void test('making many key pairs never hangs the process (Node 20 deadlocks exporting a freshly generated key object)', () => {
  // A child that collects garbage every few allocations (and shifts where they fall), so that
  // collections land inside key generation: exporting the key objects generateKeyPairSync returns
  // hung this loop in 8 runs of 8. Done right it takes about 3 s.
  const module = new URL('../../../src/network/noise-crypto.ts', import.meta.url).href
  const script = `const { createNodeNoiseCrypto } = await import(${JSON.stringify(module)})
const crypto = createNodeNoiseCrypto()
let shift = []
for (let i = 0; i < 40000; i++) {
  crypto.generateX25519KeyPair()
  if (i % 500 === 0) shift = new Array(i % 7).fill({})
}
console.log('made', shift.length)`
  const run = spawnSync(
    process.execPath,
    ['--max-semi-space-size=1', '--gc-interval=10', '--import', 'tsx', '--input-type=module', '--eval', script],
    { encoding: 'utf8', timeout: 60_000 }
  )
  assert.equal(run.signal, null, `the child hung and was killed (${run.signal}); stderr: ${run.stderr}`)
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /^made/)
})
