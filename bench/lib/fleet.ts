/**
 * A fleet: one program per namespace of a virtual LAN, started together, driven through stdin and
 * read through stdout. The benchmark treats LAN Chat and the baseline alike; a `System` says how
 * to start one node and how to read its lines.
 *
 * Every receive is timestamped here, when its stdout chunk arrives, for both systems, so both pay
 * the same pipe and harness cost (the baseline also prints its own receive time, which lets the
 * report show how large that cost is).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import type { Host } from '../../test/helpers/netns.js'

/** Milliseconds since the epoch with sub-millisecond precision; valid across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now()

/** How long a node gets to exit after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 5_000

export type NodeLine =
  { kind: 'listening' } | { kind: 'connected' } | { kind: 'joined'; peer: string } | { kind: 'recv'; text: string; inProcessMs?: number }

export interface System {
  name: string
  /** The command (executable first) that runs the node on `host`. */
  command: (host: Host) => string[]
  /** Extra environment (profiling flags through NODE_OPTIONS). */
  env?: Record<string, string>
  parse: (line: string) => NodeLine | undefined
}

export interface NodeTimes {
  spawned: number
  listening?: number
  connected?: number
  /** First peer seen in the room/topic. */
  ready?: number
}

/** Every child process the benchmark started, so an interrupted run can stop them by PID. */
export type ChildRegistry = Set<ChildProcessWithoutNullStreams>

export type RecvHandler = (node: number, text: string, at: number, inProcessMs: number | undefined) => void

export class BenchNode {
  readonly index: number
  readonly host: Host
  readonly proc: ChildProcessWithoutNullStreams
  readonly times: NodeTimes
  readonly joined = new Set<string>()
  private rest = ''
  private err = ''
  readonly exited: Promise<void>

  constructor(index: number, host: Host, system: System, onRecv: RecvHandler, children: ChildRegistry) {
    this.index = index
    this.host = host
    this.times = { spawned: now() }
    this.proc = spawn('ip', ['netns', 'exec', host.ns, ...system.command(host)], {
      env: { ...process.env, NO_COLOR: '1', ...system.env },
      stdio: 'pipe'
    })
    children.add(this.proc)
    this.exited = new Promise(resolve =>
      this.proc.once('exit', () => {
        children.delete(this.proc)
        resolve()
      })
    )
    this.proc.stdin.on('error', () => {})
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.err.length < 20_000) this.err += d
    })
    this.proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const at = now()
      const lines = (this.rest + chunk).split('\n')
      this.rest = lines.pop() ?? ''
      for (const line of lines) {
        const parsed = system.parse(line)
        if (parsed == null) continue
        switch (parsed.kind) {
          case 'recv':
            onRecv(index, parsed.text, at, parsed.inProcessMs)
            break
          case 'listening':
            this.times.listening ??= at
            break
          case 'connected':
            this.times.connected ??= at
            break
          case 'joined':
            this.times.ready ??= at
            this.joined.add(parsed.peer)
        }
      }
    })
  }

  get pid(): number {
    return this.proc.pid ?? -1
  }

  get stderr(): string {
    return this.err
  }

  type(line: string): void {
    if (this.proc.stdin.writable) this.proc.stdin.write(line + '\n')
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode != null || this.proc.signalCode != null) return
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), STOP_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }
}

export class Fleet {
  readonly nodes: BenchNode[] = []
  private readonly system: System
  private readonly onRecv: RecvHandler
  private readonly children: ChildRegistry

  constructor(system: System, onRecv: RecvHandler, children: ChildRegistry) {
    this.system = system
    this.onRecv = onRecv
    this.children = children
  }

  add(host: Host): BenchNode {
    const node = new BenchNode(this.nodes.length, host, this.system, this.onRecv, this.children)
    this.nodes.push(node)
    return node
  }

  /** Resolves true once every node sees `peers` peers in the room, false after `timeoutMs`. */
  async waitJoined(nodes: BenchNode[], peers: number, timeoutMs: number): Promise<boolean> {
    const deadline = now() + timeoutMs
    while (now() < deadline) {
      if (nodes.every(n => n.joined.size >= peers)) return true
      if (nodes.some(n => n.proc.exitCode != null)) return false
      await sleep(50)
    }
    return false
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map(async n => await n.stop()))
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
