/**
 * Runs the real `lan-chat` program (the built dist/) as a child process, optionally inside a
 * network namespace, and lets a test type into its stdin and wait for lines on its stdout.
 * Stopped by PID; `stop()` sends SIGTERM and waits for the exit code.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(ROOT, 'dist', 'src', 'bin', 'lan-chat.js')

export interface ProgramOptions {
  args: string[]
  /** Run inside this network namespace (needs root). */
  ns?: string
  env?: Record<string, string>
}

export interface Program {
  pid: number
  proc: ChildProcessWithoutNullStreams
  /** Everything printed to stdout so far. */
  output: () => string
  stderr: () => string
  /** Resolves with the first stdout line matching, waiting up to `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  type: (line: string) => void
  /** SIGTERM (or the given signal) and wait for exit; resolves with the exit code. */
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>
  exited: Promise<number | null>
}

export function startProgram(options: ProgramOptions): Program {
  const cmd = options.ns != null ? 'ip' : process.execPath
  const args = options.ns != null ? ['netns', 'exec', options.ns, process.execPath, BIN, ...options.args] : [BIN, ...options.args]
  const proc = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: 'pipe' })
  let out = ''
  let err = ''
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = []
  const check = (): void => {
    for (const w of [...waiters]) {
      const line = out.split('\n').find(l => w.pattern.test(l))
      if (line != null) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  }
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d
    check()
  })
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const exited = new Promise<number | null>(resolve =>
    proc.once('exit', code => {
      resolve(code)
    })
  )
  return {
    pid: proc.pid ?? -1,
    proc,
    output: () => out,
    stderr: () => err,
    exited,
    waitFor: async (pattern, timeoutMs = 10_000) =>
      await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(
            waiters.findIndex(w => w.resolve === done),
            1
          )
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`)
          )
        }, timeoutMs)
        const done = (line: string): void => {
          clearTimeout(timer)
          resolve(line)
        }
        waiters.push({ pattern, resolve: done })
        check()
      }),
    type: line => {
      proc.stdin.write(line + '\n')
    },
    stop: async (signal = 'SIGTERM', timeoutMs = 10_000) => {
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
