/**
 * mDNS discovery that starts asking the LAN only once this node listens.
 *
 * libp2p starts its services before its transports listen, so @libp2p/mdns sends its first query
 * while the node has no address to answer with: the peers answer it (the new node finds them), but
 * nobody learns about the new node until someone's next query, up to an mDNS interval later. Nodes
 * started together then find each other only after a full interval, and a new node is found by one
 * side only, so the lower peer ID ends up dialing. Started after listening, the first query is
 * answered by the node itself too (multicast loops back to the sender), so every node on the LAN
 * learns about the new one at the moment it learns about them: discovery takes milliseconds and
 * both sides of a pair discover each other at once, which the dial tie-break relies on.
 *
 * A libp2p service: `peer` events carry `{ id, multiaddrs }` as from @libp2p/mdns. It is not
 * registered as libp2p peer discovery: the connector decides whom to dial.
 */
import { mdns, type MulticastDNSComponents } from '@libp2p/mdns'
import type { Libp2pEvents, PeerDiscovery, PeerInfo, Startable, TypedEventTarget } from '@libp2p/interface'

export interface LanDiscoveryInit {
  /** The mDNS service name (see `mdnsServiceTag`). */
  serviceTag: string
  /** How often to query the LAN, in ms. */
  interval: number
}

export interface LanDiscoveryComponents extends MulticastDNSComponents {
  events: TypedEventTarget<Libp2pEvents>
}

export class LanDiscovery extends EventTarget implements Startable {
  private readonly components: LanDiscoveryComponents
  private readonly inner: PeerDiscovery & Startable
  private running = false
  private started = false
  private readonly onListening = (): void => {
    this.begin()
  }

  private readonly forward = (e: CustomEvent<PeerInfo>): void => {
    this.dispatchEvent(new CustomEvent('peer', { detail: e.detail }))
  }

  constructor(components: LanDiscoveryComponents, init: LanDiscoveryInit) {
    super()
    this.components = components
    this.inner = mdns({ serviceTag: init.serviceTag, interval: init.interval })(components) as PeerDiscovery & Startable
  }

  readonly [Symbol.toStringTag] = 'lan-chat/discovery'

  isStarted(): boolean {
    return this.started
  }

  start(): void {
    this.started = true
  }

  /** Runs while the transports start listening: begins as soon as there is an address to announce. */
  afterStart(): void {
    if (this.components.addressManager.getAddresses().length > 0) this.begin()
    else this.components.events.addEventListener('transport:listening', this.onListening)
  }

  async stop(): Promise<void> {
    this.started = false
    this.components.events.removeEventListener('transport:listening', this.onListening)
    if (!this.running) return
    this.running = false
    this.inner.removeEventListener('peer', this.forward)
    await this.inner.stop()
  }

  private begin(): void {
    this.components.events.removeEventListener('transport:listening', this.onListening)
    if (this.running || !this.started) return
    this.running = true
    this.inner.addEventListener('peer', this.forward)
    void Promise.resolve(this.inner.start()).catch(() => {
      this.running = false
    })
  }
}

/** The libp2p service factory. */
export function lanDiscovery(init: LanDiscoveryInit): (components: LanDiscoveryComponents) => LanDiscovery {
  return components => new LanDiscovery(components, init)
}
