/**
 * Where an idle node's CPU goes, by thread: N real `lan-chat` nodes in namespaces (mDNS on), then,
 * from 5 s after all of them see each other, user and system CPU and context switches of every
 * thread over a window, from /proc/<pid>/task/<tid>/. The main thread runs JavaScript; threads
 * named `node` are V8's helpers (concurrent GC marking and sweeping, compiles), `libuv-worker` the
 * thread pool. This is how V8's memory reducer showed up as 40 % of an idle node's CPU (README,
 * Benchmarks), which a JavaScript CPU profile does not show.
 *
 *   sudo node --import tsx --import ./src/polyfills.ts bench/idle-threads.ts [--n 10] [--window 20] [--bin <file>]
 *
 * Needs root (network namespaces); removes every namespace and node at the end, also on failure.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../test/helpers/netns.js'
import { Fleet, type ChildRegistry } from './lib/fleet.js'
import { oursSystem } from './lib/systems.js'

const SETTLE_MS = 5_000
const READY_TIMEOUT_MS = 60_000

interface ThreadCpu {
  userMs: number
  sysMs: number
  wakeups: number
  preempted: number
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

function flag(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name)
  return i < 0 ? fallback : (argv[i + 1] ?? fallback)
}

/** CPU and context switches per thread group (`main` for the process's own thread) of one process. */
export function threadCpu(pid: number): Map<string, ThreadCpu> {
  const out = new Map<string, ThreadCpu>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string, status: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
    } catch {
      continue // the thread ended meanwhile
    }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const count = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
    const prev = out.get(name) ?? { userMs: 0, sysMs: 0, wakeups: 0, preempted: 0 }
    out.set(name, {
      // utime and stime are in clock ticks of 10 ms on Linux.
      userMs: prev.userMs + Number(fields[11]) * 10,
      sysMs: prev.sysMs + Number(fields[12]) * 10,
      wakeups: prev.wakeups + count('voluntary_ctxt_switches'),
      preempted: prev.preempted + count('nonvoluntary_ctxt_switches')
    })
  }
  return out
}

function rssMB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const n = Number(flag(argv, '--n', '10'))
  const windowS = Number(flag(argv, '--window', '20'))
  const bin = argv.includes('--bin') ? flag(argv, '--bin', '') : undefined
  const lan = await createLan({ hosts: n, subnet: 230 })
  const dataRoot = mkdtempSync(join(tmpdir(), 'lan-chat-idle-threads-'))
  const children: ChildRegistry = new Set()
  const fleet = new Fleet(oursSystem(dataRoot, bin), () => {}, children)
  try {
    for (const host of lan.hosts) fleet.add(host)
    const nodes = [...fleet.nodes]
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (!nodes.every(x => x.joined.size === n - 1) && Date.now() < deadline) await sleep(100)
    if (!nodes.every(x => x.joined.size === n - 1)) throw new Error(`not every node saw the other ${n - 1} within ${READY_TIMEOUT_MS} ms`)
    await sleep(SETTLE_MS)
    const before = nodes.map(x => threadCpu(x.pid))
    await sleep(windowS * 1000)
    const after = nodes.map(x => threadCpu(x.pid))
    const rss = nodes.map(x => rssMB(x.pid))
    const sum = new Map<string, ThreadCpu>()
    after.forEach((threads, i) => {
      for (const [name, b] of threads) {
        const a = before[i].get(name) ?? { userMs: 0, sysMs: 0, wakeups: 0, preempted: 0 }
        const s = sum.get(name) ?? { userMs: 0, sysMs: 0, wakeups: 0, preempted: 0 }
        sum.set(name, {
          userMs: s.userMs + b.userMs - a.userMs,
          sysMs: s.sysMs + b.sysMs - a.sysMs,
          wakeups: s.wakeups + b.wakeups - a.wakeups,
          preempted: s.preempted + b.preempted - a.preempted
        })
      }
    })
    console.log(`${n} idle nodes, ${windowS} s from ${SETTLE_MS / 1000} s after all were connected; per node:`)
    console.log('| thread | user ms | system ms | wake-ups/s | preempted/s |')
    console.log('|---|---|---|---|---|')
    let total = 0
    for (const [name, t] of [...sum].sort((x, y) => y[1].userMs + y[1].sysMs - (x[1].userMs + x[1].sysMs))) {
      total += t.userMs + t.sysMs
      console.log(
        `| ${name} | ${(t.userMs / n).toFixed(0)} | ${(t.sysMs / n).toFixed(0)} | ${(t.wakeups / n / windowS).toFixed(1)} | ${(t.preempted / n / windowS).toFixed(1)} |`
      )
    }
    console.log(
      `CPU per node ${(total / n).toFixed(0)} ms = ${(total / n / windowS / 10).toFixed(2)} % of a core; RSS ${(rss.reduce((a, b) => a + b, 0) / n).toFixed(1)} MB`
    )
  } finally {
    await fleet.stop()
    for (const child of children) child.kill('SIGKILL')
    await lan.destroy()
    rmSync(dataRoot, { recursive: true, force: true })
  }
}

await main()
