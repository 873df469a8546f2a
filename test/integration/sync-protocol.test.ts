/**
 * The sync protocol between two real nodes: requests and responses are capped in size, a peer
 * that does not answer costs one timeout, and a request the peer cannot read gets an error reply.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SyncError } from '../../src/errors.js'
import { inRoom, startSyncNode } from '../helpers/sync-nodes.js'

const LIMITS = { timeout: 300, maxRequestBytes: 2_048, maxResponseBytes: 4_096 }

void test('an oversized request is refused before it is sent, an oversized response is not read', async t => {
  const a = await startSyncNode(t, { nick: 'a', tuning: { sync: LIMITS } })
  const b = await startSyncNode(t, { nick: 'b', peers: [a.addr], tuning: { sync: LIMITS } })
  await inRoom(a, b)
  await assert.rejects(a.app.network.requestSync(b.peerId, { kind: 'summary', room: 'x'.repeat(4_000) }), SyncError)
  b.app.network.handleSync(async () => await Promise.resolve({ filler: 'y'.repeat(10_000) }))
  await assert.rejects(a.app.network.requestSync(b.peerId, { kind: 'summary', room: 'main' }), SyncError)
})

void test('a peer that never answers costs one timeout, and a malformed request gets an error reply', async t => {
  const a = await startSyncNode(t, { nick: 'a', tuning: { sync: LIMITS } })
  const b = await startSyncNode(t, { nick: 'b', peers: [a.addr], tuning: { sync: LIMITS } })
  await inRoom(a, b)
  await assert.rejects(a.app.network.requestSync(b.peerId, { kind: 'fetch', room: 'main', want: [['nope', 1, 1]] }), (err: Error) => {
    assert.ok(err instanceof SyncError)
    assert.match(err.message, /peer refused/)
    return true
  })
  await assert.rejects(a.app.network.requestSync(b.peerId, { kind: 'summary', room: 'lab' }), /peer refused/)
  b.app.network.handleSync(async () => await new Promise(() => {}))
  await assert.rejects(a.app.network.requestSync(b.peerId, { kind: 'summary', room: 'main' }), SyncError)
  // The node is still fine afterwards: a normal request works.
  b.app.network.handleSync(async () => await Promise.resolve({ ok: true }))
  assert.deepEqual(await a.app.network.requestSync(b.peerId, { kind: 'summary', room: 'main' }), { ok: true })
})
