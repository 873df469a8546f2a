/** The LAN gossipsub settings satisfy gossipsub's own constraints and really make a smaller mesh. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toString } from 'uint8arrays/to-string'
import { lanGossipOptions } from '../../../src/network/tuning.js'

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

void test("message ID keys are gossipsub's own (base64, no padding), for every length of ID", () => {
  const o = lanGossipOptions()
  for (let n = 0; n <= 40; n++) {
    const id = new Uint8Array(n + 3).map((_, i) => (i * 37 + n * 11) & 0xff).subarray(3)
    assert.equal(o.msgIdToStrFn(id), toString(id, 'base64'), `length ${n}`)
  }
})
