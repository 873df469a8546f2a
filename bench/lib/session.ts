/**
 * What every benchmark command does first: checks that it can make network namespaces, removes
 * stale ones from an earlier run, makes a data folder, and on Ctrl-C or SIGTERM kills every node
 * it started and removes that folder (netns.ts deletes its namespaces on exit).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { netnsUnavailableReason, sweepStale } from '../../test/helpers/netns.js'
import type { ChildRegistry } from './fleet.js'

export interface BenchSession {
  /** Every node process started; killed on abort. */
  children: ChildRegistry
  /** A new temporary folder for the nodes' data. */
  dataRoot: string
}

/** Opens a session, or says on stderr why it cannot (no namespaces here) and returns undefined. */
export function openBenchSession(prefix: string): BenchSession | undefined {
  const reason = netnsUnavailableReason()
  if (reason != null) {
    process.stderr.write(`bench: needs network namespaces (${reason})\n`)
    return undefined
  }
  sweepStale()
  const children: ChildRegistry = new Set()
  const dataRoot = mkdtempSync(join(tmpdir(), prefix))
  const abort = (): void => {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dataRoot, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', abort)
  process.once('SIGTERM', abort)
  return { children, dataRoot }
}
