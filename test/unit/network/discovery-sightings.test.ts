/** mDNS sightings: a peer seen again on the same addresses is not parsed again; new addresses are. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dnsPacket from 'dns-packet'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
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
