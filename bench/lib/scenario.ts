/**
 * One system on one virtual LAN, measured phase by phase: start-up, idle, one sender, everyone
 * sending, the sustained-rate search, and a node joining late. Every loop is bounded in count and
 * in time, and the whole scenario gives up (and reports what it has) at `deadline`.
 */
import type { Host } from '../../test/helpers/netns.js'
import { Fleet, now, sleep, type BenchNode, type ChildRegistry, type System } from './fleet.js'
import { cpuMs, rssBytes, systemCpuMs } from './proc.js'
import { mean, median, summarize, type LatencySummary } from './stats.js'
import { Tracker, type LateDelivery } from './tracker.js'

export interface ScenarioOptions {
  readyTimeoutMs: number
  /** Quiet time after everyone is connected, so the gossipsub mesh forms. */
  settleMs: number
  idleMs: number
  oneSender: { count: number; rate: number }
  everyone: { rounds: number; intervalMs: number }
  rate: { start: number; max: number; stepMs: number; bisectSteps: number; withinMs: number; maxSteps: number }
  /** Longest wait for the last copies of a phase's messages. */
  drainMs: number
  /** Absolute time (ms since the epoch) after which optional phases are skipped. */
  deadline: number
  children: ChildRegistry
  /** Development: stop after the idle phase (for profiling idle chatter). */
  idleOnly?: boolean
  /** Development: node 0 writes a heap snapshot (SIGUSR2, see run.ts) after the idle phase. */
  heapSnapshot?: boolean
}

export interface StartTimes {
  listening: number
  connected: number
  ready: number
}

export interface RateStep {
  rate: number
  ok: boolean
  delivered: number
  expected: number
  p99: number
  /** A failed step's first deliveries that missed the deadline (sender → receiver), to tell one lost copy from a backlog. */
  late?: LateDelivery[]
}

export interface SystemResult {
  system: string
  n: number
  ok: boolean
  notes: string[]
  /** Median over the fleet, all nodes started at once (ms from spawn). */
  fleetStart?: StartTimes
  /** One node started on a LAN that is already up (ms from spawn). */
  lateStart?: Partial<StartTimes>
  idle?: { cpuPercent: number; rssMB: number }
  oneSender?: { delivery: number; latency: LatencySummary; harnessLag?: number }
  everyone?: { delivery: number; latency: LatencySummary; harnessLag?: number }
  /** cpuKernelShare: the part of that CPU spent in the kernel (syscalls, the veth/bridge packet path). */
  load?: { rssMB: number; cpuMsPer1000: number; cpuKernelShare: number }
  rate?: { sustained: number; steps: RateStep[] }
}

const MB = 1024 * 1024
/** How many late deliveries a failed rate step lists. */
const LATE_LISTED = 5

function cpuOf(nodes: BenchNode[]): number[] {
  return nodes.map(n => cpuMs(n.pid) ?? NaN)
}

function startTimes(nodes: BenchNode[]): StartTimes {
  const pick = (k: 'listening' | 'connected' | 'ready'): number =>
    median(nodes.map(n => (n.times[k] ?? Infinity) - n.times.spawned).filter(Number.isFinite))
  return { listening: pick('listening'), connected: pick('connected'), ready: pick('ready') }
}

/** Samples the peak resident memory of each node while `work` runs. */
async function withRssPeak<T>(nodes: BenchNode[], work: () => Promise<T>): Promise<{ value: T; peaks: number[] }> {
  const peaks = nodes.map(() => 0)
  const sample = (): void => {
    nodes.forEach((n, i) => {
      peaks[i] = Math.max(peaks[i], rssBytes(n.pid) ?? 0)
    })
  }
  const timer = setInterval(sample, 250)
  try {
    sample()
    const value = await work()
    sample()
    return { value, peaks }
  } finally {
    clearInterval(timer)
  }
}

/** How long the fleet gets before readiness is also checked with probe messages. */
const PROBE_AFTER_MS = 10_000
/** How long one probe round may take to reach every node. */
const PROBE_WAIT_MS = 3_000

/**
 * Ready: every node has seen every other in the room, or (a node may print a peer twice, under
 * its short ID and then its nick, or miss a line) a message from every node reaches every node.
 */
async function waitReady(fleet: Fleet, tracker: Tracker, all: number[], timeoutMs: number): Promise<boolean> {
  const n = all.length
  const start = now()
  const deadline = start + timeoutMs
  let round = 0
  while (now() < deadline) {
    if (fleet.nodes.some(x => x.proc.exitCode != null)) return false
    if (fleet.nodes.every(x => x.joined.size >= n - 1)) return true
    if (now() - start >= PROBE_AFTER_MS) {
      const phase = `probe${round++}`
      for (const i of all) fleet.nodes[i].type(tracker.message(phase, i, now()))
      await drain(tracker, phase, all, Math.min(PROBE_WAIT_MS, Math.max(0, deadline - now())))
      const done = tracker.pending(phase, all) === 0
      tracker.drop(phase)
      if (done) return true
    } else await sleep(50)
  }
  return false
}

async function drain(tracker: Tracker, phase: string, receivers: number[], maxMs: number): Promise<void> {
  const deadline = now() + maxMs
  while (now() < deadline && tracker.pending(phase, receivers) > 0) await sleep(20)
}

/** Types messages at `rate` per second for `durationMs`, senders taking turns. */
async function sendAtRate(
  nodes: BenchNode[],
  tracker: Tracker,
  phase: string,
  rate: number,
  durationMs: number,
  senders: number[]
): Promise<void> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000))
  const start = now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000) + 1)
    for (; sent < due; sent++) {
      const s = senders[sent % senders.length]
      nodes[s].type(tracker.message(phase, s, now()))
    }
    if (sent < total) await sleep(Math.max(1, Math.min(10, 1000 / rate)))
  }
}

function latencyOf(
  tracker: Tracker,
  phase: string,
  receivers: number[]
): { delivery: number; latency: LatencySummary; harnessLag?: number } {
  const r = tracker.result(phase, receivers)
  return {
    delivery: r.expected === 0 ? NaN : r.delivered / r.expected,
    latency: summarize(r.latencies),
    harnessLag: r.harnessLag.length > 0 ? median(r.harnessLag) : undefined
  }
}

export async function runScenario(system: System, hosts: Host[], late: Host | undefined, o: ScenarioOptions): Promise<SystemResult> {
  const n = hosts.length
  const tracker = new Tracker()
  const fleet = new Fleet(
    system,
    (node, text, at, own) => {
      tracker.received(node, text, at, own)
    },
    o.children
  )
  const result: SystemResult = { system: system.name, n, ok: false, notes: [] }
  const all = hosts.map((_, i) => i)
  try {
    for (const h of hosts) fleet.add(h)
    const nodes = [...fleet.nodes]
    const ready = await waitReady(fleet, tracker, all, o.readyTimeoutMs)
    if (!ready) {
      const counts = nodes.map(x => x.joined.size)
      result.notes.push(
        `not ready within ${o.readyTimeoutMs} ms: room peers seen per node ${counts.join(',')}, and a probe from every node did not reach every node; measured anyway`
      )
      const dead = nodes.find(x => x.proc.exitCode != null)
      if (dead != null) {
        result.notes.push(`node ${dead.index} exited: ${dead.stderr.slice(0, 500)}`)
        result.fleetStart = startTimes(nodes)
        return result
      }
    }
    result.fleetStart = startTimes(nodes)
    await sleep(o.settleMs)

    // Idle: CPU over a quiet window, memory at its end.
    const c0 = cpuOf(nodes)
    const t0 = now()
    await sleep(o.idleMs)
    const c1 = cpuOf(nodes)
    const idleSec = (now() - t0) / 1000
    result.idle = {
      cpuPercent: mean(c1.map((c, i) => (c - c0[i]) / 10 / idleSec)),
      rssMB: mean(nodes.map(x => (rssBytes(x.pid) ?? NaN) / MB))
    }
    if (o.heapSnapshot === true) {
      process.kill(nodes[0].pid, 'SIGUSR2')
      await sleep(5_000)
    }
    if (o.idleOnly === true) {
      result.ok = true
      return result
    }

    // Load: one sender, everyone, then the rate search (the bulk of the messages). Memory peaks
    // and CPU per 1,000 delivered copies are taken over all of it.
    const l0 = cpuOf(nodes)
    const k0 = nodes.map(x => systemCpuMs(x.pid) ?? NaN)
    const loadStart = now()
    const { peaks, value: rateDelivered } = await withRssPeak(nodes, async () => {
      await sendAtRate(nodes, tracker, 'one', o.oneSender.rate, (o.oneSender.count * 1000) / o.oneSender.rate, [0])
      await drain(tracker, 'one', all, o.drainMs)
      for (let round = 0; round < o.everyone.rounds; round++) {
        const t = now()
        for (const i of all) nodes[i].type(tracker.message('all', i, now()))
        await sleep(Math.max(0, o.everyone.intervalMs - (now() - t)))
      }
      await drain(tracker, 'all', all, o.drainMs)
      result.oneSender = latencyOf(tracker, 'one', all)
      result.everyone = latencyOf(tracker, 'all', all)
      // Highest rate at which every node gets every message within `withinMs`: double, then bisect.
      result.rate = await rateSearch(nodes, tracker, all, o, result.notes)
      return result.rate.steps.reduce((sum, st) => sum + st.delivered, 0)
    })
    const l1 = cpuOf(nodes)
    const k1 = nodes.map(x => systemCpuMs(x.pid) ?? NaN)
    const kernel = k1.reduce((sum, c, i) => sum + (c - k0[i]), 0)
    const delivered = tracker.result('one', all).delivered + tracker.result('all', all).delivered + rateDelivered
    // Net of the idle chatter that would have run anyway, so this is the cost of the messages.
    const idleCpuMs = (result.idle.cpuPercent / 100) * ((now() - loadStart) / 1000) * 10 * n
    const cpuTotal = l1.reduce((sum, c, i) => sum + (c - l0[i]), 0) - idleCpuMs
    const gross = l1.reduce((sum, c, i) => sum + (c - l0[i]), 0)
    result.load = {
      rssMB: mean(peaks) / MB,
      cpuMsPer1000: delivered > 0 ? (Math.max(0, cpuTotal) / delivered) * 1000 : NaN,
      cpuKernelShare: gross > 0 ? kernel / gross : NaN
    }
    tracker.drop('one')
    tracker.drop('all')

    // A node that starts on a LAN that is already up.
    if (late != null) {
      if (now() > o.deadline) result.notes.push('late joiner skipped: time budget')
      else {
        const node = fleet.add(late)
        const ok = await fleet.waitJoined([node], 1, o.readyTimeoutMs)
        const t = node.times
        result.lateStart = {
          listening: (t.listening ?? NaN) - t.spawned,
          connected: (t.connected ?? NaN) - t.spawned,
          ready: (t.ready ?? NaN) - t.spawned
        }
        if (!ok) result.notes.push('late joiner never saw a room peer')
      }
    }
    result.ok = true
    return result
  } catch (err) {
    result.notes.push(`failed: ${(err as Error).stack ?? String(err)}`)
    return result
  } finally {
    await fleet.stop()
  }
}

async function rateSearch(
  nodes: BenchNode[],
  tracker: Tracker,
  all: number[],
  o: ScenarioOptions,
  notes: string[]
): Promise<{ sustained: number; steps: RateStep[] }> {
  const steps: RateStep[] = []
  let good = 0
  let bad = Infinity
  const step = async (rate: number): Promise<boolean> => {
    const phase = `rate${steps.length}`
    await sendAtRate(nodes, tracker, phase, rate, o.rate.stepMs, all)
    await drain(tracker, phase, all, o.rate.withinMs + 500)
    const r = tracker.result(phase, all, o.rate.withinMs)
    const ok = r.onTime === r.expected
    // Let a backlog clear before the next step, so one failure does not spill into the next.
    if (!ok) await drain(tracker, phase, all, o.drainMs)
    // Listed after that wait, so a copy that came late shows its latency.
    const late = ok ? undefined : tracker.late(phase, all, o.rate.withinMs, LATE_LISTED)
    steps.push({ rate, ok, delivered: r.delivered, expected: r.expected, p99: summarize(r.latencies).p99, late })
    const missed = r.expected - r.onTime
    // A few copies late is a lost message, not a backlog: worth naming in the report.
    if (late != null && missed <= LATE_LISTED) {
      const which = late.map(
        d => `node ${d.sender} → node ${d.receiver} ${d.latencyMs == null ? 'never arrived' : `after ${Math.round(d.latencyMs)} ms`}`
      )
      notes.push(`rate ${rate}/s missed by ${missed} of ${r.expected} copies: ${which.join('; ')}`)
    }
    tracker.drop(phase)
    await sleep(300)
    return ok
  }
  for (let rate = o.rate.start; rate <= o.rate.max && steps.length < o.rate.maxSteps; rate *= 2) {
    if (now() > o.deadline) {
      notes.push('rate search cut short: time budget')
      break
    }
    if (await step(rate)) good = rate
    else {
      bad = rate
      break
    }
  }
  for (let i = 0; i < o.rate.bisectSteps && Number.isFinite(bad) && good > 0 && steps.length < o.rate.maxSteps; i++) {
    if (now() > o.deadline) break
    const mid = Math.round((good + bad) / 2)
    if (mid <= good || mid >= bad) break
    if (await step(mid)) good = mid
    else bad = mid
  }
  if (good === 0) notes.push(`no rate tried was sustained (lowest tried ${o.rate.start}/s)`)
  return { sustained: good, steps }
}
