/** Several rooms over gossipsub: each message reaches the members of its room and nobody else. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { startNode } from '../helpers/nodes.js'
import { waitUntil } from '../helpers/wait.js'

void test('messages stay in their room: three nodes in rooms a and b, no cross-room leak', async t => {
  const onlyA = await startNode(t, { nick: 'only-a', rooms: ['a'] })
  const onlyB = await startNode(t, { nick: 'only-b', rooms: ['b'], peers: [onlyA.addr] })
  const both = await startNode(t, { nick: 'both', rooms: ['a', 'b'], peers: [onlyA.addr, onlyB.addr] })
  await waitUntil(
    () =>
      onlyA.app.network.roomPeers('a').includes(both.peerId) &&
      both.app.network.roomPeers('a').includes(onlyA.peerId) &&
      onlyB.app.network.roomPeers('b').includes(both.peerId) &&
      both.app.network.roomPeers('b').includes(onlyB.peerId),
    'room membership'
  )
  assert.equal(onlyA.app.network.connectionCount(onlyB.peerId), 1, 'the two single-room nodes are connected directly too')

  await onlyA.app.chat.send('a', 'for a from only-a')
  await both.app.chat.send('a', 'for a from both')
  await both.app.chat.send('b', 'for b from both')
  await onlyB.app.chat.send('b', 'for b from only-b')

  await waitUntil(() => both.texts('a').includes('for a from only-a') && both.texts('b').includes('for b from only-b'), 'both receiving')
  await waitUntil(() => onlyA.texts('a').includes('for a from both'), 'only-a receiving')
  await waitUntil(() => onlyB.texts('b').includes('for b from both'), 'only-b receiving')

  // A last message in each room, sent after the others, has arrived: anything leaking would have too.
  await both.app.chat.send('a', 'last a')
  await both.app.chat.send('b', 'last b')
  await waitUntil(() => onlyA.texts('a').includes('last a') && onlyB.texts('b').includes('last b'), 'the last messages')

  assert.deepEqual(
    onlyA.received.map(r => r.message.room).filter(r => r !== 'a'),
    []
  )
  assert.deepEqual(
    onlyB.received.map(r => r.message.room).filter(r => r !== 'b'),
    []
  )
  assert.deepEqual(onlyA.app.chat.messages('b'), [])
  assert.deepEqual(onlyB.app.chat.messages('a'), [])
  await onlyB.app.stop()
  const bLog = (await readFile(onlyB.app.logPath, 'utf8'))
    .trim()
    .split('\n')
    .map(l => JSON.parse(l) as { room: string })
  assert.ok(bLog.length === 3)
  assert.ok(bLog.every(m => m.room === 'b'))
})
