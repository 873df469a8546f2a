/** Sync protocol frames: versioned JSON, error replies and foreign versions become SyncError. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeSyncFrame, encodeSyncFrame } from '../../../src/network/sync-protocol.js'
import { SyncError } from '../../../src/errors.js'

void test('a frame carries its body and its version', () => {
  const bytes = encodeSyncFrame({ body: { kind: 'summary', room: 'main' } })
  assert.deepEqual(JSON.parse(Buffer.from(bytes).toString('utf8')), { v: 1, body: { kind: 'summary', room: 'main' } })
  assert.deepEqual(decodeSyncFrame(bytes), { kind: 'summary', room: 'main' })
})

void test('an error reply, another version, or a frame that is not JSON is a SyncError', () => {
  assert.throws(() => decodeSyncFrame(encodeSyncFrame({ error: 'not in #lab' })), SyncError)
  assert.throws(() => decodeSyncFrame(Buffer.from(JSON.stringify({ v: 2, body: {} }))), SyncError)
  assert.throws(() => decodeSyncFrame(Buffer.from('{"v":1')), SyncError)
  assert.throws(() => decodeSyncFrame(Buffer.from('{"v":1}')), SyncError)
})
