#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=1 --optimize-for-size --no-memory-reducer --expose-gc --max-opt=1 --interrupt-budget=270336
/**
 * The process entry point: argv → config → app.start(); signals; the only process.exit.
 * Exit codes: 0 after a clean shutdown, 1 when the node cannot start, 2 for bad flags.
 *
 * The #! line caps V8's young generation at 1 MB per semi-space (the default grows to 16). A node's
 * live heap is small (about 9 MB alone, 13 MB with 9 peers), but its steady stream of short-lived
 * objects made V8 grow the young generation to 16 MB of RSS at 10 peers and 32 MB at 30
 * (process.memoryUsage, v8.getHeapSpaceStatistics). With the cap (bench/ --quick, N=10, back to
 * back): idle RSS per node 76.2/76.9 → 69.4/68.9 MB, peak under load 81.4/82.0 → 71.9/71.6 MB, CPU
 * per 1,000 delivered 1404/1321 → 1387/1432 ms; N=30 idle 72.0/120.5 → 83.5/88.5 MB (without the
 * cap it depends on whether the young generation has grown yet). Two nodes on loopback, 2,000
 * messages, 11 interleaved runs: 88.6 → 74.9 MB, CPU per 1,000 median 1910 → 1930 ms (spread
 * 1525–2330). It must be set before V8 starts (v8.setFlagsFromString is too late for heap sizes),
 * hence the #! line (GNU and BSD env take -S); `lan-chat` and `npm start` run this file itself.
 *
 * Two more settings on the same line, for idle memory (issue 5; 10 nodes in namespaces, RSS 15 s
 * after all were connected, the same bundle; bench/ --quick N=10 idle RSS 68.2–68.7 → 61.9–62.5 MB
 * with the node:crypto noise of network/noise-crypto.ts, CPU per 1,000 delivered 836–966 →
 * 653–1175 ms, i.e. within the noise):
 * - --optimize-for-size: the start-up burst (a Noise handshake, identify and gossipsub set-up per
 *   peer) promotes ~5 MB of short-lived objects at N=10 and ~15 MB at N=30 into the old generation,
 *   and with V8's defaults nothing collects them while the node idles (its first full GC comes at
 *   the initial limit, and the memory reducer only runs after one). With the flag V8 collects early
 *   and runs its memory-reducing GCs at idle: 65.4/66.6/67.2 → 62.3/62.4/64.7 MB at N=10, 81.6 →
 *   72.2 MB at N=30 (live heap unchanged, about 10 and 12.5 MB). Cost: more full GCs under sustained load; two nodes on
 *   loopback, 2,000 messages at 200/s, CPU per 1,000 median 1525 → 1615 ms (6 interleaved runs,
 *   spread 1390–1745). Drop the flag if CPU matters more than idle memory.
 * - MALLOC_ARENA_MAX=1: V8's and libuv's helper threads each got a glibc malloc arena, whose freed
 *   memory stays resident; one shared arena: 2 nodes, 58.6/59.8 → 56.5/56.6 MB, no CPU change seen
 *   (pair runs 1390–1545 ms against 1320–1520).
 * - --no-memory-reducer --expose-gc: V8's memory reducer collected the start-up garbage with three
 *   full GCs in a row, half of an idle node's CPU in the 20 s after start-up (bench/idle-threads.ts);
 *   idle-gc.ts does it with one.
 * - --interrupt-budget=270336 (4 × V8's 67584 in Node 20; newer V8 defaults to 132 KB, so 2× there):
 *   a function is optimised after four times as much bytecode run. At N=30 an idle node kept calling its ping, mDNS and heartbeat code
 *   just often enough for V8 to optimise it well into the idle minutes, on its helper threads:
 *   41–57 of 187–224 ms per node in 20 s (bench/idle-threads.ts). Together with yamux's keep-alive
 *   off (network/node.ts), N=30 idle per node 1.03/1.09 → 0.73/0.81 % of a core, RSS 62.5 → 61.0 MB;
 *   N=2 idle RSS 57.2 → 53.1 MB. Under load, where the hot code is optimised either way: N=10 CPU
 *   per 1,000 delivered 924/974 → 927/893 ms (budget alone), N=30 2039 → 1897 ms (back to back).
 * - --max-opt=1: V8 stops at its baseline compiler (Sparkplug) and never runs TurboFan. A node that
 *   had optimised anything held TurboFan's own machine code, 3.7 MB of pages of the node binary
 *   (smaps of 40 idle nodes in namespaces: the binary's text 21.9 → 18.2 MB per node), plus its
 *   compile zones and optimised code under load. The benchmark, LAN Chat only, the same bundle with
 *   and without the flag in turn: memory idle / under load N=2 53.3 / 81.2 → 53.1 / 75.7 MB,
 *   N=10 57.7 / 73.5–73.7 → 53.3 / 67.7–67.8, N=30 63.5 / 72.1 → 58.3 / 66.3, N=40 66.5 / 73.9 →
 *   59.9 / 63.9; CPU per 1,000 delivered N=2 693 → 760 ms, N=10 512–586 → 558–569, N=30
 *   1337 → 1231, N=40 1171 → 1451 (the benchmark's load phases are seconds long, and compiling
 *   cost about what the optimised code saved), latency and rates within the run-to-run spread
 *   (N=10 rate 500–600 → 500), history sync 1671 → 1537 ms (median of 3). Under sustained heavy
 *   load the optimised code does win: two nodes on loopback exchanging 1,600 messages a second for
 *   15 s used 0.50 → 0.61 ms of CPU per message (peak 89 → 80 MB). A chat's load is far below that.
 *   Drop the flag if a node must carry that kind of load for long.
 */
import '../polyfills.js'
import { basename } from 'node:path'
import { accessSync, constants } from 'node:fs'
import { userInfo, homedir } from 'node:os'
import { parseArgs, helpText } from '../config.js'
import { App } from '../app.js'
import { LanChatError, UsageError } from '../errors.js'
import { readVersion } from '../version.js'
import { IdleGc, compactingGc } from '../idle-gc.js'

function osUser(): string | undefined {
  try {
    return userInfo().username
  } catch {
    return process.env.USER
  }
}

/** How a user re-runs this program, for the printed "connect another node" command. */
function invocation(): string {
  if (process.env.npm_lifecycle_event === 'start') return 'npm start --'
  const script = process.argv[1] ?? ''
  if (basename(script) === 'lan-chat') return 'lan-chat'
  // The bundle runs by itself, so its #! line (and the V8 flags on it) applies; `node <file>` would drop them.
  try {
    accessSync(script, constants.X_OK)
    return script
  } catch {
    return `node ${script}`
  }
}

async function main(): Promise<number> {
  const version = readVersion()
  let parsed
  try {
    parsed = parseArgs(process.argv.slice(2), { user: osUser(), home: homedir(), xdgDataHome: process.env.XDG_DATA_HOME })
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`lan-chat: ${err.message}\n`)
      return 2
    }
    throw err
  }
  if (parsed.kind === 'help') {
    process.stdout.write(helpText(version) + '\n')
    return 0
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`lan-chat ${version}\n`)
    return 0
  }
  const config = parsed.config
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true
  const color = process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb'
  const command = invocation()

  let app: App
  try {
    app = await App.create({
      config,
      version,
      terminal: { input: process.stdin, output: process.stdout, interactive, color },
      connectCommand: (addr, port) => `${command} --port ${port === 0 ? 0 : port + 1} --peer ${addr}`
    })
    await app.start()
  } catch (err) {
    process.stderr.write(`lan-chat: cannot start: ${err instanceof LanChatError ? err.message : (err as Error).message}\n`)
    return 1
  }

  // The #! line turns V8's memory reducer off and exposes gc() for this (see idle-gc.ts).
  // Messages sent and received: the collection waits for a pause in the conversation.
  let messages = 0
  app.chat.on('message:new', () => {
    messages++
  })
  const idleGc = new IdleGc({ gc: compactingGc((globalThis as { gc?: () => void }).gc), activity: () => messages })
  idleGc.start()

  // Keep running whatever a peer does: a stray error from a stream is reported, not fatal.
  process.on('unhandledRejection', err => {
    if (config.verbose) process.stderr.write(`lan-chat: ignored error: ${(err as Error)?.stack ?? String(err)}\n`)
  })
  process.on('uncaughtException', err => {
    process.stderr.write(`lan-chat: unexpected error (still running): ${err.message}\n`)
  })

  return await new Promise<number>(resolve => {
    let stopping = false
    const shutdown = (code: number): void => {
      if (stopping) {
        resolve(130)
        return
      }
      stopping = true
      idleGc.stop()
      app.stop().then(
        () => {
          resolve(code)
        },
        err => {
          process.stderr.write(`lan-chat: error while stopping: ${(err as Error).message}\n`)
          resolve(1)
        }
      )
    }
    process.on('SIGINT', () => {
      shutdown(0)
    })
    process.on('SIGTERM', () => {
      shutdown(0)
    })
    app.on('quit', () => {
      shutdown(0)
    })
  })
}

main().then(
  code => {
    process.exit(code)
  },
  err => {
    process.stderr.write(`lan-chat: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  }
)
