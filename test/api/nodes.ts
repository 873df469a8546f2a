/**
 * Real in-process nodes with the HTTP API on a random loopback port, for the HTTP and browser
 * tests: mDNS off, sharedHost tuning, short network timings, a temp data dir each. Every node
 * registers its own cleanup (stop, then remove the folder) before it starts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { App, type AppInit, type StartInfo } from '../../src/app.js'
import type { Config } from '../../src/config.js'

export interface TestContextLike {
  after: (fn: () => Promise<void> | void) => void
}

export interface HttpNode {
  app: App
  info: StartInfo
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  base: string
  dataDir: string
}

export interface HttpNodeOptions {
  nick: string
  rooms?: string[]
  /** Multiaddrs (with /p2p/) to dial. */
  peers?: string[]
  http?: AppInit['http']
  /** Turn the HTTP API off (a plain peer). */
  noHttp?: boolean
  dataDir?: string
  /** Fixed ports (to restart a node where it was); default 0 = any free port. */
  port?: number
  httpPort?: number
}

export const FAST_NETWORK: AppInit['network'] = {
  sharedHost: true,
  connector: { tickInterval: 20, backoffMin: 20, backoffMax: 200 },
  health: { interval: 200, timeout: 1_000, maxFailures: 3 },
  helloTimeout: 1_000,
  heartbeatInterval: 50
}

export function testConfig(o: HttpNodeOptions, dataDir: string): Config {
  return {
    port: o.port ?? 0,
    host: '127.0.0.1',
    peers: (o.peers ?? []).map(p => multiaddr(p)),
    rendezvous: 'lan-chat-test',
    mdns: false,
    nick: o.nick,
    rooms: o.rooms ?? ['main'],
    dataDir,
    http: o.noHttp !== true,
    httpPort: o.httpPort ?? 0,
    httpHost: '127.0.0.1',
    httpAllowRemote: false,
    historyLimit: 1000,
    verbose: false
  }
}

export async function startHttpNode(t: TestContextLike, o: HttpNodeOptions): Promise<HttpNode> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'lan-chat-http-')))
  const started: { app?: App } = {}
  t.after(async () => {
    await started.app?.stop()
    if (o.dataDir == null) await rm(dataDir, { recursive: true, force: true })
  })
  const app = await App.create({ config: testConfig(o, dataDir), terminal: false, network: FAST_NETWORK, syncLog: true, http: o.http })
  started.app = app
  const info = await app.start()
  const base = app.http != null ? `http://127.0.0.1:${app.http.port}` : ''
  return { app, info, base, dataDir }
}

/** The TCP port of a node's libp2p listener on 127.0.0.1. */
export function p2pPort(node: HttpNode): number {
  const m = /\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(node.info.addresses.join(' '))
  if (m == null) throw new Error('no loopback address')
  return Number(m[1])
}

/** A multiaddr other nodes can dial. */
export function dialAddr(node: HttpNode): string {
  const a = node.info.addresses.find(x => x.includes('/ip4/127.0.0.1/tcp/')) ?? node.info.addresses[0]
  return a.includes('/p2p/') ? a : `${a}/p2p/${node.info.peerId}`
}
