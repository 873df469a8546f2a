/**
 * A full disk at the chat level: a node whose data folder is on a real, tiny tmpfs. Once the disk
 * is full, a send fails with StorageError and nothing goes out (a message is published only once it
 * is in chat.log); messages from peers are still shown and kept in memory; once there is room
 * again, sending works and the kept messages are written with the next write. Needs root (mount);
 * skipped loudly without it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StorageError } from '../../src/errors.js'
import { chatEvent, startNode } from '../helpers/nodes.js'
import { waitUntil } from '../helpers/wait.js'

void test('a full disk: the send fails and nothing is published, received messages are kept, and all is written once there is room', async t => {
  const disk = await mkdtemp(join(tmpdir(), 'lan-chat-disk-'))
  let mountError: string | undefined
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk], { stdio: 'pipe' })
  } catch (err) {
    mountError = (err as Error).message.split('\n')[0]
  }
  // Registered first, so it runs last: after both nodes have stopped and closed their files.
  t.after(async () => {
    if (mountError == null) execFileSync('umount', [disk])
    await rm(disk, { recursive: true, force: true })
  })
  if (mountError != null) {
    t.skip(`cannot mount a tmpfs (needs root): ${mountError}`)
    return
  }
  const peer = await startNode(t, { nick: 'peer' })
  const node = await startNode(t, { nick: 'full', dataDir: disk, peers: [peer.addr] })
  await waitUntil(
    () => node.app.network.roomPeers('main').includes(peer.peerId) && peer.app.network.roomPeers('main').includes(node.peerId),
    'room'
  )
  await node.app.chat.send('main', 'before')
  await waitUntil(() => peer.texts().includes('before'), 'the first message')

  const filler = join(disk, 'filler')
  await writeFile(filler, '')
  try {
    execFileSync('sh', ['-c', `cat /dev/zero > '${filler}'`], { stdio: 'pipe' })
  } catch {
    // cat stops with "No space left on device": the disk is full.
  }
  const problem = chatEvent(node.app.chat, 'store:problem')
  await assert.rejects(node.app.chat.send('main', 'x'.repeat(4000)), StorageError)
  await peer.app.chat.send('main', 'y'.repeat(4000))
  await waitUntil(() => node.texts().includes('y'.repeat(4000)), 'the peer message, shown although it cannot be written')
  assert.match((await problem).message, /kept in memory/)

  await rm(filler)
  await node.app.chat.send('main', 'after')
  await waitUntil(() => peer.texts().includes('after'), 'the message after the disk has room again')
  assert.deepEqual(peer.texts(), ['before', 'after'], 'the refused message never went out')
  await node.app.stop()
  const texts = (await readFile(join(disk, 'chat.log'), 'utf8'))
    .split('\n')
    .filter(l => l !== '')
    .map(l => (JSON.parse(l) as { text: string }).text.slice(0, 10))
  assert.deepEqual(texts.sort(), ['after', 'before', 'yyyyyyyyyy'], 'the kept message was written once there was room')
})
