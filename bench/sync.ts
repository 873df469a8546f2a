/**
 * `node --import tsx --import ./src/polyfills.ts bench/sync.ts [--runs 3] [--profile] [--bin <file>]
 * [--compare <file>] [--nice -10] [--quiet-wait 60] [--name x]`: the history sync measurement of `npm run bench` on its own
 * (bench/lib/sync.ts), repeated, so a change to sync can be measured in a minute instead of a full
 * run. `--compare` runs another build in turn with the first (A, B, A, B, …), so both see the same
 * load on a shared machine, --quiet-wait waits (at most that many seconds) for the machine to be
 * mostly idle before each run, and --nice runs both nodes ahead of other work there; --bin
 * dist/src/bin/lan-chat.js gives readable profiles. With --profile both nodes write
 * a V8 CPU profile, the node holding the history to bench/results/profiles/sync-<name>/holder/ and
 * the new node to …/joiner/ (read them with an aggregator over .cpuprofile files).
 *
 * Needs root and iproute2, like the full benchmark; the namespaces and nodes are removed at the end,
 * also on failure or Ctrl-C.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLan, type Lan } from '../test/helpers/netns.js'
import type { System } from './lib/fleet.js'
import { openBenchSession } from './lib/session.js'
import { measureSync, type SyncResult } from './lib/sync.js'
import { ROOT } from './lib/systems.js'

/** Each run gives up after this. */
const SYNC_TIMEOUT_MS = 60_000
const DEFAULT_RUNS = 3
const MAX_RUNS = 20
/** Third octet of the LAN's subnet (its own namespaces, so it cannot clash with other runs). */
const SUBNET = 241
/** With --quiet-wait, a run starts once this share of the CPU time is idle (or the wait is over). */
const QUIET_IDLE_SHARE = 0.8

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  return i < 0 ? undefined : argv[i + 1]
}

/** Runs each node through node with --cpu-prof, into <dir>/holder or <dir>/joiner by host index. */
function profiledIn(dir: string): (system: System) => System {
  return system => ({
    ...system,
    command: host => {
      const out = join(dir, host.index === 0 ? 'holder' : 'joiner')
      mkdirSync(out, { recursive: true })
      const c = system.command(host)
      return [process.execPath, '--cpu-prof', `--cpu-prof-dir=${out}`, ...(c[0] === process.execPath ? c.slice(1) : c)]
    }
  })
}

/** Runs each node with `nice -n <n>` (negative: ahead of other work on a shared machine; needs root). */
function niced(n: number, inner: (system: System) => System): (system: System) => System {
  return system => {
    const s = inner(system)
    return { ...s, command: host => ['nice', '-n', String(n), ...s.command(host)] }
  }
}

/** Share of CPU time idle over `ms`, from /proc/stat (all cores). */
async function idleShare(ms: number): Promise<number> {
  const read = (): number[] => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const a = read()
  await new Promise(resolve => setTimeout(resolve, ms))
  const b = read()
  const d = b.map((v, i) => v - a[i])
  const total = d.reduce((x, y) => x + y, 0)
  // Fields: user nice system idle iowait …
  return total === 0 ? 1 : (d[3] + d[4]) / total
}

/** Waits (at most `maxMs`) until the machine is mostly idle, so a run measures the program and not the neighbours. */
async function waitForQuiet(maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs
  let idle = await idleShare(1_000)
  while (idle < QUIET_IDLE_SHARE && Date.now() < deadline) idle = await idleShare(1_000)
  return idle
}

function fmt(r: SyncResult): string {
  if (r.ms == null) return `failed: ${r.reason ?? 'unknown'}`
  return `${r.ms.toFixed(0)} ms from start, ${r.afterConnectMs?.toFixed(0) ?? 'n/a'} ms from connect, first message at ${r.firstMs?.toFixed(0) ?? 'n/a'} ms; CPU new node ${r.cpuMs?.joiner ?? '?'} ms, holder ${r.cpuMs?.holder ?? '?'} ms (new node by thread: ${Object.entries(
    r.joinerThreads ?? {}
  )
    .map(([name, ms]) => `${name} ${ms}`)
    .join(', ')})`
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  const runs = Number(option(argv, '--runs') ?? DEFAULT_RUNS)
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS) throw new Error(`--runs takes 1 to ${MAX_RUNS}`)
  const bin = option(argv, '--bin')
  const name = option(argv, '--name') ?? 'sync'
  const profileDir = argv.includes('--profile') ? join(ROOT, 'bench', 'results', 'profiles', `sync-${name}`) : undefined
  const session = openBenchSession('lan-chat-bench-sync-')
  if (session == null) return 1
  const { children, dataRoot } = session
  let lan: Lan | undefined
  const compare = option(argv, '--compare')
  const quietWaitMs = 1_000 * Number(option(argv, '--quiet-wait') ?? 0)
  if (!Number.isFinite(quietWaitMs) || quietWaitMs < 0) throw new Error('--quiet-wait takes seconds')
  const niceOption = option(argv, '--nice')
  const nice = niceOption == null ? undefined : Number(niceOption)
  if (nice != null && (!Number.isInteger(nice) || nice < -20 || nice > 19)) throw new Error('--nice takes -20 to 19')
  const builds = [{ label: bin ?? 'default', bin }, ...(compare == null ? [] : [{ label: compare, bin: compare }])]
  const results = builds.map(() => [] as SyncResult[])
  try {
    lan = await createLan({ hosts: 2, subnet: SUBNET })
    for (let i = 0; i < runs; i++) {
      for (const [k, build] of builds.entries()) {
        if (quietWaitMs > 0)
          process.stderr.write(`[sync] CPU idle ${(100 * (await waitForQuiet(quietWaitMs))).toFixed(0)} % before the run\n`)
        const dir = join(dataRoot, `run${i}-${k}`)
        const profiling = profileDir == null ? (x: System) => x : profiledIn(join(profileDir, `run${i}-${k}`))
        const wrap = nice == null ? profiling : niced(nice, profiling)
        const r = await measureSync(lan.hosts[0], lan.hosts[1], dir, SYNC_TIMEOUT_MS, children, build.bin, wrap)
        rmSync(dir, { recursive: true, force: true })
        results[k].push(r)
        process.stderr.write(`[sync ${i + 1}/${runs} ${build.label}] ${fmt(r)}\n`)
      }
    }
  } finally {
    for (const c of children) c.kill('SIGKILL')
    await lan?.destroy()
    rmSync(dataRoot, { recursive: true, force: true })
  }
  const out = join(ROOT, 'bench', 'results', `${name}.json`)
  writeFileSync(
    out,
    JSON.stringify({ at: new Date().toISOString(), builds: builds.map((b, k) => ({ bin: b.label, results: results[k] })) }, null, 2) + '\n'
  )
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  let failed = false
  for (const [k, build] of builds.entries()) {
    const ok = results[k].filter(r => r.ms != null)
    failed ||= ok.length < results[k].length
    if (ok.length > 0)
      process.stdout.write(
        `${build.label}: history sync of ${results[k][0].messages} messages, ${ok.length}/${results[k].length} runs: median ${med(ok.map(r => r.ms ?? 0)).toFixed(0)} ms from start, ${med(ok.map(r => r.afterConnectMs ?? 0)).toFixed(0)} ms from connect (each: ${ok.map(r => `${r.ms?.toFixed(0)}/${r.afterConnectMs?.toFixed(0)}`).join(', ')})\n`
      )
  }
  process.stdout.write(`${out}\n`)
  return failed ? 1 : 0
}

main().then(
  code => process.exit(code),
  err => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  }
)
