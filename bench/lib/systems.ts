/**
 * The two systems the benchmark compares, as the fleet sees them: how to start a node and how to
 * read its stdout. LAN Chat is the real program as installed (package.json `bin`, the bundle of
 * dist/src/bin/lan-chat.js) with its production defaults; the baseline is bench/baseline-node.ts.
 */
import { accessSync, constants, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { System } from './fleet.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** What `lan-chat` runs once installed: the `bin` of package.json (the bundled program). */
export const LAN_CHAT_BIN = join(
  ROOT,
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['lan-chat']
)
export const BASELINE_BIN = join(ROOT, 'dist', 'bench', 'baseline-node.js')
export const TCP_FLOOR_BIN = join(ROOT, 'dist', 'bench', 'tcp-floor.js')

/** Every benchmark message starts with this word, so other lines are never mistaken for one. */
export const MESSAGE_MARK = 'bm'

/** A message line from a peer; one that history sync brought out of order is marked `(history)` and still delivered. */
const OURS_MESSAGE = /^\[\d\d:\d\d\] (?:\(history\) )?[^ [(]+: (bm .*)$/
const OURS_JOIN = /^\* (\S+) joined #main$/

/** An executable file runs by its #! line, as the installed command does; anything else through node. */
function runner(file: string): string[] {
  try {
    accessSync(file, constants.X_OK)
    return [file]
  } catch {
    return [process.execPath, file]
  }
}

/** The node flags on a `#!/usr/bin/env -S node --flag …` line; none for any other line. */
export function parseShebangNodeFlags(line: string): string[] {
  const m = /^#!\S*env -S (?:\w+=\S* )*node((?: --\S+)*)\s*$/.exec(line)
  return m == null ? [] : m[1].split(' ').filter(f => f !== '')
}

/**
 * The node flags on a file's #! line (e.g. the program's heap limits), so runs that go through
 * node itself (--profile, --heap-snapshot) keep them.
 */
export function shebangNodeFlags(file: string): string[] {
  try {
    return parseShebangNodeFlags(readFileSync(file, 'utf8').slice(0, 256).split('\n')[0])
  } catch {
    return []
  }
}

export function oursSystem(dataRoot: string, bin = LAN_CHAT_BIN): System {
  const exec = runner(bin)
  return {
    name: 'lan-chat',
    // Run as installed: the file itself, so its #! line (and the V8 flags on it) applies.
    command: host => [...exec, '--nick', `n${host.index}`, '--data-dir', join(dataRoot, `n${host.index}`)],
    parse: line => {
      if (line.startsWith('[')) {
        const m = OURS_MESSAGE.exec(line)
        return m == null ? undefined : { kind: 'recv', text: m[1] }
      }
      if (line.startsWith('  listening ')) return { kind: 'listening' }
      if (line.startsWith('✓ ')) return { kind: 'connected' }
      const j = OURS_JOIN.exec(line)
      return j == null ? undefined : { kind: 'joined', peer: j[1] }
    }
  }
}

export function baselineSystem(serviceTag: string, topic: string): System {
  return {
    name: 'baseline',
    command: () => [process.execPath, BASELINE_BIN, serviceTag, topic],
    parse: line => {
      const space = line.indexOf(' ')
      const word = line.slice(0, space)
      if (word === 'recv') {
        const second = line.indexOf(' ', space + 1)
        return { kind: 'recv', text: line.slice(second + 1), inProcessMs: Number(line.slice(space + 1, second)) }
      }
      if (word === 'listening') return { kind: 'listening' }
      if (word === 'connected') return { kind: 'connected' }
      if (word === 'joined') return { kind: 'joined', peer: line.slice(space + 1) }
      return undefined
    }
  }
}
