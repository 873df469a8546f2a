#!/usr/bin/env node
/**
 * The process entry point: argv → config → app.start(); signals; the only process.exit.
 * Exit codes: 0 after a clean shutdown, 1 when the node cannot start, 2 for bad flags.
 */
import '../polyfills.js'
import { basename } from 'node:path'
import { userInfo, homedir } from 'node:os'
import { parseArgs, helpText } from '../config.js'
import { App } from '../app.js'
import { LanChatError, UsageError } from '../errors.js'
import { readVersion } from '../version.js'

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
  return basename(script) === 'lan-chat' ? 'lan-chat' : `node ${script}`
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
