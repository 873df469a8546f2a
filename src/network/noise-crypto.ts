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
 * Keys: OpenSSL parses a DER-wrapped X25519 private key slowly (320 µs here, against 31 µs for the
 * Diffie-Hellman itself), and a handshake made three of them, a public key each (71 µs) and a key
 * pair exported as DER (120 µs): 1.3–1.4 ms per handshake and side, when a node joining a 40-node LAN
 * makes 40 handshakes while each of the 40 makes one, on the same two cores. Now a key pair is
 * generated as JWK (raw bytes, 32 µs) and its private key object made once and kept, by the array
 * noise holds the key in (a WeakMap, so it goes with the handshake); a peer's public key is
 * imported as JWK (6 µs). A key seen for the first time (the static key, once) still goes through
 * DER. 0.18–0.19 ms per handshake and side (`createNodeNoiseCrypto` makes one cache per node).
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
  hkdfSync,
  type JsonWebKey,
  type KeyObject
} from 'node:crypto'
import type { ICryptoInterface } from '@libp2p/noise'
import type { Uint8ArrayList } from 'uint8arraylist'

const CHACHA_POLY1305 = 'chacha20-poly1305'
const TAG_BYTES = 16
const HKDF_OUTPUT_BYTES = 96
const EMPTY = new Uint8Array(0)
/** The DER prefix that wraps a raw 32-byte X25519 private key as PKCS#8. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

type Bytes = Uint8Array | Uint8ArrayList

/** The parts of `data`, without copying a Uint8ArrayList into one buffer. */
function parts(data: Bytes): Iterable<Uint8Array> {
  return data instanceof Uint8Array ? [data] : data
}

function flat(data: Bytes): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

function derPrivateKey(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' })
}

function publicKeyObject(raw: Bytes): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(flat(raw)).toString('base64url') }, format: 'jwk' })
}

/** generateKeyPairSync with JWK encodings, which Node has (since 15.12) and @types/node leaves out. */
const generateJwkPair = generateKeyPairSync as unknown as (
  type: 'x25519',
  options: { publicKeyEncoding: object; privateKeyEncoding: object }
) => { publicKey: JsonWebKey; privateKey: JsonWebKey }

/** A private key's object, kept with the bytes it was made from (checked on every use). */
interface HeldKey {
  raw: Buffer
  key: KeyObject
}

/** Noise's crypto on node:crypto, with its own key cache; plain functions (noise calls them unbound). */
export function createNodeNoiseCrypto(): ICryptoInterface {
  const held = new WeakMap<Uint8Array, HeldKey>()

  function hold(raw: Uint8Array, key: KeyObject): KeyObject {
    held.set(raw, { raw: Buffer.from(raw), key })
    return key
  }

  function privateKeyObject(raw: Bytes): KeyObject {
    if (!(raw instanceof Uint8Array)) return derPrivateKey(raw.subarray())
    const h = held.get(raw)
    // Noise never changes a key's bytes in place; if anything did, the key is made again.
    if (h != null && h.raw.equals(raw)) return h.key
    return hold(raw, derPrivateKey(raw))
  }

  return {
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
      // Exported as JWK by the key generation itself, and imported again: exporting the key object
      // generateKeyPairSync returns deadlocks Node 20 at random (a garbage collection during the
      // export destroys the finished key generation job, which locks the key the export holds).
      const { privateKey: jwk } = generateJwkPair('x25519', {
        publicKeyEncoding: { type: 'spki', format: 'jwk' },
        privateKeyEncoding: { type: 'pkcs8', format: 'jwk' }
      })
      const privateKey = Buffer.from(jwk.d ?? '', 'base64url')
      hold(privateKey, createPrivateKey({ key: jwk, format: 'jwk' }))
      return { publicKey: Buffer.from(jwk.x ?? '', 'base64url'), privateKey }
    },

    generateX25519KeyPairFromSeed(seed) {
      const spki = createPublicKey(privateKeyObject(seed)).export({ type: 'spki', format: 'der' })
      return { publicKey: spki.subarray(spki.byteLength - 32), privateKey: seed }
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
}
