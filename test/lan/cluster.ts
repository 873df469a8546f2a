/**
 * LAN test nodes: the real `lan-chat` program, one per namespace of a virtual LAN, each with its
 * own temp data dir and a peer key made by the test (so the test knows, and can choose, which
 * peer ID is higher). Also reads, from outside the program, which TCP connections exist between
 * the hosts (`ss` in each namespace), and who dialed whom.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import type { Host, Lan } from '../helpers/netns.js'
import { startProgram, type Program } from '../helpers/program.js'

/** Every node listens on this port, each in its own namespace. */
export const LISTEN_PORT = 4100
/** How long a node gets to print its banner (a busy 2-core machine starts node slowly). */
export const BANNER_TIMEOUT_MS = 30_000

export interface Identity {
  privateKey: PrivateKey
  peerId: string
}

/** `count` fresh Ed25519 identities, lowest peer ID first (the order the tie-break uses). */
export async function identitiesByPeerId(count: number): Promise<Identity[]> {
  const ids: Identity[] = []
  for (let i = 0; i < count; i++) {
    const privateKey = await generateKeyPair('Ed25519')
    ids.push({ privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() })
  }
  return ids.sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
}

export interface NodeSpec {
  nick: string
  rendezvous: string
  host: Host
  identity: Identity
}

export interface LanNode extends NodeSpec {
  peerId: string
  dataDir: string
  logPath: string
  program: Program
  /** When the banner arrived: the node is listening and has started discovery. */
  readyAt: number
}

/** Lines the program prints; nick is a plain word in these tests. */
export const connectedTo = (nick: string): RegExp => new RegExp(`✓ mDNS connected to ${nick}$`)
export const goneLine = (nick: string): RegExp => new RegExp(`✗ ${nick} is gone`)
export const ANY_CONNECT = /✓ .*connected/

/** Starts one node and waits for its banner; the caller stops it (`stopNode`). */
export async function startNode(spec: NodeSpec, onStarted: (node: LanNode) => void): Promise<LanNode> {
  const dataDir = await mkdtemp(join(tmpdir(), `lan-chat-lan-${spec.nick}-`))
  await writeFile(join(dataDir, 'peer.key'), privateKeyToProtobuf(spec.identity.privateKey), { mode: 0o600 })
  const program = startProgram({
    ns: spec.host.ns,
    args: ['--port', String(LISTEN_PORT), '--nick', spec.nick, '--rendezvous', spec.rendezvous, '--room', 'main', '--data-dir', dataDir]
  })
  const node: LanNode = { ...spec, peerId: '', dataDir, logPath: '', program, readyAt: 0 }
  onStarted(node)
  const idLine = await program.waitForLine(/^ {2}peer ID {4}\S+/, BANNER_TIMEOUT_MS)
  node.peerId = idLine.text.trim().split(/\s+/).at(-1) ?? ''
  node.readyAt = idLine.at
  node.logPath = (await program.waitFor(/^ {2}chat\.log {3}\S+/, BANNER_TIMEOUT_MS)).trim().replace(/^chat\.log\s+/, '')
  return node
}

/**
 * Starts a node per nick on the LAN's first hosts, in peer-ID order (each is pushed to `nodes` as
 * it starts, so the caller's `after` stops it), and waits until every pair has connected by mDNS.
 */
export async function startConnected(lan: Lan, nicks: string[], rendezvous: string, nodes: LanNode[], timeoutMs: number): Promise<void> {
  const ids = await identitiesByPeerId(nicks.length)
  await Promise.all(
    nicks.map(
      async (nick, i) =>
        await startNode({ nick, identity: ids[i], host: lan.hosts[i], rendezvous }, n => {
          nodes.push(n)
        })
    )
  )
  await Promise.all(
    nodes.flatMap(n => nodes.filter(o => o !== n).map(async o => await n.program.waitForLine(connectedTo(o.nick), timeoutMs)))
  )
}

/** Stops the program (SIGTERM, then SIGKILL) and removes its data dir. */
export async function stopNode(node: LanNode): Promise<void> {
  try {
    await node.program.stop()
  } finally {
    await rm(node.dataDir, { recursive: true, force: true })
  }
}

export interface TcpConn {
  localIp: string
  localPort: number
  peerIp: string
  peerPort: number
}

/** Established TCP connections seen inside a host's namespace (`ss -tnH state established`). */
export async function establishedConns(lan: Lan, host: Host): Promise<TcpConn[]> {
  const out = await lan.exec(host, 'ss', ['-tnH', 'state', 'established'])
  const conns: TcpConn[] = []
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 4) continue
    const [local, peer] = cols.slice(2, 4)
    const split = (ep: string): [string, number] => {
      const i = ep.lastIndexOf(':')
      return [ep.slice(0, i), Number(ep.slice(i + 1))]
    }
    const [localIp, localPort] = split(local)
    const [peerIp, peerPort] = split(peer)
    conns.push({ localIp, localPort, peerIp, peerPort })
  }
  return conns
}

export interface PairReport {
  a: string
  b: string
  /** Connections between the two hosts, seen from a's side and from b's side. */
  countA: number
  countB: number
  /** Nick of the side that dialed (its end uses an ephemeral port), if exactly one connection. */
  dialer?: string
}

/** For every pair of nodes: how many TCP connections join them and which side dialed. */
export async function pairReports(lan: Lan, nodes: LanNode[]): Promise<PairReport[]> {
  const seen = new Map<string, TcpConn[]>()
  for (const n of nodes) seen.set(n.nick, await establishedConns(lan, n.host))
  const reports: PairReport[] = []
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const a = nodes[i]
      const b = nodes[j]
      const fromA = (seen.get(a.nick) ?? []).filter(c => c.peerIp === b.host.ip)
      const fromB = (seen.get(b.nick) ?? []).filter(c => c.peerIp === a.host.ip)
      const report: PairReport = { a: a.nick, b: b.nick, countA: fromA.length, countB: fromB.length }
      if (fromA.length === 1) {
        const c = fromA[0]
        if (c.localPort === LISTEN_PORT && c.peerPort !== LISTEN_PORT) report.dialer = b.nick
        if (c.peerPort === LISTEN_PORT && c.localPort !== LISTEN_PORT) report.dialer = a.nick
      }
      reports.push(report)
    }
  }
  return reports
}

export function formatPairs(reports: PairReport[]): string {
  return reports.map(r => `${r.a}-${r.b}: ${r.countA}/${r.countB} conn(s), dialer ${r.dialer ?? '?'}`).join('\n')
}

/** The nick of the node with the higher peer ID (the tie-break compares peer ID strings). */
export function higher(a: LanNode, b: LanNode): LanNode {
  return a.peerId > b.peerId ? a : b
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/**
 * Polls `probe` until `ok` holds for `stableFor` consecutive samples, or throws after `timeoutMs`
 * with the last value described by `describe`.
 */
export async function until<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  options: { timeoutMs: number; intervalMs?: number; stableFor?: number; describe: (value: T) => string }
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  let streak = 0
  for (;;) {
    const value = await probe()
    streak = ok(value) ? streak + 1 : 0
    if (streak >= (options.stableFor ?? 1)) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${options.timeoutMs} ms; last seen:\n${options.describe(value)}`)
    await sleep(options.intervalMs ?? 250)
  }
}
