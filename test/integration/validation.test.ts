/**
 * Invalid messages published raw on a room's topic (through Network.publish, which sends bytes as
 * they are): each kind is rejected with its reason, neither shown, stored nor forwarded, the node
 * keeps working, and a peer that keeps sending them is disconnected and refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { encodeMessage, canonicalBytes, messageId, MAX_MESSAGE_BYTES, type ChatMessage } from '../../src/chat/index.js'
import { chatEvent, startNode, type TestNode } from '../helpers/nodes.js'
import { createAuthor, tampered } from '../helpers/signed.js'
import { waitUntil } from '../helpers/wait.js'

async function meshed(nodes: Array<[TestNode, TestNode]>): Promise<void> {
  await waitUntil(
    () => nodes.every(([a, b]) => a.app.network.roomPeers('main').includes(b.peerId) && b.app.network.roomPeers('main').includes(a.peerId)),
    'room membership'
  )
}

function resigned(m: ChatMessage, change: Partial<ChatMessage>, sig: string): ChatMessage {
  const f = { ...m, ...change, sig }
  return { ...f, id: messageId(canonicalBytes(f)) }
}

void test('each kind of invalid message is rejected with its reason, not delivered or forwarded, and the node keeps working', async t => {
  const mallory = await startNode(t, { nick: 'mallory', tuning: { maxInvalid: 1_000 } })
  const victim = await startNode(t, { nick: 'victim', peers: [mallory.addr], tuning: { maxInvalid: 1_000 } })
  // Connected only to the victim: anything it forwarded would reach here.
  const behind = await startNode(t, { nick: 'behind', peers: [victim.addr], tuning: { maxInvalid: 1_000 } })
  await meshed([
    [mallory, victim],
    [victim, behind]
  ])
  // A first valid message proves the path mallory → victim → behind works.
  const author = await createAuthor('someone')
  await mallory.app.network.publish('main', encodeMessage(author.message({ text: 'warm-up' })))
  await waitUntil(() => behind.texts().includes('warm-up'), 'the warm-up message passing through the victim')

  const good = author.message({ text: 'genuine' })
  const other = author.message({ text: 'other' })
  const cases: Array<[string, Uint8Array]> = [
    ['malformed', Buffer.from('{"this is": not json')],
    ['bad-signature', encodeMessage(resigned(good, { text: 'forged text' }, other.sig))],
    ['bad-id', tampered(good, { text: 'tampered text' })],
    ['room-mismatch', encodeMessage(author.message({ room: 'elsewhere', text: 'wrong room' }))],
    ['bad-nick', tampered(good, { nick: 'evil\u001b[2J' })],
    ['too-large', Buffer.from(JSON.stringify({ ...good, text: 'x'.repeat(MAX_MESSAGE_BYTES) }))]
  ]
  const rejected: Array<{ from: string; reason: string; room: string }> = []
  victim.app.chat.on('message:rejected', e => rejected.push(e.detail))
  const behindRejected: string[] = []
  behind.app.chat.on('message:rejected', e => behindRejected.push(e.detail.reason))

  for (const [reason, bytes] of cases) {
    const seen = rejected.length
    await mallory.app.network.publish('main', bytes)
    await waitUntil(() => rejected.length > seen, `the rejection of ${reason}`)
    assert.deepEqual(rejected.at(-1), { from: mallory.peerId, reason, room: 'main' })
  }

  await mallory.app.network.publish('main', encodeMessage(good))
  await waitUntil(() => victim.texts().includes('genuine') && behind.texts().includes('genuine'), 'the valid message afterwards')
  await mallory.app.chat.send('main', 'still friends?')
  await waitUntil(() => behind.texts().includes('still friends?'), 'a normal message afterwards')

  assert.deepEqual(victim.texts(), ['warm-up', 'genuine', 'still friends?'])
  assert.deepEqual(behind.texts(), ['warm-up', 'genuine', 'still friends?'])
  assert.deepEqual(behindRejected, [], 'nothing invalid was forwarded')
  await victim.app.chat.stop()
  const logged = (await readFile(victim.app.logPath, 'utf8')).trim().split('\n')
  assert.equal(logged.length, 3)
})

void test('a peer that keeps sending invalid messages is disconnected and refused', async t => {
  const tuning = { maxInvalid: 3, banDuration: 60_000 }
  const mallory = await startNode(t, { nick: 'mallory' })
  const victimApp = await startNode(t, { nick: 'victim', peers: [mallory.addr], tuning })
  await meshed([[mallory, victimApp]])
  const banned = chatEvent(victimApp.app.chat, 'peer:banned')
  const gone = chatEvent(victimApp.app.chat, 'peer:disconnect')
  for (let i = 0; i < 3; i++) await mallory.app.network.publish('main', Buffer.from(`garbage ${i}`))
  const b = await banned
  assert.equal(b.peerId, mallory.peerId)
  assert.equal(b.nick, 'mallory')
  assert.equal((await gone).peerId, mallory.peerId)
  await waitUntil(() => victimApp.app.network.connectionCount(mallory.peerId) === 0, 'the connection closing')

  // The victim keeps redialing its --peer, but its own gater refuses the banned peer.
  const refused = await chatEvent(victimApp.app.chat, 'dial:error')
  assert.match(refused.target, new RegExp(mallory.peerId))
  assert.equal(victimApp.app.network.connectionCount(mallory.peerId), 0)
  assert.deepEqual(victimApp.app.chat.peers(), [])
})
