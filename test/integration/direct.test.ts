/**
 * Real nodes in one process on 127.0.0.1 (mDNS off): direct dial with --peer, chat both ways,
 * start order, peer and room events with nicks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadOrCreateIdentity } from '../../src/store/identity.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { chatEvent, createNode, freePort, startApp, startNode, tempDataDir, type TestNode } from '../helpers/nodes.js'
import { waitUntil } from '../helpers/wait.js'

/** Both nodes see each other in the room, so a message sent now reaches the other. */
async function inRoom(a: TestNode, b: TestNode, room = 'main'): Promise<void> {
  await waitUntil(
    () => a.app.network.roomPeers(room).includes(b.peerId) && b.app.network.roomPeers(room).includes(a.peerId),
    `${room} membership`
  )
}

void test('a node dialing another with --peer connects and they chat both ways', async t => {
  const alice = await startNode(t, { nick: 'alice' })
  const bob = await startNode(t, { nick: 'bob', peers: [alice.addr] })
  await inRoom(alice, bob)

  const sent = await bob.app.chat.send('main', 'hi alice')
  await waitUntil(() => alice.texts().includes('hi alice'), 'alice receiving')
  const got = alice.received.find(r => r.message.text === 'hi alice')
  assert.equal(got?.origin, 'live')
  assert.equal(got?.own, false)
  assert.equal(got?.message.id, sent.id)
  assert.equal(got?.message.nick, 'bob')
  assert.equal(got?.message.from, bob.peerId)

  await alice.app.chat.send('main', 'hi bob\nsecond line')
  await waitUntil(() => bob.texts().includes('hi bob\nsecond line'), 'bob receiving')

  // Own messages are announced as own and local.
  assert.deepEqual(
    bob.received.filter(r => r.own).map(r => [r.message.text, r.origin]),
    [['hi alice', 'local']]
  )
  // Each side stored both messages, in the same order.
  assert.deepEqual(
    alice.app.chat.messages('main').map(m => m.id),
    bob.app.chat.messages('main').map(m => m.id)
  )
  assert.equal(alice.app.network.connectionCount(bob.peerId), 1)
})

void test('the order in which nodes start does not matter: the dialer keeps retrying until the other is up', async t => {
  const listenerDir = await tempDataDir(t)
  const { privateKey } = await loadOrCreateIdentity(listenerDir)
  const listenerId = peerIdFromPrivateKey(privateKey).toString()
  const port = await freePort()

  const dialerApp = await createNode(t, { nick: 'early', peers: [`/ip4/127.0.0.1/tcp/${port}/p2p/${listenerId}`] })
  const failures: number[] = []
  dialerApp.chat.on('dial:error', e => failures.push(e.detail.attempt))
  const dialer = await startApp(dialerApp)
  await waitUntil(() => failures.length >= 2, 'the dialer failing while nobody listens')

  const listener = await startNode(t, { nick: 'late', port, dataDir: listenerDir })
  assert.equal(listener.peerId, listenerId)
  await inRoom(dialer, listener)
  await dialer.app.chat.send('main', 'you are up')
  await waitUntil(() => listener.texts().includes('you are up'), 'the message after the late start')
  await listener.app.chat.send('main', 'yes')
  await waitUntil(() => dialer.texts().includes('yes'), 'the reply')
})

void test('peers connecting and leaving, and joining and leaving rooms, are announced with their nicks', async t => {
  const alice = await startNode(t, { nick: 'alice', rooms: ['main', 'lab'] })
  const connected = chatEvent(alice.app.chat, 'peer:connect')
  const joinedMain = chatEvent(alice.app.chat, 'room:join', d => d.room === 'main')
  const bobApp = await createNode(t, { nick: 'bob', peers: [alice.addr] })
  const bobSaw = chatEvent(bobApp.chat, 'room:join', d => d.room === 'main')
  const bob = await startApp(bobApp)

  const c = await connected
  assert.equal(c.peerId, bob.peerId)
  assert.equal(c.nick, 'bob')
  assert.equal((await joinedMain).nick, 'bob')
  assert.deepEqual(await bobSaw, { room: 'main', peerId: alice.peerId, nick: 'alice' })

  const joinedLab = chatEvent(alice.app.chat, 'room:join', d => d.room === 'lab')
  bob.app.chat.join('lab')
  const j = await joinedLab
  assert.deepEqual([j.peerId, j.nick], [bob.peerId, 'bob'])
  assert.deepEqual(
    alice.app.chat.roomPeers('lab').map(p => p.nick),
    ['bob']
  )

  const leftLab = chatEvent(alice.app.chat, 'room:leave', d => d.room === 'lab')
  bob.app.chat.leave('lab')
  const l = await leftLab
  assert.deepEqual([l.peerId, l.nick], [bob.peerId, 'bob'])

  const nick = chatEvent(alice.app.chat, 'peer:nick')
  bob.app.chat.setNick('robert')
  assert.deepEqual(await nick, { peerId: bob.peerId, nick: 'robert', previous: 'bob' })

  const gone = chatEvent(alice.app.chat, 'peer:disconnect')
  const leftMain = chatEvent(alice.app.chat, 'room:leave', d => d.room === 'main')
  await bob.app.stop()
  const d = await gone
  assert.deepEqual([d.peerId, d.nick], [bob.peerId, 'robert'])
  assert.equal((await leftMain).nick, 'robert')
})
