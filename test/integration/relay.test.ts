/**
 * Relays (src/network/relay-hint.ts) with real nodes on 127.0.0.1: a node relays a message only
 * to reach peers the author is not connected to. In a fully connected room nobody relays, and
 * nobody sends gossipsub's IDONTWANT (network/tuning.ts); along a chain and around a hub every
 * message still arrives live.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../helpers/nodes.js'
import { waitUntil } from '../helpers/wait.js'
import { roomTopic } from '../../src/network/topics.js'
import { encodeMessage } from '../../src/chat/index.js'
import { createAuthor } from '../helpers/signed.js'

/** Counts the room messages a node's gossipsub sends (its own publishes and its relays). */
function countSentMessages(node: TestNode): () => number {
  const pubsub = (
    node.app.network as unknown as { node: { services: { pubsub: { sendRpc: (id: string, rpc: { messages?: unknown[] }) => boolean } } } }
  ).node.services.pubsub
  const send = pubsub.sendRpc.bind(pubsub)
  let sent = 0
  pubsub.sendRpc = (id, rpc) => {
    sent += rpc.messages?.length ?? 0
    return send(id, rpc)
  }
  return () => sent
}

/** Counts the message IDs in IDONTWANT control frames a node's gossipsub receives (gossipsub 1.2). */
function countIdontwants(node: TestNode): () => number {
  const pubsub = (
    node.app.network as unknown as {
      node: { services: { pubsub: { handleIdontwant: (id: string, idontwant: Array<{ messageIDs: unknown[] }>) => void } } }
    }
  ).node.services.pubsub
  const handle = pubsub.handleIdontwant.bind(pubsub)
  let ids = 0
  pubsub.handleIdontwant = (id, idontwant) => {
    for (const { messageIDs } of idontwant) ids += messageIDs.length
    handle(id, idontwant)
  }
  return () => ids
}

function meshPeers(node: TestNode): string[] {
  const pubsub = (node.app.network as unknown as { node: { services: { pubsub: { getMeshPeers: (topic: string) => string[] } } } }).node
    .services.pubsub
  return pubsub.getMeshPeers(roomTopic('main'))
}

async function roomPeers(nodes: TestNode[], expected: (n: TestNode) => number): Promise<void> {
  await waitUntil(() => nodes.every(n => n.app.network.roomPeers('main').length === expected(n)), 'room membership')
}

/** Four nodes, each connected to the three others, all in #main. */
async function fullRoom(t: Parameters<typeof startNode>[0]): Promise<TestNode[]> {
  const a = await startNode(t, { nick: 'a' })
  const b = await startNode(t, { nick: 'b', peers: [a.addr] })
  const c = await startNode(t, { nick: 'c', peers: [a.addr, b.addr] })
  const d = await startNode(t, { nick: 'd', peers: [a.addr, b.addr, c.addr] })
  const nodes = [a, b, c, d]
  await roomPeers(nodes, () => 3)
  return nodes
}

function liveTexts(node: TestNode): string[] {
  return node.received.filter(r => !r.own && r.origin === 'live').map(r => r.message.text)
}

void test('in a fully connected room each message is sent once to each peer and never relayed', async t => {
  const nodes = await fullRoom(t)
  const sent = nodes.map(countSentMessages)
  const texts = nodes.map((_, i) => `from node ${i}`)
  for (const [i, n] of nodes.entries()) await n.app.chat.send('main', texts[i])
  await waitUntil(() => nodes.every((n, i) => texts.every((x, j) => j === i || liveTexts(n).includes(x))), 'delivery')
  // Each node sent its own message to its 3 peers and relayed nothing.
  assert.deepEqual(
    sent.map(count => count()),
    [3, 3, 3, 3]
  )
})

void test('a message large enough for gossipsub’s IDONTWANT makes no node send one: the author already sent it to everyone', async t => {
  const nodes = await fullRoom(t)
  // Each node has a mesh peer, so with gossipsub's default it would tell that peer about the
  // messages of the two other authors.
  await waitUntil(() => nodes.every(n => meshPeers(n).length >= 1), 'every node meshed')
  const heard = nodes.map(countIdontwants)
  const sent = nodes.map(countSentMessages)
  // gossipsub's default sends IDONTWANT for messages of 512 bytes or more; this one is over 700.
  const texts = nodes.map((_, i) => `long message ${i} `.padEnd(700, '.'))
  for (const [i, n] of nodes.entries()) await n.app.chat.send('main', texts[i])
  await waitUntil(() => nodes.every((n, i) => texts.every((x, j) => j === i || liveTexts(n).includes(x))), 'delivery')
  assert.deepEqual(
    heard.map(count => count()),
    [0, 0, 0, 0]
  )
  assert.deepEqual(
    sent.map(count => count()),
    [3, 3, 3, 3]
  )
})

void test('along a chain a -- b -- c, b relays: c gets a’s messages live and a gets c’s', async t => {
  const a = await startNode(t, { nick: 'a' })
  const b = await startNode(t, { nick: 'b', peers: [a.addr] })
  const c = await startNode(t, { nick: 'c', peers: [b.addr] })
  await roomPeers([a, b, c], n => (n === b ? 2 : 1))
  await waitUntil(() => meshPeers(b).length === 2, 'b meshed with a and c')
  await a.app.chat.send('main', 'a to all')
  await c.app.chat.send('main', 'c to all')
  await waitUntil(() => liveTexts(c).includes('a to all') && liveTexts(a).includes('c to all'), 'relayed delivery')
  assert.ok(liveTexts(b).includes('a to all') && liveTexts(b).includes('c to all'))
})

void test('along a chain a -- b -- c, a message b got by history sync first is still relayed to c when its live copy comes', async t => {
  const a = await startNode(t, { nick: 'a' })
  const b = await startNode(t, { nick: 'b', peers: [a.addr] })
  const c = await startNode(t, { nick: 'c', peers: [b.addr] })
  await roomPeers([a, b, c], n => (n === b ? 2 : 1))
  await waitUntil(() => meshPeers(b).length === 2, 'b meshed with a and c')
  // Written just now by someone a relays for; b has it from a sync round before gossipsub brings it.
  const author = await createAuthor('far')
  const m = author.message({ text: 'synced before live', ts: Date.now() })
  assert.equal(b.app.chat.ingest(m), true)
  await a.app.network.publish('main', encodeMessage(m))
  await waitUntil(() => liveTexts(c).includes('synced before live'), 'c getting it live through b')
})

void test('around a hub every spoke hears every other spoke live', async t => {
  const hub = await startNode(t, { nick: 'hub' })
  const spokes = [await startNode(t, { nick: 's1', peers: [hub.addr] }), await startNode(t, { nick: 's2', peers: [hub.addr] })]
  spokes.push(await startNode(t, { nick: 's3', peers: [hub.addr] }))
  await roomPeers([hub, ...spokes], n => (n === hub ? 3 : 1))
  // The hub relays to its mesh: wait until every spoke has grafted it (a heartbeat each, later on a busy machine).
  await waitUntil(() => meshPeers(hub).length === 3, 'the hub meshed with every spoke')
  for (const [i, s] of spokes.entries()) await s.app.chat.send('main', `hello from spoke ${i}`)
  await waitUntil(
    () => spokes.every((s, i) => spokes.every((_, j) => j === i || liveTexts(s).includes(`hello from spoke ${j}`))),
    'every spoke hearing the others'
  )
})
