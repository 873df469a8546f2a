/**
 * What survives: the peer ID and history across a restart, deduplication by ID (also across a
 * restart), and two nodes started on one data dir each getting their own folder.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeMessage } from '../../src/chat/index.js'
import { createNode, startApp, startNode, tempDataDir, type TestNode } from '../helpers/nodes.js'
import { createAuthor } from '../helpers/signed.js'
import { waitUntil } from '../helpers/wait.js'

async function meshed(a: TestNode, b: TestNode): Promise<void> {
  await waitUntil(
    () => a.app.network.roomPeers('main').includes(b.peerId) && b.app.network.roomPeers('main').includes(a.peerId),
    'room membership'
  )
}

async function logIds(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8')
  return text
    .split('\n')
    .filter(l => l !== '')
    .map(l => (JSON.parse(l) as { id: string }).id)
}

void test('a message that arrives again, from the same or another peer, or after a restart, is shown and stored once', async t => {
  const sender = await startNode(t, { nick: 'sender' })
  const dir = await tempDataDir(t)
  const first = await startNode(t, { nick: 'receiver', peers: [sender.addr], dataDir: dir })
  await meshed(sender, first)
  const author = await createAuthor('author')
  const m = author.message({ text: 'only once' })
  const bytes = encodeMessage(m)
  await sender.app.network.publish('main', bytes)
  await sender.app.network.publish('main', bytes)
  await sender.app.network.publish('main', encodeMessage(author.message({ text: 'marker 1' })))
  await waitUntil(() => first.texts().includes('marker 1'), 'the first marker')
  assert.deepEqual(first.texts(), ['only once', 'marker 1'])
  await first.app.stop()

  // After a restart the same message arrives from a node that never had it (a fresh gossipsub
  // that has not seen it either): the ID is in the history loaded from chat.log.
  const again = await startNode(t, { nick: 'receiver', dataDir: dir })
  const relay = await startNode(t, { nick: 'relay', peers: [again.addr] })
  await meshed(again, relay)
  await relay.app.network.publish('main', bytes)
  await relay.app.network.publish('main', encodeMessage(author.message({ text: 'marker 2' })))
  await waitUntil(() => again.texts().includes('marker 2'), 'the second marker')
  assert.deepEqual(again.texts(), ['marker 2'])
  await again.app.stop()
  const ids = await logIds(join(dir, 'chat.log'))
  assert.equal(ids.filter(id => id === m.id).length, 1)
  assert.equal(ids.length, 3)
})

void test('a restarted node keeps its peer ID and its history, and numbers its messages on', async t => {
  const dir = await tempDataDir(t)
  const bob = await startNode(t, { nick: 'bob' })
  const alice = await startNode(t, { nick: 'alice', dataDir: dir, peers: [bob.addr] })
  await meshed(alice, bob)
  const a1 = await alice.app.chat.send('main', 'before restart')
  await waitUntil(() => bob.texts().includes('before restart'), 'bob receiving')
  await bob.app.chat.send('main', 'from bob')
  await waitUntil(() => alice.texts().includes('from bob'), 'alice receiving')
  const before = alice.app.chat.messages('main').map(m => m.id)
  await alice.app.stop()

  const restarted = await startNode(t, { nick: 'alice', dataDir: dir, peers: [bob.addr] })
  assert.equal(restarted.peerId, alice.peerId)
  assert.equal(restarted.dataDir, dir)
  assert.deepEqual(
    restarted.app.chat.messages('main').map(m => m.id),
    before
  )
  await meshed(restarted, bob)
  const a2 = await restarted.app.chat.send('main', 'after restart')
  assert.equal(a2.seq, a1.seq + 1)
  await waitUntil(() => bob.texts().includes('after restart'), 'bob receiving after the restart')
  // bob accepts it as alice's: same author, next sequence number
  assert.equal(bob.received.find(r => r.message.text === 'after restart')?.message.from, alice.peerId)
})

void test('two nodes started on the same data dir both run, each in its own folder with its own key', async t => {
  const dir = await tempDataDir(t)
  const one = await startNode(t, { nick: 'one', dataDir: dir })
  const twoApp = await createNode(t, { nick: 'two', dataDir: dir, peers: [one.addr] })
  const two = await startApp(twoApp)
  assert.equal(one.dataDir, dir)
  assert.equal(two.dataDir, join(dir, 'instance-2'))
  assert.notEqual(one.peerId, two.peerId)
  assert.notEqual(one.app.logPath, two.app.logPath)
  await meshed(one, two)
  await one.app.chat.send('main', 'from one')
  await two.app.chat.send('main', 'from two')
  await waitUntil(() => one.texts().includes('from two') && two.texts().includes('from one'), 'both receiving')
  await one.app.stop()
  await two.app.stop()
  // Each log holds both messages, each written by its own node only.
  assert.equal((await logIds(one.app.logPath)).length, 2)
  assert.equal((await logIds(two.app.logPath)).length, 2)
  assert.equal((await readFile(join(dir, 'lock'), 'utf8').catch(() => 'released')).trim(), 'released')
})

void test('a send the terminal makes (durable: false) resolves once published; a default send waits for the disk sync', async t => {
  // A sync delay longer than the test: only stop() (which flushes chat.log) makes a line durable.
  const node = await startNode(t, { log: { sync: true, syncDelay: 600_000 } })
  let durableDone = false
  const durable = node.app.chat.send('main', 'waits for the disk').then(() => (durableDone = true))
  const published = await Promise.race([
    node.app.chat.send('main', 'does not wait', { durable: false }).then(() => 'published'),
    new Promise(resolve => setTimeout(resolve, 30_000, 'still waiting'))
  ])
  assert.equal(published, 'published', 'send with durable: false waited for the disk sync')
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(durableDone, false, 'a default send resolved before its line was synced')
  await node.app.stop()
  await durable
  const lines = (await readFile(join(node.dataDir, 'chat.log'), 'utf8')).split('\n').filter(l => l !== '')
  assert.deepEqual(
    lines.map(l => (JSON.parse(l) as { text: string }).text),
    ['waits for the disk', 'does not wait']
  )
})
