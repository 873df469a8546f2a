/** The relay hint on room messages, and the decision to relay (src/network/relay-hint.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeRoomFrame, encodeRoomFrame, fingerprint, MAX_HINT_PEERS, needsRelay } from '../../../src/network/relay-hint.js'

const payload = new TextEncoder().encode('{"v":1,"text":"hi"}')
const peers = ['12D3KooWA', '12D3KooWB', '12D3KooWC', '12D3KooWD']

void test('a frame carries the payload unchanged and the recipients as a set of fingerprints', () => {
  const frame = encodeRoomFrame(payload, peers.slice(0, 3).map(fingerprint))
  const { payload: out, hint } = decodeRoomFrame(frame)
  assert.deepEqual(out, payload)
  assert.deepEqual(hint, new Set(peers.slice(0, 3).map(fingerprint)))
})

void test('a frame without a hint (a plain message) is all payload and has no hint', () => {
  assert.deepEqual(decodeRoomFrame(payload), { payload })
  assert.deepEqual(encodeRoomFrame(payload, []), payload)
})

void test('a malformed hint is dropped, the payload is kept', () => {
  const cut = encodeRoomFrame(payload, [fingerprint('x')]).subarray(0, payload.byteLength + 3)
  assert.deepEqual(decodeRoomFrame(cut), { payload })
  const empty = new Uint8Array([...payload, 0])
  assert.deepEqual(decodeRoomFrame(empty), { payload })
})

void test('more recipients than the limit: no hint at all, so everyone relays as gossipsub does', () => {
  const many = Array.from({ length: MAX_HINT_PEERS + 1 }, (_, i) => fingerprint(`peer-${i}`))
  const frame = encodeRoomFrame(payload, many)
  assert.deepEqual(frame, payload)
  assert.equal(decodeRoomFrame(frame).hint, undefined)
})

void test('fingerprints are stable 32-bit numbers that tell peer IDs apart', () => {
  assert.equal(fingerprint('12D3KooWA'), fingerprint('12D3KooWA'))
  assert.notEqual(fingerprint('12D3KooWA'), fingerprint('12D3KooWB'))
  const fp = fingerprint('12D3KooWLongerPeerIdForTheRange')
  assert.ok(Number.isInteger(fp) && fp >= 0 && fp < 2 ** 32)
})

void test('a node relays only when a mesh peer other than the source is not among the recipients', () => {
  const [a, b, c, d] = peers
  const hint = new Set([a, b, c].map(fingerprint))
  // Everyone in the mesh got it from the author: no relay.
  assert.equal(needsRelay([b, c], a, hint), false)
  // d did not: relay.
  assert.equal(needsRelay([b, d], a, hint), true)
  // The source itself never counts, even if it is not in the hint.
  assert.equal(needsRelay([d], d, hint), false)
  // No hint: relay as gossipsub always did.
  assert.equal(needsRelay([b], a, undefined), true)
  // An empty mesh: nobody to relay to.
  assert.equal(needsRelay([], a, hint), false)
})
