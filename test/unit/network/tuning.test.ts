/** The LAN gossipsub settings satisfy gossipsub's own constraints and really make a smaller mesh. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { lanGossipOptions } from '../../../src/network/tuning.js'
import { MAX_MESSAGE_BYTES } from '../../../src/chat/message.js'
import { MAX_HINT_PEERS } from '../../../src/network/relay-hint.js'

void test('mesh bounds keep gossipsub invariants: Dout < Dlo <= D <= Dhi, Dout <= D/2, Dscore <= D', () => {
  const o = lanGossipOptions()
  assert.ok(o.Dout < o.Dlo, 'Dout < Dlo')
  assert.ok(o.Dlo <= o.D && o.D <= o.Dhi, 'Dlo <= D <= Dhi')
  assert.ok(o.Dout <= o.D / 2, 'Dout <= D/2')
  assert.ok(o.Dscore <= o.D, 'Dscore <= D')
})

void test('a node grafts fewer peers than the gossipsub default of 6 but keeps up to 12 grafted by others', () => {
  const o = lanGossipOptions()
  assert.ok(o.D < 6)
  assert.equal(o.Dhi, 12)
  assert.ok(o.Dlazy < 6)
  assert.ok(o.gossipFactor < 0.25)
})

void test('the message cache announces no more heartbeats than it keeps, and keeps fewer than the default 5', () => {
  const o = lanGossipOptions()
  assert.ok(o.mcacheGossip >= 1 && o.mcacheGossip <= o.mcacheLength, 'gossipsub requires 1 <= mcacheGossip <= mcacheLength')
  assert.ok(o.mcacheLength < 5)
})

void test('message ID keys are the ID in base64: equal IDs share a key, different IDs never do', () => {
  const o = lanGossipOptions()
  const keys = new Set<string>()
  for (let n = 0; n <= 40; n++) {
    const id = new Uint8Array(n + 3).map((_, i) => (i * 37 + n * 11) & 0xff).subarray(3)
    const key = o.msgIdToStrFn(id)
    assert.equal(key, o.msgIdToStrFn(Uint8Array.from(id)), `length ${n}: the same bytes elsewhere give the same key`)
    assert.deepEqual(new Uint8Array(Buffer.from(key, 'base64')), Uint8Array.from(id), `length ${n}: the key decodes to the ID`)
    keys.add(key)
  }
  assert.equal(keys.size, 41)
})

void test('no room frame is large enough for gossipsub to send IDONTWANT: the largest message with the largest hint', () => {
  const largestFrame = MAX_MESSAGE_BYTES + 1 + 4 * MAX_HINT_PEERS
  assert.ok(lanGossipOptions().idontwantMinDataSize > largestFrame)
})
