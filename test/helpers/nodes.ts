/**
 * Real chat nodes (App) in the test process on 127.0.0.1: mDNS off, a free port, a temporary data
 * dir, and network timings of milliseconds. Every node is stopped and its folder removed after
 * the test that made it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App, type NetworkTuning } from '../../src/app.js'
import { parseArgs, type Config } from '../../src/config.js'
import type { ChatEvents, ChatMessage, ChatService, MessageOrigin } from '../../src/chat/index.js'
import type { ChatLogInit } from '../../src/store/index.js'
import { nextEvent } from './wait.js'

/** Fast timings for nodes on loopback; the health check stays lenient so a busy machine keeps its peers. */
export const FAST_TUNING: NetworkTuning = {
  sharedHost: true,
  heartbeatInterval: 100,
  helloTimeout: 2_000,
  connector: { tickInterval: 20, backoffMin: 50, backoffMax: 500, mdnsGrace: 100 },
  health: { interval: 1_000, timeout: 5_000, maxFailures: 5 }
}

export interface TestContext {
  after(fn: () => Promise<void> | void): void
}

export interface NodeOptions {
  nick?: string
  rooms?: string[]
  peers?: string[]
  port?: number
  /** Reuse this data dir (restart); otherwise a new temporary one. */
  dataDir?: string
  tuning?: NetworkTuning
  /** fdatasync chat.log (default false: tests do not need the disk) and its batching delays. */
  log?: Pick<ChatLogInit, 'linger' | 'syncDelay'> & { sync?: boolean }
}

export interface Received {
  message: ChatMessage
  origin: MessageOrigin
  own: boolean
}

export interface TestNode {
  app: App
  peerId: string
  /** The address to dial this node on. */
  addr: string
  dataDir: string
  /** Every message:new so far. */
  received: Received[]
  /** Texts received from others in a room, in arrival order. */
  texts: (room?: string) => string[]
}

export async function tempDataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lan-chat-it-'))
  t.after(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

/** A TCP port that was free a moment ago (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address == null || typeof address === 'string') reject(new Error('no port'))
        else resolve(address.port)
      })
    })
  })
}

export function nodeConfig(options: NodeOptions & { dataDir: string }): Config {
  const argv = ['--no-mdns', '--host', '127.0.0.1', '--port', String(options.port ?? 0), '--data-dir', options.dataDir]
  argv.push('--nick', options.nick ?? 'tester')
  for (const room of options.rooms ?? ['main']) argv.push('--room', room)
  for (const peer of options.peers ?? []) argv.push('--peer', peer)
  const parsed = parseArgs(argv, {})
  if (parsed.kind !== 'run') throw new Error('unexpected parse result')
  return parsed.config
}

/** Creates an App (not started); it is stopped after the test. */
export async function createNode(t: TestContext, options: NodeOptions = {}): Promise<App> {
  const dataDir = options.dataDir ?? (await tempDataDir(t))
  const app = await App.create({
    config: nodeConfig({ ...options, dataDir }),
    terminal: false,
    syncLog: options.log?.sync ?? false,
    log: options.log,
    network: { ...FAST_TUNING, ...options.tuning }
  })
  t.after(async () => {
    await app.stop()
  })
  return app
}

/** Starts an App and records what it receives. */
export async function startApp(app: App): Promise<TestNode> {
  const received: Received[] = []
  app.chat.on('message:new', e => received.push(e.detail))
  const info = await app.start()
  const addr = info.addresses.find(a => a.startsWith('/ip4/127.0.0.1/')) ?? info.addresses[0]
  return {
    app,
    peerId: info.peerId,
    addr,
    dataDir: info.dataDir,
    received,
    texts: room => received.filter(r => !r.own && (room == null || r.message.room === room)).map(r => r.message.text)
  }
}

export async function startNode(t: TestContext, options: NodeOptions = {}): Promise<TestNode> {
  return await startApp(await createNode(t, options))
}

/** Resolves with the next chat event of this type that matches. */
export async function chatEvent<K extends keyof ChatEvents & string>(
  chat: ChatService,
  type: K,
  match?: (detail: ChatEvents[K]) => boolean
): Promise<ChatEvents[K]> {
  return await nextEvent<ChatEvents, K>(chat, type, match)
}
