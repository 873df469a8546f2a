/**
 * The node's configuration: typed, with named defaults, parsed from command-line flags.
 * Pure: the caller hands in argv and the environment facts it needs (user name, home dir).
 *
 * @example
 * ```ts
 * const result = parseArgs(['-port', '9000', '--room', 'lab'], { user: 'ada', home: '/home/ada' })
 * if (result.kind === 'run') console.log(result.config.port) // 9000
 * ```
 */
import { parseArgs as parseNodeArgs } from 'node:util'
import { join } from 'node:path'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { normalizeNick, normalizeRoom } from './rules.js'
import { UsageError } from './errors.js'

export const DEFAULT_PORT = 0
export const DEFAULT_HOST = '0.0.0.0'
export const DEFAULT_ROOM = 'main'
export const DEFAULT_RENDEZVOUS = 'lan-chat'
export const DEFAULT_HTTP_PORT = 3001
export const DEFAULT_HTTP_HOST = '127.0.0.1'
export const DEFAULT_NICK = 'anon'
export const DEFAULT_HISTORY_LIMIT = 50_000
/** Seconds between history sync rounds with each peer of each room. */
export const DEFAULT_SYNC_INTERVAL_S = 30
export const DEFAULT_DATA_DIR_NAME = 'lan-chat'

export interface Config {
  /** TCP port to listen on; 0 picks a free one. */
  port: number
  /** Address to listen on. */
  host: string
  /** Multiaddrs to dial at start (and keep redialing). */
  peers: Multiaddr[]
  /** mDNS rendezvous tag: only nodes with the same tag connect through discovery. */
  rendezvous: string
  /** Use mDNS discovery on the LAN. */
  mdns: boolean
  nick: string
  /** Rooms to join at start; the first is the one you type into. */
  rooms: string[]
  /** Where the key, chat.log and lock live. */
  dataDir: string
  /** Serve the HTTP API and web UI. */
  http: boolean
  httpPort: number
  httpHost: string
  /** Allow binding the HTTP API to a non-loopback address. */
  httpAllowRemote: boolean
  /** Messages kept per room. */
  historyLimit: number
  /** Seconds between periodic history sync rounds (0: only on connect, join and gaps); default DEFAULT_SYNC_INTERVAL_S. */
  syncInterval?: number
  /** Print debug information about the network. */
  verbose: boolean
}

export interface Environment {
  /** The OS user name, used as the default nick. */
  user?: string
  /** The user's home directory. */
  home?: string
  /** XDG_DATA_HOME if set. */
  xdgDataHome?: string
}

export type ParseResult = { kind: 'run'; config: Config } | { kind: 'help'; text: string } | { kind: 'version' }

interface FlagSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  value?: string
  description: string
  default?: string
}

/** Every flag, in the order `--help` lists them. */
export const FLAGS: Record<string, FlagSpec> = {
  port: { type: 'string', value: 'n', description: 'TCP port to listen on (0 picks a free port)', default: String(DEFAULT_PORT) },
  host: { type: 'string', value: 'ip', description: 'address to listen on', default: DEFAULT_HOST },
  peer: { type: 'string', multiple: true, value: 'multiaddr', description: 'dial this peer at start and keep reconnecting (may repeat)' },
  rendezvous: {
    type: 'string',
    value: 'tag',
    description: 'mDNS tag: only nodes with the same tag find each other',
    default: DEFAULT_RENDEZVOUS
  },
  'no-mdns': { type: 'boolean', description: 'do not discover peers on the LAN' },
  nick: { type: 'string', value: 'name', description: 'your name in the chat', default: 'your OS user name' },
  room: {
    type: 'string',
    multiple: true,
    value: 'name',
    description: 'room to join (may repeat; the first is where you type)',
    default: DEFAULT_ROOM
  },
  'data-dir': {
    type: 'string',
    value: 'dir',
    description: 'where the key, chat.log and history live',
    default: `$XDG_DATA_HOME/${DEFAULT_DATA_DIR_NAME} or ~/.local/share/${DEFAULT_DATA_DIR_NAME}`
  },
  'history-limit': { type: 'string', value: 'n', description: 'messages kept per room', default: String(DEFAULT_HISTORY_LIMIT) },
  'sync-interval': {
    type: 'string',
    value: 's',
    description: 'seconds between history sync rounds with each peer (0: only on connect)',
    default: String(DEFAULT_SYNC_INTERVAL_S)
  },
  'enable-http': { type: 'boolean', description: 'serve the HTTP API and web UI' },
  'http-port': { type: 'string', value: 'n', description: 'port of the HTTP API and web UI', default: String(DEFAULT_HTTP_PORT) },
  'http-host': {
    type: 'string',
    value: 'ip',
    description: 'address of the HTTP API (non-loopback needs --http-allow-remote)',
    default: DEFAULT_HTTP_HOST
  },
  'http-allow-remote': { type: 'boolean', description: 'allow --http-host to be a non-loopback address' },
  verbose: { type: 'boolean', description: 'print network diagnostics' },
  help: { type: 'boolean', description: 'show this help' },
  version: { type: 'boolean', description: 'print the version' }
}

/** Converts Go-style single-dash long flags (`-port 9000`, `-port=9000`) to `--port`. */
export function normalizeGoFlags(argv: readonly string[]): string[] {
  const out: string[] = []
  let passthrough = false
  for (const arg of argv) {
    if (passthrough || arg === '--') {
      passthrough = true
      out.push(arg)
      continue
    }
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg)
    if (m != null && m[1] in FLAGS) out.push(`--${m[1]}${m[2] ?? ''}`)
    else out.push(arg)
  }
  return out
}

export function defaultDataDir(env: Environment): string {
  if (env.xdgDataHome != null && env.xdgDataHome !== '') return join(env.xdgDataHome, DEFAULT_DATA_DIR_NAME)
  return join(env.home ?? '.', '.local', 'share', DEFAULT_DATA_DIR_NAME)
}

export function helpText(version: string): string {
  const lines = [
    `lan-chat ${version}: peer-to-peer chat on your local network`,
    '',
    'Usage: lan-chat [flags]',
    '',
    'Flags (Go-style -flag works too):'
  ]
  for (const [name, spec] of Object.entries(FLAGS)) {
    const left = `  --${name}${spec.value != null ? ` <${spec.value}>` : ''}`
    const def = spec.default != null ? ` (default: ${spec.default})` : ''
    lines.push(`${left.padEnd(30)} ${spec.description}${def}`)
  }
  lines.push(
    '',
    'Examples:',
    '  lan-chat                                   join room "main" on the LAN',
    '  lan-chat --port 9000 --no-mdns             listen on 9000 and wait for a direct dial',
    '  lan-chat --port 9001 --peer /ip4/127.0.0.1/tcp/9000/p2p/<peer-id>'
  )
  return lines.join('\n')
}

function parsePort(flag: string, value: string | undefined, fallback: number): number {
  if (value == null) return fallback
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a number from 0 to 65535, got "${value}"`)
  const n = Number(value)
  if (n > 65535) throw new UsageError(`--${flag} must be a number from 0 to 65535, got ${value}`)
  return n
}

function parsePositive(flag: string, value: string | undefined, fallback: number): number {
  if (value == null) return fallback
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${flag} must be a whole number above 0, got "${value}"`)
  return Number(value)
}

function parsePeer(value: string): Multiaddr {
  let ma: Multiaddr
  try {
    ma = multiaddr(value)
  } catch {
    throw new UsageError(`--peer: cannot parse multiaddr "${value}" (expected e.g. /ip4/192.168.1.20/tcp/9000/p2p/12D3KooW...)`)
  }
  const protos = ma.getComponents().map(c => c.name)
  if (!protos.includes('tcp')) throw new UsageError(`--peer: "${value}" has no /tcp/ part; LAN Chat dials over TCP`)
  return ma
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function withUsage<T>(fn: () => T, flag: string): T {
  try {
    return fn()
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`)
  }
}

/** Parses argv (without the node and script paths). Throws UsageError on anything unusable. */
export function parseArgs(argv: readonly string[], env: Environment = {}): ParseResult {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {}
  for (const [name, spec] of Object.entries(FLAGS)) options[name] = { type: spec.type, multiple: spec.multiple === true }
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>
  try {
    ;({ values } = parseNodeArgs({ args: normalizeGoFlags(argv), options, strict: true, allowPositionals: false }))
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0].replace(/\. To specify.*$/, '')
    throw new UsageError(`${msg} (see --help)`)
  }
  if (values.help === true) return { kind: 'help', text: '' }
  if (values.version === true) return { kind: 'version' }

  const str = (k: string): string | undefined => values[k] as string | undefined
  const list = (k: string): string[] => (values[k] as string[] | undefined) ?? []

  const rendezvous = str('rendezvous') ?? DEFAULT_RENDEZVOUS
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/.test(rendezvous)) {
    throw new UsageError('--rendezvous must be 1-41 letters, digits, "-" or "_"')
  }
  const nickInput = str('nick') ?? env.user ?? DEFAULT_NICK
  const nick = str('nick') != null ? withUsage(() => normalizeNick(nickInput), 'nick') : safeDefaultNick(nickInput)
  const roomsInput = list('room')
  const rooms = [...new Set((roomsInput.length > 0 ? roomsInput : [DEFAULT_ROOM]).map(r => withUsage(() => normalizeRoom(r), 'room')))]
  const httpHost = str('http-host') ?? DEFAULT_HTTP_HOST
  const httpAllowRemote = values['http-allow-remote'] === true
  if (!isLoopback(httpHost) && !httpAllowRemote) {
    throw new UsageError(
      `--http-host ${httpHost} is not a loopback address: anyone on the network could read and post as you; add --http-allow-remote to do it anyway`
    )
  }
  const dataDir = str('data-dir')
  if (dataDir === '') throw new UsageError('--data-dir must not be empty')

  return {
    kind: 'run',
    config: {
      port: parsePort('port', str('port'), DEFAULT_PORT),
      host: str('host') ?? DEFAULT_HOST,
      peers: list('peer').map(parsePeer),
      rendezvous,
      mdns: values['no-mdns'] !== true,
      nick,
      rooms,
      dataDir: dataDir ?? defaultDataDir(env),
      http: values['enable-http'] === true,
      httpPort: parsePort('http-port', str('http-port'), DEFAULT_HTTP_PORT),
      httpHost,
      httpAllowRemote,
      historyLimit: parsePositive('history-limit', str('history-limit'), DEFAULT_HISTORY_LIMIT),
      syncInterval: parseSyncInterval(str('sync-interval')),
      verbose: values.verbose === true
    }
  }
}

function parseSyncInterval(value: string | undefined): number {
  if (value == null) return DEFAULT_SYNC_INTERVAL_S
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n) || n > 86_400) throw new UsageError('--sync-interval must be 0–86400 seconds')
  return n
}

/** An OS user name may not be a valid nick (e.g. empty); fall back rather than refuse to start. */
function safeDefaultNick(user: string): string {
  try {
    return normalizeNick(user)
  } catch {
    return DEFAULT_NICK
  }
}
