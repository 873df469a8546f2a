/**
 * Runs the real `lan-chat` program (the built dist/) as a child process, optionally inside a
 * network namespace, and lets a test type into its stdin and wait for lines on its stdout.
 * Every stdout line is kept with the time it arrived, so a test can wait for lines printed after
 * a given moment (`mark()`) and report how long something took.
 * Stopped by PID; `stop()` sends SIGTERM and waits for the exit code.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The file users run (package.json `bin`): the bundle of dist/src/bin/lan-chat.js. */
export const BIN = join(ROOT, 'dist', 'src', 'bin', 'lan-chat.bundle.mjs')

/** How long `waitFor` waits by default. */
export const DEFAULT_WAIT_MS = 10_000
/** How long `stop()` waits after SIGTERM before SIGKILL. */
export const DEFAULT_STOP_MS = 10_000

export interface ProgramOptions {
  args: string[]
  /** Run inside this network namespace (needs root). */
  ns?: string
  env?: Record<string, string>
  /** Run the file itself, as the installed `lan-chat` command does, so its #! line (and the V8 flags on it) applies. */
  asInstalled?: boolean
  /** Run this command line with `sh -c` in the project folder instead (the args are appended), as npm runs a script. */
  shell?: string
}

export interface Line {
  text: string
  /** Date.now() when the line arrived. */
  at: number
}

export interface Program {
  pid: number
  proc: ChildProcessWithoutNullStreams
  /** Date.now() when the process was spawned. */
  startedAt: number
  /** Everything printed to stdout so far. */
  output: () => string
  stderr: () => string
  /** Complete stdout lines so far, with their arrival times. */
  lines: () => Line[]
  /** The number of complete lines so far: pass it to `waitFor` to wait only for later lines. */
  mark: () => number
  /**
   * Resolves with the first stdout line matching (from line index `from` on), waiting up to
   * `timeoutMs`.
   */
  waitFor: (pattern: RegExp, timeoutMs?: number, from?: number) => Promise<string>
  /** Like `waitFor`, but resolves with the line and its arrival time. */
  waitForLine: (pattern: RegExp, timeoutMs?: number, from?: number) => Promise<Line>
  type: (line: string) => void
  /** SIGTERM (or the given signal) and wait for exit; resolves with the exit code. */
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>
  exited: Promise<number | null>
}

interface Waiter {
  pattern: RegExp
  from: number
  resolve: (line: Line) => void
}

/** One shell word, quoted. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`
}

export function startProgram(options: ProgramOptions): Program {
  // With `shell`, the args are part of the command line, as npm appends them to a script.
  const program =
    options.shell != null
      ? ['sh', '-c', [options.shell, ...options.args.map(shellQuote)].join(' ')]
      : options.asInstalled === true
        ? [BIN]
        : [process.execPath, BIN]
  const programArgs = options.shell != null ? [] : options.args
  const cmd = options.ns != null ? 'ip' : program[0]
  // `ip netns exec` execs the program in place, so the child's PID is the program's PID.
  const args = options.ns != null ? ['netns', 'exec', options.ns, ...program, ...programArgs] : [...program.slice(1), ...programArgs]
  const startedAt = Date.now()
  const proc = spawn(cmd, args, {
    cwd: options.shell != null ? ROOT : undefined,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: 'pipe'
  })
  let out = ''
  let partial = ''
  let err = ''
  const lines: Line[] = []
  const waiters: Waiter[] = []
  const find = (w: Waiter): Line | undefined => {
    for (let i = w.from; i < lines.length; i++) if (w.pattern.test(lines[i].text)) return lines[i]
    // A prompt or a line still being written counts too.
    return partial !== '' && w.pattern.test(partial) ? { text: partial, at: Date.now() } : undefined
  }
  const check = (): void => {
    for (const w of [...waiters]) {
      const line = find(w)
      if (line == null) continue
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(line)
    }
  }
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d
    const at = Date.now()
    const parts = (partial + d).split('\n')
    partial = parts.pop() ?? ''
    for (const text of parts) lines.push({ text, at })
    check()
  })
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  // Writing to a program that has exited must not crash the test process.
  proc.stdin.on('error', () => {})
  const exited = new Promise<number | null>(resolve =>
    proc.once('exit', code => {
      resolve(code)
    })
  )
  const waitForLine = async (pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS, from = 0): Promise<Line> =>
    await new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiters.indexOf(waiter)
        if (i >= 0) waiters.splice(i, 1)
        reject(
          new Error(
            `pid ${proc.pid ?? '?'}: timed out after ${timeoutMs} ms waiting for ${String(pattern)}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`
          )
        )
      }, timeoutMs)
      const waiter: Waiter = {
        pattern,
        from,
        resolve: line => {
          clearTimeout(timer)
          resolve(line)
        }
      }
      waiters.push(waiter)
      check()
    })
  return {
    pid: proc.pid ?? -1,
    proc,
    startedAt,
    output: () => out,
    stderr: () => err,
    lines: () => [...lines],
    mark: () => lines.length,
    exited,
    waitForLine,
    waitFor: async (pattern, timeoutMs, from) => (await waitForLine(pattern, timeoutMs, from)).text,
    type: line => {
      proc.stdin.write(line + '\n')
    },
    stop: async (signal = 'SIGTERM', timeoutMs = DEFAULT_STOP_MS) => {
      if (proc.exitCode != null || proc.signalCode != null) return proc.exitCode
      proc.kill(signal)
      const timer = setTimeout(() => {
        proc.kill('SIGKILL')
      }, timeoutMs)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}
