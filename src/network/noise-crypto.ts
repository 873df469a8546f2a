/**
 * The Noise handshake's and channel's crypto (X25519, HKDF-SHA256, ChaCha20-Poly1305) on
 * node:crypto alone, handed to `noise({ crypto })` in node.ts.
 *
 * Why not @libp2p/noise's default: for frames under 1,200 bytes (nearly all of a chat node's
 * traffic) it encrypts with two WebAssembly modules (@chainsafe/as-chacha20poly1305 and
 * as-sha256), which it instantiates as soon as it is imported. Those cost every node about 3 MB of
 * RSS: their memories and compiled code, and the pages of V8's WebAssembly compilers in the node
 * binary (measured with 2 nodes in namespaces, 15 s after start: 61.1 → 58.1 MB, RssFile −1 MB,
 * RssAnon −2 MB; later, 2 runs each: 60.9/61.3 → 56.3/56.9 MB). node:crypto's ChaCha20-Poly1305 is
 * OpenSSL's, already in the process. It costs more per small frame: an encrypt and decrypt of 64
 * bytes takes 8 µs against the WebAssembly's 4 (300 bytes: 11.8 against 8.7 µs).
 * The bundle (scripts/bundle.mjs, scripts/noise-node-crypto.mjs) also leaves the WebAssembly
 * modules out, so they are never instantiated.
 *
 * Same algorithms, same bytes on the wire as every other Noise implementation:
 * test/unit/network/noise-crypto.test.ts checks each function against the library's pure-JS one.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync
} from 'node:crypto'
import type { ICryptoInterface } from '@libp2p/noise'
import type { Uint8ArrayList } from 'uint8arraylist'

const CHACHA_POLY1305 = 'chacha20-poly1305'
const TAG_BYTES = 16
const HKDF_OUTPUT_BYTES = 96
const EMPTY = new Uint8Array(0)
/** DER prefixes that wrap a raw 32-byte X25519 key as PKCS#8 (private) and SPKI (public). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

type Bytes = Uint8Array | Uint8ArrayList

/** The parts of `data`, without copying a Uint8ArrayList into one buffer. */
function parts(data: Bytes): Iterable<Uint8Array> {
  return data instanceof Uint8Array ? [data] : data
}

function flat(data: Bytes): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

function privateKeyObject(raw: Bytes): ReturnType<typeof createPrivateKey> {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, flat(raw)]), format: 'der', type: 'pkcs8' })
}

function publicKeyObject(raw: Bytes): ReturnType<typeof createPublicKey> {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, flat(raw)]), format: 'der', type: 'spki' })
}

/** Noise's crypto on node:crypto; plain functions (noise calls them unbound). */
export const nodeNoiseCrypto: ICryptoInterface = {
  hashSHA256(data) {
    const hash = createHash('sha256')
    for (const part of parts(data)) hash.update(part)
    return hash.digest()
  },

  getHKDF(ck, ikm) {
    // HKDF-Extract with the chaining key as salt, then Expand with empty info: Noise's HKDF.
    const okm = new Uint8Array(hkdfSync('sha256', ikm, ck, EMPTY, HKDF_OUTPUT_BYTES))
    return [okm.subarray(0, 32), okm.subarray(32, 64), okm.subarray(64, 96)]
  },

  generateX25519KeyPair() {
    const { publicKey, privateKey } = generateKeyPairSync('x25519', {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' }
    })
    return { publicKey: publicKey.subarray(SPKI_PREFIX.length), privateKey: privateKey.subarray(PKCS8_PREFIX.length) }
  },

  generateX25519KeyPairFromSeed(seed) {
    const publicKey = createPublicKey(privateKeyObject(seed)).export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX.length)
    return { publicKey, privateKey: seed }
  },

  generateX25519SharedKey(privateKey, publicKey) {
    return diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) })
  },

  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    const cipher = createCipheriv(CHACHA_POLY1305, k, nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const out: Uint8Array[] = []
    for (const part of parts(plaintext)) out.push(cipher.update(part))
    out.push(cipher.final(), cipher.getAuthTag())
    return Buffer.concat(out, plaintext.byteLength + TAG_BYTES)
  },

  // `dst` (room the caller offers for the plaintext) is left unused: node:crypto always allocates.
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k) {
    const length = ciphertext.byteLength - TAG_BYTES
    const decipher = createDecipheriv(CHACHA_POLY1305, k, nonce, { authTagLength: TAG_BYTES })
    decipher.setAAD(ad, { plaintextLength: length })
    decipher.setAuthTag(ciphertext.subarray(length))
    const out: Uint8Array[] = []
    const body = ciphertext instanceof Uint8Array ? ciphertext.subarray(0, length) : ciphertext.sublist(0, length)
    for (const part of parts(body)) out.push(decipher.update(part))
    out.push(decipher.final())
    return out.length === 2 && out[1].byteLength === 0 ? out[0] : Buffer.concat(out, length)
  }
}
