/**
 * `npm run bench [-- --quick] [-- --n 2,10,30]`: LAN Chat against plain js-libp2p on a virtual LAN
 * of network namespaces (one node per namespace, mDNS on), both in the same run, on the same
 * namespaces, one after the other. Prints one table and writes it to bench/results/ as JSON and
 * Markdown (`latest.*` and a dated copy; `quick.*` for --quick).
 *
 * Needs root and iproute2 (test/helpers/netns.ts). Every namespace is removed at the end, also on
 * failure or Ctrl-C, and every node is stopped by PID.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { createLan, type Lan } from '../test/helpers/netns.js'
import { now } from './lib/fleet.js'
import { openBenchSession } from './lib/session.js'
import { measureFloor } from './lib/floor.js'
import { measureSync } from './lib/sync.js'
import { loadAverage } from './lib/proc.js'
import { renderMarkdown, type BenchReport, type RunResult } from './lib/report.js'
import { runScenario, type ScenarioOptions } from './lib/scenario.js'
import { ROOT, baselineSystem, oursSystem, shebangNodeFlags } from './lib/systems.js'
import type { System } from './lib/fleet.js'
import { PAYLOAD_CHARS } from './lib/tracker.js'

/** The whole run stays within this (the issue allows 15 minutes). */
export const FULL_BUDGET_MS = 14 * 60_000
export const QUICK_BUDGET_MS = 5 * 60_000
/** 40 is about the largest LAN of both systems this 2-core machine connects in a minute; it runs only if the budget allows. */
export const FULL_SIZES = [2, 10, 30, 40]
/** A LAN size is skipped when less than this is left of the budget. */
const MIN_LEFT_FOR_SIZE_MS = 4 * 60_000
export const QUICK_SIZES = [2, 10]
/** The history sync measurement gives up after this. */
const SYNC_TIMEOUT_MS = 60_000
const BASELINE_TAG = '_lanchat-bench-baseline._udp.local'
const TOPIC = 'bench'

type Timings = Omit<ScenarioOptions, 'deadline' | 'children' | 'lateJoin'>

const QUICK: Timings = {
  readyTimeoutMs: 30_000,
  settleMs: 1_500,
  idleMs: 3_000,
  oneSender: { count: 40, rate: 20 },
  everyone: { rounds: 3, intervalMs: 1_000 },
  rate: { start: 50, max: 800, stepMs: 1_500, bisectSteps: 1, withinMs: 1_000, maxSteps: 6 },
  drainMs: 5_000
}

const FULL: Timings = {
  readyTimeoutMs: 30_000,
  settleMs: 5_000,
  // Idle is steady chatter: 20 s holds two of each system's slowest periodic jobs (mDNS queries
  // every 10 s) and dilutes the one-off work after start-up (V8's memory-reducing GC about 8 s in)
  // instead of catching it or missing it by chance. With 10 s one LAN Chat build measured 0.83–1.08 %
  // at N=10 from run to run (0.54–0.69 % over 20 s); the baseline 1.29 % (10 s) and 1.78–1.82 % (20 s).
  idleMs: 20_000,
  oneSender: { count: 100, rate: 20 },
  everyone: { rounds: 6, intervalMs: 1_000 },
  rate: { start: 50, max: 3_200, stepMs: 2_000, bisectSteps: 2, withinMs: 1_000, maxSteps: 9 },
  drainMs: 8_000
}

function parseSizes(argv: string[], quick: boolean): number[] {
  const i = argv.indexOf('--n')
  if (i < 0) return quick ? QUICK_SIZES : FULL_SIZES
  const sizes = (argv[i + 1] ?? '').split(',').map(Number)
  if (sizes.some(s => !Number.isInteger(s) || s < 2 || s > 100)) throw new Error('--n takes sizes from 2 to 100, e.g. --n 2,10')
  return sizes
}

/**
 * With --profile, every node writes a V8 CPU profile to bench/results/profiles/<system>-<N>/; with
 * --heap-snapshot, node 0 writes a heap snapshot there at the end of the idle phase.
 */
function profiled(system: System, n: number, on: { cpu: boolean; heap: boolean }): System {
  if (!on.cpu && !on.heap) return system
  const dir = join(ROOT, 'bench', 'results', 'profiles', `${system.name}-${n}`)
  mkdirSync(dir, { recursive: true })
  const flags = [
    ...(on.cpu ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
    ...(on.heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : [])
  ]
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: run the program through node with the flags.
  return {
    ...system,
    command: host => {
      const c = system.command(host)
      const own = c[0] === process.execPath ? [] : shebangNodeFlags(c[0])
      return [process.execPath, ...own, ...flags, ...(c[0] === process.execPath ? c.slice(1) : c)]
    }
  }
}

function method(t: Timings): string[] {
  return [
    'One node per network namespace on one bridge (test/helpers/netns.ts), mDNS on, all on this machine; LAN Chat and the baseline use the same namespaces one after the other, never at once.',
    'LAN Chat: the real program as installed (package.json `bin`: the bundle of `dist/src/bin/lan-chat.js`) with production defaults (only --nick and --data-dir set; chat.log with fdatasync), driven through stdin, read from stdout.',
    `Baseline: \`bench/baseline-node.ts\`, js-libp2p 3 with default options (tcp, noise, yamux, identify, mdns, gossipsub), dialing every peer mDNS reports, publishing each stdin line on one topic. Same ${PAYLOAD_CHARS}-character payload.`,
    'Latency: the send time (ms since the epoch, from the harness) is in the text; the receive time is when the receiver’s stdout line reaches the harness. Both systems pay the same pipe cost; the baseline also prints its own receive time (the median difference is in the JSON as harnessLag).',
    `One sender: ${t.oneSender.count} messages at ${t.oneSender.rate}/s from node 0. Everyone: ${t.everyone.rounds} rounds, each node sending one message per round, a round every ${t.everyone.intervalMs} ms.`,
    `Sustained rate: messages from all nodes in turn for ${t.rate.stepMs} ms per step, rate doubling from ${t.rate.start}/s (at most ${t.rate.max}/s), then ${t.rate.bisectSteps} bisection step(s); a step passes when every node receives every message within ${t.rate.withinMs} ms.`,
    'Start: ms from spawning `ip netns exec … node …` to the first listening address, first peer connection and first peer in the room; "joining a running LAN" starts one more node after the others are up.',
    `CPU: utime+stime from /proc/<pid>/stat; idle over ${t.idleMs} ms, from ${t.settleMs} ms after everyone is connected (% of one core, mean per node); per 1,000 delivered = all nodes' CPU during the one-sender, everyone and rate phases, minus what idle chatter used over the same time, / copies delivered. Memory: VmRSS, idle and the peak sampled every 250 ms over those phases, mean per node.`,
    `History sync (LAN Chat only, on the first LAN): one node starts with 10,000 signed messages in its chat.log; a new node starts beside it; time until the new node's chat.log holds all of them.`,
    'The raw TCP floor (N=2): plain TCP between the same two namespaces, measured the same way (stdin → socket → stdout); a round trip through the same harness (stdin → socket → echoed back → stdout of the same process), which the N=2 target compares LAN Chat’s one-way p99 with; and in-process round trips. The memory floor: the resident memory of that test’s server, a plain Node.js process holding one TCP connection (median of 5 samples), the least any Node.js program has here; its ratio is to the baseline’s idle memory.'
  ]
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  const quick = argv.includes('--quick')
  const sizes = parseSizes(argv, quick)
  const timings = quick ? QUICK : FULL
  const profile = { cpu: argv.includes('--profile'), heap: argv.includes('--heap-snapshot') }
  // Development only: --only baseline|lan-chat runs one side; --idle-only stops after the idle phase.
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined
  // Development only: --bin <file> runs another build of LAN Chat (e.g. the unbundled dist/src/bin/lan-chat.js).
  const bin = argv.includes('--bin') ? argv[argv.indexOf('--bin') + 1] : undefined
  // --name <name> writes bench/results/<name>.{json,md} instead of latest (or quick).
  const name = argv.includes('--name') ? argv[argv.indexOf('--name') + 1] : undefined
  const session = openBenchSession('lan-chat-bench-')
  if (session == null) return 1
  const { children, dataRoot } = session
  const lans = new Set<Lan>()

  const started = now()
  const budgetEnd = started + (quick ? QUICK_BUDGET_MS : FULL_BUDGET_MS)
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    quick,
    machine: {
      cpus: cpus().length,
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: release(),
      loadBefore: loadAverage(),
      loadAfter: NaN
    },
    method: method(timings),
    runs: [],
    skipped: []
  }
  // Share what is left of the budget between the systems still to run.
  let systemsLeft = sizes.length * 2
  const idleOnly = argv.includes('--idle-only')
  // Bigger LANs take longer to connect on two cores: a second more per node.
  const options = (n: number): ScenarioOptions => ({
    ...timings,
    readyTimeoutMs: timings.readyTimeoutMs + 1_000 * n,
    ...(idleOnly ? { idleMs: 20_000 } : {}),
    idleOnly,
    heapSnapshot: profile.heap,
    children,
    deadline: now() + (budgetEnd - now()) / systemsLeft--
  })
  try {
    for (const [k, n] of sizes.entries()) {
      if (k > 0 && budgetEnd - now() < MIN_LEFT_FOR_SIZE_MS) {
        log(`N=${n}: skipped, less than ${MIN_LEFT_FOR_SIZE_MS / 60_000} minutes of the budget left`)
        report.skipped.push(n)
        systemsLeft -= 2
        continue
      }
      const lan = await createLan({ hosts: n + 1, subnet: 200 + k })
      lans.add(lan)
      try {
        const hosts = lan.hosts.slice(0, n)
        const late = lan.hosts[n]
        const run: RunResult = { n }
        report.runs.push(run)
        if (n === 2) {
          log(`N=2: raw TCP floor`)
          run.floor = await measureFloor(hosts[0], hosts[1], timings.oneSender.count, 20_000, children)
        }
        log(`N=${n}: baseline`)
        if (only !== 'lan-chat')
          run.baseline = await runScenario(profiled(baselineSystem(BASELINE_TAG, TOPIC), n, profile), hosts, late, options(n))
        log(`N=${n}: LAN Chat`)
        const dir = join(dataRoot, `n${n}`)
        if (only !== 'baseline') run.ours = await runScenario(profiled(oursSystem(dir, bin), n, profile), hosts, late, options(n))
        rmSync(dir, { recursive: true, force: true })
        if (n === sizes[0] && only !== 'baseline') {
          log(`N=${n}: LAN Chat history sync`)
          run.sync = await measureSync(hosts[0], hosts[1], join(dataRoot, 'sync'), SYNC_TIMEOUT_MS, children, bin)
          rmSync(join(dataRoot, 'sync'), { recursive: true, force: true })
        }
        writeResults(report, quick, name)
      } finally {
        await lan.destroy()
        lans.delete(lan)
      }
    }
  } finally {
    for (const c of children) c.kill('SIGKILL')
    for (const lan of lans) await lan.destroy()
    rmSync(dataRoot, { recursive: true, force: true })
  }
  const md = writeResults(report, quick, name)
  process.stdout.write('\n' + md)
  log(`done in ${((now() - started) / 1000).toFixed(0)} s`)
  return 0
}

function writeResults(report: BenchReport, quick: boolean, name = quick ? 'quick' : 'latest'): string {
  report.finishedAt = new Date().toISOString()
  report.machine.loadAfter = loadAverage()
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const md = renderMarkdown(report)
  const json = JSON.stringify(report, null, 2) + '\n'
  writeFileSync(join(dir, `${name}.json`), json)
  writeFileSync(join(dir, `${name}.md`), md)
  if (name === 'latest') {
    // Full runs also keep a dated copy, so earlier results stay comparable.
    const stamp = report.startedAt.replace(/[:.]/g, '-')
    writeFileSync(join(dir, `${stamp}.json`), json)
    writeFileSync(join(dir, `${stamp}.md`), md)
  }
  return md
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

main().then(
  code => process.exit(code),
  err => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  }
)
