/**
 * Two real nodes in one process (127.0.0.1, mDNS off) that dial each other at the same moment,
 * each given the other with --peer: when both dials land, both ends keep the same single
 * connection (the one the higher peer ID dialed, see network/duplicates.ts), and the rooms still
 * work over it in both directions (gossipsub moves to the connection kept).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../../src/store/identity.js'
import { createNode, freePort, startApp, tempDataDir, type TestNode } from '../helpers/nodes.js'
import { waitUntil } from '../helpers/wait.js'

async function prepared(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dataDir: string; peerId: string; port: number }> {
  const dataDir = await tempDataDir(t)
  const { privateKey } = await loadOrCreateIdentity(dataDir)
  return { dataDir, peerId: peerIdFromPrivateKey(privateKey).toString(), port: await freePort() }
}

void test('two nodes dialing each other at once end up with one connection, the same at both ends, and chat over it', async t => {
  const a = await prepared(t)
  const b = await prepared(t)
  const addr = (p: { port: number; peerId: string }): string => `/ip4/127.0.0.1/tcp/${p.port}/p2p/${p.peerId}`
  const appA = await createNode(t, { nick: 'ann', port: a.port, dataDir: a.dataDir, peers: [addr(b)] })
  const appB = await createNode(t, { nick: 'ben', port: b.port, dataDir: b.dataDir, peers: [addr(a)] })
  const [ann, ben] = await Promise.all([startApp(appA), startApp(appB)])

  const single = (x: TestNode, y: TestNode): boolean => x.app.network.connectionCount(y.peerId) === 1
  await waitUntil(() => single(ann, ben) && single(ben, ann), 'one connection at each end')
  // Still one a little later: no side redials or closes the one kept.
  await new Promise(resolve => setTimeout(resolve, 300))
  assert.equal(ann.app.network.connectionCount(ben.peerId), 1)
  assert.equal(ben.app.network.connectionCount(ann.peerId), 1)

  await waitUntil(
    () => ann.app.network.roomPeers('main').includes(ben.peerId) && ben.app.network.roomPeers('main').includes(ann.peerId),
    'both in #main'
  )
  // Both ends hold the same TCP connection: exactly one of them sees the other's listen port.
  const remotePort = (x: TestNode, y: TestNode): number =>
    Number(
      x.app.network
        .peers()
        .find(p => p.peerId === y.peerId)
        ?.addrs[0]?.split('/tcp/')[1]
        ?.split('/')[0]
    )
  const annDialed = remotePort(ann, ben) === b.port
  const benDialed = remotePort(ben, ann) === a.port
  assert.ok(annDialed !== benDialed, `one dialer: ann sees port ${remotePort(ann, ben)}, ben sees ${remotePort(ben, ann)}`)

  await ann.app.chat.send('main', 'one line, one connection')
  await waitUntil(() => ben.texts().includes('one line, one connection'), 'ben receiving')
  await ben.app.chat.send('main', 'and back')
  await waitUntil(() => ann.texts().includes('and back'), 'ann receiving')
})
