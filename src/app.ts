/**
 * The composition root: builds every part in order (data dir, identity, chat.log, network, chat
 * service, front ends), starts them, and stops them in reverse.
 *
 * @example
 * ```ts
 * const app = await App.create({ config })
 * const info = await app.start()
 * console.log(info.peerId)
 * await app.stop()
 * ```
 */
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { DEFAULT_SYNC_INTERVAL_S, type Config } from './config.js'
import {
  ChatService,
  createHybridClock,
  createSigner,
  createVerifier,
  compareMessages,
  type ChatMessage,
  type HistorySyncInit,
  type HybridClockInit,
  type StartReport
} from './chat/index.js'
import { Network, type NetworkInit } from './network/index.js'
import { acquireDataDir, createChatLog, createHistory, loadOrCreateIdentity, type ChatLogInit, type DataDirLock } from './store/index.js'
import { Terminal, renderBanner, renderError, renderNotice } from './cli/index.js'
import { TypedEvents } from './events.js'
import { HttpApi, type HttpApiInit } from './api/index.js'
import { readVersion } from './version.js'

export const CHAT_LOG_FILE = 'chat.log'
/** Messages of the current room shown when the terminal starts. */
export const RECENT_ON_START = 20

/** Network knobs tests turn (timings in milliseconds, many nodes on one IP). */
export type NetworkTuning = Partial<
  Pick<
    NetworkInit,
    | 'sharedHost'
    | 'connector'
    | 'health'
    | 'helloTimeout'
    | 'heartbeatInterval'
    | 'mdnsInterval'
    | 'maxInvalid'
    | 'invalidWindow'
    | 'banDuration'
    | 'sync'
  >
>

export interface TerminalOptions {
  input: Readable
  output: Writable
  interactive: boolean
  color: boolean
}

export interface AppInit {
  config: Config
  version?: string
  /** The terminal front end, or false for none (tests, headless). */
  terminal?: TerminalOptions | false
  network?: NetworkTuning
  /** Builds the command printed for starting a second node. */
  connectCommand?: (peerAddr: string, port: number) => string
  /** fdatasync chat.log writes (default true). */
  syncLog?: boolean
  /** chat.log's batching delays (tests stretch them). */
  log?: Pick<ChatLogInit, 'linger' | 'syncDelay'>
  /** History sync timings (tests use milliseconds); the room limit comes from --history-limit. */
  sync?: Omit<HistorySyncInit, 'roomLimit'>
  /** The hybrid clock's wall clock and bound (tests skew it). */
  clock?: HybridClockInit
  /** HTTP knobs tests turn (timeouts, limits); host and port come from the config. */
  http?: Omit<HttpApiInit, 'host' | 'port' | 'allowRemote'>
}

export interface StartInfo extends StartReport {
  peerId: string
  addresses: string[]
  dataDir: string
  logPath: string
  /** The data dir was in use, so an instance folder inside it was used. */
  dataDirFallback: boolean
  /** The web UI's address when --enable-http is on. */
  http?: string
}

export interface AppEvents extends Record<string, unknown> {
  /** The user asked to quit from a front end. */
  quit: Record<string, never>
}

export function defaultConnectCommand(peerAddr: string, port: number): string {
  return `lan-chat --port ${port === 0 ? 0 : port + 1} --peer ${peerAddr}`
}

/** The address another node should dial: a LAN address if there is one. */
export function bestAddress(addresses: string[]): string | undefined {
  return addresses.find(a => a.startsWith('/ip4/') && !a.startsWith('/ip4/127.')) ?? addresses[0]
}

export class App extends TypedEvents<AppEvents> {
  readonly config: Config
  readonly chat: ChatService
  readonly network: Network
  readonly terminal?: Terminal
  /** The HTTP API and web UI (config.http). */
  readonly http?: HttpApi
  readonly dataDir: string
  readonly logPath: string
  private readonly lock: DataDirLock
  private readonly init: AppInit
  private state: 'new' | 'started' | 'stopped' = 'new'

  private constructor(
    init: AppInit,
    parts: { lock: DataDirLock; chat: ChatService; network: Network; logPath: string; terminal?: Terminal; http?: HttpApi }
  ) {
    super()
    this.init = init
    this.config = init.config
    this.lock = parts.lock
    this.chat = parts.chat
    this.network = parts.network
    this.terminal = parts.terminal
    this.http = parts.http
    this.dataDir = parts.lock.dir
    this.logPath = parts.logPath
  }

  static async create(init: AppInit): Promise<App> {
    const config = init.config
    const lock = await acquireDataDir(config.dataDir)
    try {
      const { privateKey } = await loadOrCreateIdentity(lock.dir)
      const logPath = join(lock.dir, CHAT_LOG_FILE)
      const network = await Network.create({
        privateKey,
        host: config.host,
        port: config.port,
        rendezvous: config.mdns ? config.rendezvous : undefined,
        nick: config.nick,
        peers: config.peers,
        ...init.network
      })
      const chat = new ChatService(
        {
          network,
          log: createChatLog({ ...init.log, path: logPath, sync: init.syncLog }),
          history: createHistory<ChatMessage>({ compare: compareMessages, limit: config.historyLimit }),
          signer: createSigner(privateKey, network.peerId),
          verifier: createVerifier(),
          clock: createHybridClock(init.clock)
        },
        {
          nick: config.nick,
          rooms: config.rooms,
          sync: { interval: (config.syncInterval ?? DEFAULT_SYNC_INTERVAL_S) * 1000, ...init.sync, roomLimit: config.historyLimit }
        }
      )
      const t = init.terminal
      const terminal =
        t == null || t === false
          ? undefined
          : new Terminal(chat, { input: t.input, output: t.output, interactive: t.interactive, style: { color: t.color } })
      const http = config.http
        ? new HttpApi({ chat }, { ...init.http, host: config.httpHost, port: config.httpPort, allowRemote: config.httpAllowRemote })
        : undefined
      return new App(init, { lock, chat, network, logPath, terminal, http })
    } catch (err) {
      await lock.release()
      throw err
    }
  }

  async start(): Promise<StartInfo> {
    if (this.state !== 'new') throw new Error('an app can be started once')
    this.state = 'started'
    try {
      const report = await this.chat.start()
      const http = await this.http?.start()
      await this.network.start()
      const info: StartInfo = {
        ...report,
        peerId: this.network.peerId,
        addresses: this.network.addresses(),
        dataDir: this.dataDir,
        logPath: this.logPath,
        dataDirFallback: this.lock.fallback,
        http
      }
      this.startTerminal(info)
      return info
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  private startTerminal(info: StartInfo): void {
    const t = this.terminal
    if (t == null) return
    const style = { color: this.init.terminal !== false && this.init.terminal?.color === true }
    const addr = bestAddress(info.addresses)
    const command = addr == null ? '' : (this.init.connectCommand ?? defaultConnectCommand)(addr, this.config.port)
    t.print(
      renderBanner(
        {
          version: this.init.version ?? readVersion(),
          peerId: info.peerId,
          nick: this.chat.getNick(),
          addresses: info.addresses,
          logPath: info.logPath,
          rooms: this.chat.rooms(),
          rendezvous: this.config.mdns ? this.config.rendezvous : undefined,
          connectCommand: command,
          http: info.http
        },
        style
      )
    )
    if (this.http?.remote === true)
      t.print(
        renderError(
          style,
          `the web UI is reachable from the network (--http-allow-remote): anyone who can reach ${info.http} can read and post as you`
        )
      )
    if (info.dataDirFallback)
      t.print(renderNotice(style, `data directory ${this.config.dataDir} is in use by another node; this node uses ${info.dataDir}`))
    for (const p of info.problems) {
      t.print(
        renderError(
          style,
          p.kind === 'torn'
            ? `chat.log line ${p.line}: ${p.message}; saved to ${p.savedTo ?? '?'} and left out`
            : `chat.log line ${p.line}: ${p.message}; line skipped, the rest is kept`
        )
      )
    }
    t.showRecent(RECENT_ON_START)
    t.on('quit', () => {
      this.emit('quit', {})
    })
    t.start()
  }

  /** Leaves the rooms, closes connections, flushes chat.log, releases the data dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    this.terminal?.stop()
    try {
      await this.http?.stop()
      await this.chat.stop()
    } finally {
      try {
        await this.network.stop()
      } finally {
        await this.lock.release()
      }
    }
  }
}
