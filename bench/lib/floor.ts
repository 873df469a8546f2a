/**
 * The floor for N=2: plain TCP between two namespaces (bench/tcp-floor.ts), measured the same way as
 * the chat nodes (stdin of one process → network → stdout of the other); a round trip through the
 * same harness (stdin → network → back → stdout of the same process), which the "within 2×
 * of a raw TCP round trip" compares the chat's one-way latency with, since both pay one pipe in and
 * one pipe out; and in-process round trips for reference.
 *
 * The server is also the memory floor: a plain Node.js process holding one TCP connection, the
 * least resident memory any Node.js program (the chat or the baseline) can have on this machine.
 */
import type { Host } from '../../test/helpers/netns.js'
import { BenchNode, now, sleep, type ChildRegistry, type System } from './fleet.js'
import { rssBytes } from './proc.js'
import { median, summarize, type LatencySummary } from './stats.js'
import { TCP_FLOOR_BIN } from './systems.js'
import { parseMessageText, Tracker } from './tracker.js'

export const FLOOR_PORT = 7_100

export interface FloorResult {
  /** One way, through the harness: comparable to publish → receive. */
  oneWay: LatencySummary
  /** Round trips through the harness: stdin → TCP → echoed back → stdout of the same process. */
  roundTrip?: LatencySummary
  /** In-process TCP round trips. */
  rtt: LatencySummary
  /** The server's resident memory, idle with one connection (MB, median of a few samples). */
  rssMB?: number
}

/** Samples of the floor server's memory, 250 ms apart. */
const RSS_SAMPLES = 5

export async function measureFloor(
  a: Host,
  b: Host,
  count: number,
  timeoutMs: number,
  children: ChildRegistry
): Promise<FloorResult | undefined> {
  const tracker = new Tracker()
  const roundTrips: number[] = []
  const onRecv = (node: number, text: string, at: number): void => {
    // Node 0 (the client) only prints what the server echoed back.
    if (node === 0) {
      const sent = parseMessageText(text)
      if (sent != null) roundTrips.push(at - sent.at)
      return
    }
    tracker.received(node, text, at)
  }
  let rttLine: string | undefined
  const server: System = {
    name: 'tcp-server',
    command: () => [process.execPath, TCP_FLOOR_BIN, 'server', String(FLOOR_PORT)],
    parse: line => (line === 'listening' ? { kind: 'listening' } : line.startsWith('bm ') ? { kind: 'recv', text: line } : undefined)
  }
  const client: System = {
    name: 'tcp-client',
    command: () => [process.execPath, TCP_FLOOR_BIN, 'client', b.ip, String(FLOOR_PORT)],
    parse: line => {
      if (line.startsWith('rtt ')) rttLine = line
      if (line.startsWith('bm ')) return { kind: 'recv', text: line }
      return line === 'connected' ? { kind: 'connected' } : undefined
    }
  }
  const rx = new BenchNode(1, b, server, onRecv, children)
  let tx: BenchNode | undefined
  try {
    const deadline = now() + timeoutMs
    while (rx.times.listening == null && now() < deadline) await sleep(20)
    tx = new BenchNode(0, a, client, onRecv, children)
    while (tx.times.connected == null && now() < deadline) await sleep(20)
    if (tx.times.connected == null) return undefined
    for (let i = 0; i < count; i++) {
      tx.type(tracker.message('floor', 0, now()))
      await sleep(50)
    }
    while (tracker.pending('floor', [1]) > 0 && now() < deadline) await sleep(20)
    const rss: number[] = []
    for (let i = 0; i < RSS_SAMPLES; i++) {
      await sleep(250)
      const bytes = rssBytes(rx.pid)
      if (bytes != null) rss.push(bytes / (1024 * 1024))
    }
    for (let i = 0; i < count; i++) {
      tx.type(`echo ${tracker.message('floor-echo', 0, now())}`)
      await sleep(50)
    }
    while (roundTrips.length < count && now() < deadline) await sleep(20)
    tx.type(`rtt ${count}`)
    while (rttLine == null && now() < deadline) await sleep(20)
    const rtts = (rttLine ?? 'rtt').split(' ').slice(1).map(Number)
    return {
      oneWay: summarize(tracker.result('floor', [1]).latencies),
      roundTrip: summarize(roundTrips),
      rtt: summarize(rtts),
      rssMB: rss.length === 0 ? undefined : median(rss)
    }
  } finally {
    await Promise.all([rx.stop(), tx?.stop()])
  }
}
