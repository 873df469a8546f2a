/**
 * mDNS sightings: a peer seen again on the same addresses is not parsed again; new addresses are.
 * Goodbyes (RFC 6762 §10.1): one from the instance a peer announced makes its disconnect a
 * departure, not a loss to look for.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dnsPacket from 'dns-packet'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter, type ComponentLogger, type Libp2pEvents, type Logger, type PeerInfo } from '@libp2p/interface'
import type { Packet } from 'dns-packet'
import { lanDiscovery } from '../../../src/network/discovery.js'
import { buildResponse } from '../../../src/network/mdns-records.js'

const silent = Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {}, newScope: () => silent }) as unknown as Logger
const logger: ComponentLogger = { forComponent: () => silent }
const TAG = '_lanchat-lab._udp.local'

void test('a peer sighted again on the same addresses comes out as the same parsed peer; new addresses are parsed', async () => {
  // Only constructs the service (no socket: no multicast outside a test namespace) and hands it
  // answers as multicast-dns would, encoded and decoded by dns-packet.
  const discovery = lanDiscovery({ serviceTag: TAG })({
    addressManager: { getAddresses: () => [] },
    events: new TypedEventEmitter<Libp2pEvents>(),
    logger
  })
  const seen: PeerInfo[] = []
  discovery.addEventListener('peer', e => seen.push((e as CustomEvent<PeerInfo>).detail))
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const answer = (ip: string): Packet => dnsPacket.decode(dnsPacket.encode(buildResponse(TAG, 'peer-a', [`/ip4/${ip}/tcp/4001/p2p/${id}`])))
  const onResponse = (discovery as unknown as { onResponse: (p: Packet) => void }).onResponse

  onResponse(answer('192.168.1.5'))
  onResponse(answer('192.168.1.5'))
  onResponse(answer('192.168.1.9'))

  assert.equal(seen.length, 3, 'every sighting is reported (the connector counts them)')
  assert.equal(seen[0].id.toString(), id)
  assert.equal(seen[1], seen[0], 'same addresses: the same parsed peer')
  assert.notEqual(seen[2], seen[0])
  assert.deepEqual(
    seen[2].multiaddrs.map(a => a.toString()),
    ['/ip4/192.168.1.9/tcp/4001']
  )
})

void test('a goodbye from the instance a peer announced is a departure: a goodbye event, and its disconnect is no loss', async () => {
  const events = new TypedEventEmitter<Libp2pEvents>()
  const discovery = lanDiscovery({ serviceTag: TAG })({ addressManager: { getAddresses: () => [] }, events, logger })
  discovery.start()
  const goodbyes: string[] = []
  discovery.addEventListener('goodbye', e => goodbyes.push((e as CustomEvent<string>).detail))
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const record = (instance: string, ttl: number): Packet =>
    dnsPacket.decode(dnsPacket.encode(buildResponse(TAG, instance, [`/ip4/192.168.1.5/tcp/4001/p2p/${id}`], ttl)))
  const internals = discovery as unknown as { onResponse: (p: Packet) => void; lost: Set<string> }
  const disconnect = (): void => {
    events.dispatchEvent(new CustomEvent('peer:disconnect', { detail: peerIdFromString(id) }))
  }

  internals.onResponse(record('peer-a', 120))
  internals.onResponse(record('not-peer-a', 0))
  assert.deepEqual(goodbyes, [], 'a goodbye from an instance the peer never announced is ignored')
  internals.onResponse(record('peer-a', 0))
  assert.deepEqual(goodbyes, [id])
  disconnect()
  assert.equal(internals.lost.size, 0, 'its disconnect is a departure')

  internals.onResponse(record('peer-a-restarted', 120))
  disconnect()
  assert.ok(internals.lost.has(id), 'seen again, then gone without a goodbye: a loss')
  await discovery.stop()
})
