/**
 * The benchmark's baseline: the smallest js-libp2p 3 program that does what a chat needs, built from
 * the same packages as LAN Chat with their default options (tcp, noise, yamux, identify, mdns,
 * gossipsub). libp2p 3 does not dial discovered peers by itself, so this program dials every peer
 * mDNS reports. It subscribes to one topic, publishes each stdin line as a message, and prints:
 *
 *   listening <multiaddr>          once listening
 *   connected <peerId>             every new peer connection
 *   joined <peerId>                a peer subscribed to the topic
 *   recv <t> <text>                a message, <t> = receive time (ms since the epoch, fractional)
 *   error <text>                   a publish failed
 *
 * Usage: node dist/bench/baseline-node.js <mdns-service-tag> <topic>
 * The service tag is bench-specific, so a baseline never finds LAN Chat nodes (or the reverse).
 */
import '../src/polyfills.js'
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { gossipsub } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const [serviceTag = '_lanchat-bench-baseline._udp.local', topic = 'bench'] = process.argv.slice(2)
const now = (): number => performance.timeOrigin + performance.now()
const out = (line: string): void => {
  process.stdout.write(line + '\n')
}

const node = await createLibp2p({
  addresses: { listen: ['/ip4/0.0.0.0/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [mdns({ serviceTag })],
  services: { identify: identify(), pubsub: gossipsub() }
})
const pubsub = node.services.pubsub

node.addEventListener('peer:discovery', (e: CustomEvent<{ id: PeerId; multiaddrs: Multiaddr[] }>) => {
  if (node.getConnections(e.detail.id).length > 0) return
  node.dial(e.detail.id).catch(() => {})
})
node.addEventListener('peer:connect', e => {
  out(`connected ${e.detail.toString()}`)
})
pubsub.addEventListener('subscription-change', e => {
  for (const s of e.detail.subscriptions) if (s.topic === topic && s.subscribe) out(`joined ${e.detail.peerId.toString()}`)
})
pubsub.addEventListener('message', e => {
  if (e.detail.topic !== topic) return
  out(`recv ${now().toFixed(3)} ${new TextDecoder().decode(e.detail.data)}`)
})
pubsub.subscribe(topic)
for (const a of node.getMultiaddrs()) out(`listening ${a.toString()}`)

const encoder = new TextEncoder()
createInterface({ input: process.stdin }).on('line', line => {
  pubsub.publish(topic, encoder.encode(line)).catch((err: Error) => {
    out(`error ${err.message}`)
  })
})
const stop = (): void => {
  Promise.resolve(node.stop()).then(
    () => process.exit(0),
    () => process.exit(1)
  )
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
