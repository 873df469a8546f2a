/**
 * A full disk at the chat level: a node whose data folder is on a real, tiny tmpfs. Once the disk
 * is full, a send fails with StorageError and nothing goes out (a message is published only once it
 * is in chat.log); messages from peers are still shown and kept in memory; once there is room
 * again, sending works and the kept messages are written with the next write. Needs root (mount);
 * skipped loudly without it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StorageError } from '../../src/errors.js'
import { chatEvent, startNode } from '../helpers/nodes.js'
import { waitUntil } from '../helpers/wait.js'
import { tinyDisk } from '../helpers/tiny-disk.js'

void test('a full disk: the send fails and nothing is published, received messages are kept, and all is written once there is room', async t => {
  const disk = await tinyDisk(t, '64k')
  if (disk == null) return
  const peer = await startNode(t, { nick: 'peer' })
  const node = await startNode(t, { nick: 'full', dataDir: disk.dir, peers: [peer.addr] })
  await waitUntil(
    () => node.app.network.roomPeers('main').includes(peer.peerId) && peer.app.network.roomPeers('main').includes(node.peerId),
    'room'
  )
  await node.app.chat.send('main', 'before')
  await waitUntil(() => peer.texts().includes('before'), 'the first message')

  await disk.fill()
  const problem = chatEvent(node.app.chat, 'store:problem')
  await assert.rejects(node.app.chat.send('main', 'x'.repeat(4000)), StorageError)
  await peer.app.chat.send('main', 'y'.repeat(4000))
  await waitUntil(() => node.texts().includes('y'.repeat(4000)), 'the peer message, shown although it cannot be written')
  assert.match((await problem).message, /kept in memory/)

  await disk.free()
  await node.app.chat.send('main', 'after')
  await waitUntil(() => peer.texts().includes('after'), 'the message after the disk has room again')
  assert.deepEqual(peer.texts(), ['before', 'after'], 'the refused message never went out')
  await node.app.stop()
  const texts = (await readFile(join(disk.dir, 'chat.log'), 'utf8'))
    .split('\n')
    .filter(l => l !== '')
    .map(l => (JSON.parse(l) as { text: string }).text.slice(0, 10))
  assert.deepEqual(texts.sort(), ['after', 'before', 'yyyyyyyyyy'], 'the kept message was written once there was room')
})
