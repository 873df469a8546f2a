/**
 * The data directory: one node at a time. A node takes `<dir>/lock` (holding its PID); a second
 * node started with the same directory (two terminals in the same folder, no flags) takes
 * `<dir>/instance-2`, then `instance-3`, ... so no node can corrupt another's key or chat.log.
 * A lock left by a process that no longer runs is taken over.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { DataDirLockedError, StorageError } from '../errors.js'

/** How many instance folders to try before giving up. */
export const MAX_INSTANCES = 32

export interface DataDirLock {
  /** The folder this node owns. */
  readonly dir: string
  /** True when the requested folder was busy and an instance folder was used instead. */
  readonly fallback: boolean
  release: () => Promise<void>
}

export interface AcquireOptions {
  pid?: number
  /** Whether a process is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean
  maxInstances?: number
}

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function tryLock(dir: string, pid: number, isAlive: (pid: number) => boolean): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const lockPath = join(dir, 'lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx', 0o600)
      try {
        await fh.writeFile(`${pid}\n`)
      } finally {
        await fh.close()
      }
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(owner) && owner > 0 && owner !== pid && isAlive(owner)) return false
    await unlink(lockPath).catch(() => {})
  }
  return false
}

export async function acquireDataDir(dir: string, options: AcquireOptions = {}): Promise<DataDirLock> {
  const pid = options.pid ?? process.pid
  const isAlive = options.isAlive ?? defaultIsAlive
  const max = options.maxInstances ?? MAX_INSTANCES
  for (let i = 1; i <= max; i++) {
    const candidate = i === 1 ? dir : join(dir, `instance-${i}`)
    let locked: boolean
    try {
      locked = await tryLock(candidate, pid, isAlive)
    } catch (err) {
      throw new StorageError(`cannot use data directory ${candidate}: ${(err as Error).message}`, { cause: err })
    }
    if (locked) {
      const lockPath = join(candidate, 'lock')
      let released = false
      return {
        dir: candidate,
        fallback: i > 1,
        async release() {
          if (released) return
          released = true
          const owner = await readFile(lockPath, 'utf8').catch(() => '')
          if (Number.parseInt(owner, 10) === pid) await unlink(lockPath).catch(() => {})
        }
      }
    }
  }
  throw new DataDirLockedError(`data directory ${dir} and its ${max - 1} instance folders are all in use by running nodes`)
}
