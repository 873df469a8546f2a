/**
 * History sync between real nodes on 127.0.0.1: a late joiner and a rejoiner catch up, a relay
 * carries messages between nodes that never meet (and a tampered one is refused), and a node whose
 * clock is 10 minutes off does not reorder the room.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalBytes, encodeMessage, messageId, type ChatMessage } from '../../src/chat/index.js'
import { createAuthor, tampered } from '../helpers/signed.js'
import { chatEvent, freePort, tempDataDir, type TestNode } from '../helpers/nodes.js'
import { historyHash, inRoom, orderedIds, startSyncNode, waitForCount } from '../helpers/sync-nodes.js'
import { waitUntil } from '../helpers/wait.js'

const TEN_MINUTES = 10 * 60_000

async function post(node: TestNode, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) await node.app.chat.send('main', `${prefix} ${i}`)
}

function assertNoDuplicates(node: TestNode): void {
  const ids = orderedIds(node)
  assert.equal(new Set(ids).size, ids.length, 'no message twice')
}

void test('a node that joins late ends with all 500 messages, in the same order as everyone', async t => {
  const a = await startSyncNode(t, { nick: 'a' })
  const b = await startSyncNode(t, { nick: 'b', peers: [a.addr] })
  await inRoom(a, b)
  await Promise.all([post(a, 250, 'from a'), post(b, 250, 'from b')])
  await waitForCount(a, 500, 'a holding all')
  await waitForCount(b, 500, 'b holding all')

  const started = Date.now()
  const late = await startSyncNode(t, { nick: 'late', peers: [a.addr] })
  await waitForCount(late, 500, 'the late joiner catching up')
  t.diagnostic(`late joiner synced 500 messages in ${Date.now() - started} ms (including start and connect)`)

  assert.equal(late.app.chat.messages('main').length, 500)
  assert.equal(historyHash(late), historyHash(a))
  assert.equal(historyHash(late), historyHash(b))
  assertNoDuplicates(late)
  await waitUntil(() => late.received.length >= 500, 'every message announced')
  // History, except perhaps a few of the newest that gossipsub still hands over as live.
  assert.ok(late.received.filter(r => r.origin === 'sync').length >= 400)
  await waitUntil(() => late.app.chat.status().sync.main?.state === 'in sync', 'the room shown as in sync')
  assert.equal(late.app.chat.status().sync.main.missing, 0)
})

void test('a node stopped while others post 100 messages gets all 100 when it comes back', async t => {
  const a = await startSyncNode(t, { nick: 'a' })
  const b = await startSyncNode(t, { nick: 'b', peers: [a.addr] })
  const dir = await tempDataDir(t)
  const port = await freePort()
  const c1 = await startSyncNode(t, { nick: 'c', peers: [a.addr], dataDir: dir, port })
  await inRoom(a, c1)
  await c1.app.chat.send('main', 'before the break')
  await waitForCount(a, 1, 'a seeing c')
  await c1.app.stop()

  await Promise.all([post(a, 50, 'a while c is away'), post(b, 50, 'b while c is away')])
  await waitForCount(a, 101, 'a holding all')

  const c2 = await startSyncNode(t, { nick: 'c', peers: [a.addr], dataDir: dir, port })
  assert.ok(
    c2.app.chat.messages('main').some(m => m.text === 'before the break'),
    'c restarts with what chat.log held'
  )
  await waitForCount(c2, 101, 'the rejoiner catching up')
  // History sync, or gossipsub's own short replay of its newest messages when c returns at once.
  await waitUntil(() => c2.received.filter(r => !r.own).length >= 100, 'every message announced')
  assert.equal(c2.received.filter(r => !r.own).length, 100)
  assert.equal(historyHash(c2), historyHash(a))
  assertNoDuplicates(c2)
})

void test('a relay carries messages between nodes that never meet, and a tampered copy is refused', async t => {
  const a = await startSyncNode(t, { nick: 'a' })
  const b = await startSyncNode(t, { nick: 'b', peers: [a.addr] })
  await inRoom(a, b)
  await post(a, 20, 'from a')
  await waitForCount(b, 20, 'b relaying')
  const aId = a.peerId
  await a.app.stop()

  // B turns bad: it holds a copy of one of A's messages with the text changed (ID recomputed, so
  // only the signature can tell).
  const original = b.app.chat.messages('main')[5]
  const forged = { ...original, text: 'a said something else', seq: 21, ts: original.ts + 1 }
  const tampered: ChatMessage = { ...forged, id: messageId(canonicalBytes(forged)) }
  b.app.chat.history.add(tampered)

  const c = await startSyncNode(t, { nick: 'c', peers: [b.addr] })
  const rejected = chatEvent(c.app.chat, 'message:rejected')
  await waitForCount(c, 20, 'c receiving through the relay')
  assert.equal((await rejected).reason, 'bad-signature')
  assert.equal(c.app.chat.history.has(tampered.id), false)
  assert.ok(c.app.chat.messages('main').every(m => m.from === aId && !m.text.includes('something else')))
  assert.equal(
    c.app.network.peers().some(p => p.peerId === aId),
    false,
    'a and c never met'
  )
  assert.deepEqual(
    orderedIds(c),
    orderedIds(b).filter(id => id !== tampered.id)
  )
})

void test('a node whose clock is 10 minutes ahead or behind does not reorder the room', async t => {
  const a = await startSyncNode(t, { nick: 'a' })
  const ahead = await startSyncNode(t, { nick: 'ahead', peers: [a.addr], clock: { now: () => Date.now() + TEN_MINUTES } })
  await inRoom(a, ahead)
  await a.app.chat.send('main', 'one')
  await waitForCount(ahead, 1, 'ahead receiving one')
  await ahead.app.chat.send('main', 'two')
  await waitForCount(a, 2, 'a receiving two')
  await a.app.chat.send('main', 'three')
  await waitForCount(ahead, 3, 'ahead receiving three')

  // Behind by 10 minutes and arriving late: it catches up, then speaks.
  const behind = await startSyncNode(t, { nick: 'behind', peers: [a.addr], clock: { now: () => Date.now() - TEN_MINUTES } })
  await waitForCount(behind, 3, 'behind catching up')
  await behind.app.chat.send('main', 'four')
  await waitForCount(a, 4, 'a receiving four')
  await waitForCount(ahead, 4, 'ahead receiving four')
  await ahead.app.chat.send('main', 'five')
  await waitForCount(a, 5, 'a receiving five')
  await waitForCount(behind, 5, 'behind receiving five')

  const expected = ['one', 'two', 'three', 'four', 'five']
  for (const node of [a, ahead, behind]) {
    assert.deepEqual(
      node.app.chat.messages('main').map(m => m.text),
      expected
    )
  }
  assert.equal(historyHash(behind), historyHash(a))
  assert.equal(historyHash(ahead), historyHash(a))
})

void test('a live message that skips a sequence number makes the node fetch the missing one', async t => {
  const a = await startSyncNode(t, { nick: 'a', sync: { interval: 0 } })
  const b = await startSyncNode(t, { nick: 'b', peers: [a.addr], sync: { interval: 0 } })
  await inRoom(a, b)
  const author = await createAuthor('eve')
  const [m1, m2, m3] = [author.message(), author.message(), author.message()]
  for (const m of [m1, m2, m3]) b.app.chat.ingest(m)
  // Gossip brought a only m1 and m3 (as if m2 was lost on the way).
  assert.equal(a.app.chat.receive('main', encodeMessage(m1), b.peerId), 'accept')
  await waitForCount(a, 1, 'a storing m1')
  assert.equal(a.app.chat.history.has(m2.id), false)
  assert.equal(a.app.chat.receive('main', encodeMessage(m3), b.peerId), 'accept')
  await waitUntil(() => a.app.chat.history.has(m2.id), 'a fetching the missing m2')
  assert.deepEqual(
    a.app.chat.messages('main').map(m => m.seq),
    [1, 2, 3]
  )
  await waitUntil(() => a.app.chat.syncStatus('main').state === 'in sync', 'in sync again')
  assert.equal(a.app.chat.syncStatus('main').missing, 0)
})

void test('the live copy of a new message history sync brought first is passed on once, and only with the synced signature', async t => {
  const a = await startSyncNode(t, { nick: 'a', sync: { interval: 0 } })
  const author = await createAuthor('eve')
  const [fresh, other] = [author.message({ ts: Date.now() }), author.message({ ts: Date.now() })]
  const old = author.message({ ts: Date.now() - 10 * 60_000 })
  for (const m of [fresh, other, old]) assert.equal(a.app.chat.ingest(m), true)
  const via = author.peerId
  assert.equal(a.app.chat.receive('main', encodeMessage(fresh), via, false), 'ignore', 'no mesh peer needs it')
  assert.equal(a.app.chat.receive('main', encodeMessage(fresh), via, true), 'accept', 'a mesh peer needs it: relayed')
  assert.equal(a.app.chat.receive('main', encodeMessage(fresh), via, true), 'ignore', 'once')
  // The ID covers every field but the signature: a copy signed otherwise is not passed on.
  assert.equal(a.app.chat.receive('main', tampered(other, { sig: fresh.sig }), via, true), 'ignore')
  assert.equal(a.app.chat.receive('main', encodeMessage(other), via, true), 'accept')
  assert.equal(a.app.chat.receive('main', encodeMessage(old), via, true), 'ignore', 'history from long ago has no live copy coming')
  assert.equal(a.app.chat.messages('main').length, 3, 'nothing stored twice')
})

void test('a node that keeps 50 messages per room syncs the newest 50 and does not fetch older ones again', async t => {
  const a = await startSyncNode(t, { nick: 'a' })
  await post(a, 120, 'many')
  const small = await startSyncNode(t, { nick: 'small', peers: [a.addr], historyLimit: 50, sync: { interval: 50 } })
  await waitUntil(
    () => small.app.chat.messages('main').at(-1)?.text === 'many 119' && small.app.chat.syncStatus('main').state === 'in sync',
    'the newest message arriving'
  )
  assert.deepEqual(orderedIds(small), orderedIds(a).slice(-50))
  const announced = small.received.length
  // Several periodic rounds later nothing old came back.
  let rounds = 0
  const off = small.app.chat.syncEvents.on('sync:done', () => rounds++)
  t.after(off)
  await waitUntil(() => rounds >= 3, 'three more rounds')
  assert.equal(small.received.length, announced)
  assert.deepEqual(orderedIds(small), orderedIds(a).slice(-50))
  assert.equal(small.app.chat.syncStatus('main').missing, 0)
})
