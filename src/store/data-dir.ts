/**
 * The data directory: one node at a time. A node takes `<dir>/lock` (holding its PID); a second
 * node started with the same directory (two terminals in the same folder, no flags) takes
 * `<dir>/instance-2`, then `instance-3`, ... so no node can corrupt another's key or chat.log.
 * A lock left by a process that no longer runs is taken over.
 *
 * The lock holds the PID and a token unique to the process (its start time), so two nodes in one
 * process (tests, benchmarks) see each other's lock as taken, while a lock left by an earlier
 * process that happened to get the same PID (a restarted container is PID 1 again) is stale.
 */
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
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
  /** Tells this process apart from an earlier one with the same PID (default: the process start time). */
  token?: string
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

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'])

async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    await writeFile(path, content, { mode: 0o600, flag: 'wx' })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

function processToken(): string {
  return String(performance.timeOrigin)
}

async function tryLock(dir: string, pid: number, token: string, isAlive: (pid: number) => boolean): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const lockPath = join(dir, 'lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written whole under another name, then linked into place: nobody ever reads a half-written lock.
    const tmp = `${lockPath}.${pid}-${randomBytes(4).toString('hex')}`
    await writeFile(tmp, `${pid} ${token}\n`, { mode: 0o600, flag: 'wx' })
    try {
      await link(tmp, lockPath)
      return true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EEXIST' && !NO_HARD_LINKS.has(code ?? '')) throw err
      // File systems without hard links (FAT, some FUSE): an exclusive create is the next best thing.
      if (code !== 'EEXIST' && (await createExclusive(lockPath, `${pid} ${token}\n`))) return true
    } finally {
      await unlink(tmp).catch(() => {})
    }
    const [ownerField, ownerToken] = (await readFile(lockPath, 'utf8').catch(() => '')).trim().split(/\s+/)
    const owner = Number.parseInt(ownerField, 10)
    if (owner === pid && ownerToken === token) return false
    if (Number.isInteger(owner) && owner > 0 && owner !== pid && isAlive(owner)) return false
    await unlink(lockPath).catch(() => {})
  }
  return false
}

export async function acquireDataDir(dir: string, options: AcquireOptions = {}): Promise<DataDirLock> {
  const pid = options.pid ?? process.pid
  const token = options.token ?? processToken()
  const isAlive = options.isAlive ?? defaultIsAlive
  const max = options.maxInstances ?? MAX_INSTANCES
  for (let i = 1; i <= max; i++) {
    const candidate = i === 1 ? dir : join(dir, `instance-${i}`)
    let locked: boolean
    try {
      locked = await tryLock(candidate, pid, token, isAlive)
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
          if (owner.trim() === `${pid} ${token}`) await unlink(lockPath).catch(() => {})
        }
      }
    }
  }
  throw new DataDirLockedError(`data directory ${dir} and its ${max - 1} instance folders are all in use by running nodes`)
}
