/**
 * Where signatures are checked. A message that comes straight from its author, and that this node
 * will not relay, is taken on its connection's word (Noise has proved the author's key), so a
 * delivery costs no signature check; its signature is checked before the message ever leaves the
 * node. These tests send messages with a wrong signature from the author's own node and check
 * that they never get past the first node: not by relay, not by history sync.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalBytes, encodeMessage, messageId, type ChatMessage, type MessageSigner } from '../../src/chat/index.js'
import { roomTopic } from '../../src/network/topics.js'
import { chatEvent, startNode, type TestNode } from '../helpers/nodes.js'
import { waitUntil } from '../helpers/wait.js'

/** A message from this node's identity whose text is not what its author signed (the ID matches the text). */
function forgedFrom(node: TestNode, text: string, seq: number): ChatMessage {
  const signer = (node.app.chat as unknown as { c: { signer: MessageSigner } }).c.signer
  const signed = signer.sign({
    room: 'main',
    from: node.peerId,
    nick: 'author',
    text: 'what was really signed',
    ts: Date.now(),
    lc: 0,
    seq
  })
  const changed = { ...signed, text }
  return { ...changed, id: messageId(canonicalBytes(changed)) }
}

function meshPeers(node: TestNode): string[] {
  const pubsub = (node.app.network as unknown as { node: { services: { pubsub: { getMeshPeers: (topic: string) => string[] } } } }).node
    .services.pubsub
  return pubsub.getMeshPeers(roomTopic('main'))
}

function texts(node: TestNode): string[] {
  return node.received.map(r => r.message.text)
}

void test('a forged message straight from its author is shown there, but history sync never hands it on', async t => {
  const author = await startNode(t, { nick: 'author' })
  const first = await startNode(t, { nick: 'first', peers: [author.addr] })
  await waitUntil(
    () => first.app.network.roomPeers('main').includes(author.peerId) && author.app.network.roomPeers('main').includes(first.peerId),
    'room'
  )
  await author.app.chat.send('main', 'genuine')
  const forged = forgedFrom(author, 'forged', 2)
  await author.app.network.publish('main', encodeMessage(forged))
  await waitUntil(() => texts(first).includes('genuine') && texts(first).includes('forged'), 'both messages at the first node')

  // A newcomer that knows only the first node catches up from it.
  const rejected = chatEvent(first.app.chat, 'message:rejected')
  const late = await startNode(t, { nick: 'late', peers: [first.addr] })
  await waitUntil(() => texts(late).includes('genuine'), 'the genuine message synced to the newcomer')
  const reason = await rejected
  assert.deepEqual([reason.from, reason.reason], [author.peerId, 'bad-signature'], 'the first node found the forgery when asked for it')
  assert.equal(texts(late).includes('forged'), false)
  // Asked again, it still leaves it out.
  late.app.chat.syncRoom('main')
  await author.app.chat.send('main', 'after')
  await waitUntil(() => texts(late).includes('after'), 'a later message')
  assert.equal(texts(late).includes('forged'), false)
})

void test('a forged message straight from its author stops at a node that would relay it', async t => {
  const author = await startNode(t, { nick: 'author' })
  const relay = await startNode(t, { nick: 'relay', peers: [author.addr] })
  const far = await startNode(t, { nick: 'far', peers: [relay.addr] })
  await waitUntil(() => relay.app.network.roomPeers('main').length === 2 && far.app.network.roomPeers('main').length === 1, 'room')
  await waitUntil(() => meshPeers(relay).length === 2, 'the relay meshed with both')
  const rejected = chatEvent(relay.app.chat, 'message:rejected')
  await author.app.network.publish('main', encodeMessage(forgedFrom(author, 'forged', 1)))
  assert.equal((await rejected).reason, 'bad-signature')
  await author.app.chat.send('main', 'genuine')
  await waitUntil(() => texts(far).includes('genuine'), 'the genuine message, relayed')
  assert.equal(texts(relay).includes('forged'), false, 'the relay checked it before accepting it')
  assert.equal(texts(far).includes('forged'), false)
})
