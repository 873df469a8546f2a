/**
 * chat.log: an append-only file, one JSON object per line.
 *
 * Two steps make a line safe, and they are kept apart so the slow one is off the send path:
 * - written: the line is in the file (the kernel holds it), so it survives the process dying;
 * - durable: fdatasync has confirmed it, so it survives a power cut too.
 * Lines are written with synchronous write calls on the event loop, which keeps them in order and
 * whole (a write of a few hundred bytes to the page cache takes microseconds; an asynchronous one
 * waited for a thread-pool hop and put a disk round trip before every publish, bench/). fdatasync
 * runs on the thread pool, `syncDelay` ms after the first line that waits for it (a group commit):
 * every line written in that time, or while a sync is in flight, shares one. Started at once, a
 * sync ran for nearly every message a busy node sent, and the kernel's journal work was a third of
 * the node's CPU per message (two nodes on loopback, 1,600 messages a second); it also started on
 * the send path, before the message was published.
 *
 * `write()` writes at once and returns the promise of durability; the service publishes a message
 * once it is written and acknowledges it once it is durable. `append(value, 'later')` (a message
 * received from the room, which its peers also hold) waits up to `linger` ms for company, so under
 * load the node writes and syncs once per linger instead of once per message (chat.log writes were
 * the largest item of a receiving node's profile); a `write()` takes every lingering line with it.
 * The lines that linger together share one promise: under load a node receives hundreds of
 * messages a second, and a promise and two callbacks per line lived through the linger and the
 * sync, long enough for V8 to move them to the old generation as garbage.
 * A failed write (full disk) throws or rejects with StorageError, the part of it that made it to
 * the file is cut off again, and the log stays usable.
 *
 * `load()` returns every parsable line. A torn last line (a crash mid-write) is moved aside to
 * `chat.log.torn-<time>` and cut off, so new lines start clean; other unparsable lines are reported
 * with their line number and kept in the file untouched.
 */
import { close, fdatasync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs'
import { open, readFile, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { StorageError } from '../errors.js'

export interface ChatLogInit {
  /** Path of chat.log. */
  path: string
  /** fdatasync after writing (default true). Turning it off trades durability for speed. */
  sync?: boolean
  /** Current time for naming set-aside files; injectable for tests. */
  now?: () => number
  /** How long an append marked `later` may wait to be written with others (ms). */
  linger?: number
  /** How long a written line may wait for the fdatasync it shares with the lines after it (ms). */
  syncDelay?: number
}

/** See the header: long enough to gather a burst, short next to how often a person types. */
export const DEFAULT_LOG_LINGER = 50

/**
 * See the header. A person does not notice 20 ms more before a send is acknowledged; the lines of
 * a burst then cost one disk sync instead of one each. Only a power cut inside this window (plus
 * the sync itself) loses a line that was written, and peers that got the message still have it.
 */
export const DEFAULT_SYNC_DELAY = 20

/** `now`: write at once (and resolve once durable); `later`: may wait up to the linger time. */
export type AppendUrgency = 'now' | 'later'

export interface LogRecord {
  /** 1-based line number in chat.log. */
  line: number
  value: unknown
}

export interface LogProblem {
  line: number
  kind: 'torn' | 'corrupt'
  message: string
  /** For a torn tail: where the partial line was saved. */
  savedTo?: string
}

export interface LoadResult {
  records: LogRecord[]
  problems: LogProblem[]
}

/** A line that is in the file; `durable` resolves once fdatasync has confirmed it. */
export interface Written {
  durable: Promise<void>
}

export interface ChatLog {
  readonly path: string
  /** Reads the file (creating it if missing) and prepares it for appending. */
  load: () => Promise<LoadResult>
  /**
   * Writes one object as a line at once, with every lingering line before it. When this returns,
   * the line survives the process dying. Throws StorageError if it cannot be written.
   */
  write: (value: unknown) => Written
  /**
   * Appends one object as a line; resolves when it is durable. `later` lines that wait together
   * get the same promise (compare it to tell batches apart).
   */
  append: (value: unknown, urgency?: AppendUrgency) => Promise<void>
  /** Writes lingering lines and waits until everything written is durable. */
  flush: () => Promise<void>
  /** Flushes and closes the file. Idempotent. */
  close: () => Promise<void>
}

interface Waiter {
  resolve: () => void
  reject: (err: Error) => void
}

/** Lines waiting for company, and the one promise they share. */
interface Lingering extends Waiter {
  lines: string[]
  promise: Promise<void>
}

function lingeringBatch(): Lingering {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  // Callers that append and never look at the outcome must not turn a failed write into an
  // unhandled rejection; those that do look still see it.
  promise.catch(() => {})
  return { lines: [], promise, resolve, reject }
}

const datasyncFd = promisify(fdatasync)
const closeFd = promisify(close)

export function createChatLog(init: ChatLogInit): ChatLog {
  const path = init.path
  const doSync = init.sync ?? true
  const now = init.now ?? Date.now
  const linger = init.linger ?? DEFAULT_LOG_LINGER
  const syncDelay = init.syncDelay ?? DEFAULT_SYNC_DELAY
  let fd: number | undefined
  /** The file's length as this log wrote it (it is the only writer: the data folder is locked). */
  let size: number | undefined
  let lingering: Lingering | undefined
  let lingerTimer: ReturnType<typeof setTimeout> | undefined
  /** Written lines waiting for an fdatasync that starts after their write. */
  let unsynced: Waiter[] = []
  let syncing: Promise<void> | undefined
  /** Set while the next sync waits out `syncDelay`. */
  let syncTimer: ReturnType<typeof setTimeout> | undefined
  /** A failed write could not be cut back: the next line starts on a fresh line. */
  let pendingNewline = false
  let closed = false

  function ensureOpen(): number {
    if (fd == null) {
      try {
        fd = openSync(path, 'a', 0o600)
        size = fstatSync(fd).size
      } catch (err) {
        throw new StorageError(`cannot open ${path}: ${(err as Error).message}`, { cause: err })
      }
    }
    return fd
  }

  /**
   * Writes lines in one go (a write may take only part of them). Throws StorageError. A write that
   * fails part-way (the disk filled up) is cut back off, so the file never keeps half a line.
   */
  function writeLines(lines: string[]): void {
    const target = ensureOpen()
    const bytes = Buffer.from((pendingNewline ? '\n' : '') + lines.join(''), 'utf8')
    let offset = 0
    try {
      while (offset < bytes.byteLength) offset += writeSync(target, bytes, offset)
      pendingNewline = false
      if (size != null) size += bytes.byteLength
    } catch (err) {
      if (offset > 0) cutBack(target)
      throw new StorageError(`cannot write ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Removes the part of a failed write; if that fails too, the next line starts on a fresh line. */
  function cutBack(target: number): void {
    if (size != null) {
      try {
        ftruncateSync(target, size)
        return
      } catch {}
    }
    pendingNewline = true
    size = undefined
  }

  function whenDurable(): Promise<void> {
    if (!doSync) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      unsynced.push({ resolve, reject })
      scheduleSync()
    })
  }

  /** Starts a sync after `syncDelay`, unless one is already waiting or in flight. */
  function scheduleSync(): void {
    if (syncing != null || syncTimer != null) return
    if (syncDelay <= 0) {
      startSync()
      return
    }
    syncTimer = setTimeout(startSync, syncDelay)
  }

  function startSync(): void {
    if (syncTimer != null) {
      clearTimeout(syncTimer)
      syncTimer = undefined
    }
    const batch = unsynced
    unsynced = []
    const target = fd
    const done =
      target == null
        ? Promise.resolve()
        : datasyncFd(target).catch((err: unknown) => {
            throw new StorageError(`cannot sync ${path} to disk: ${(err as Error).message}`, { cause: err })
          })
    syncing = done.then(
      () => {
        for (const w of batch) w.resolve()
      },
      (err: Error) => {
        for (const w of batch) w.reject(err)
      }
    )
    void syncing.finally(() => {
      syncing = undefined
      if (unsynced.length > 0) scheduleSync()
    })
  }

  /** Writes the lingering lines, with `line` after them; settles the lingering ones' promises. */
  function writeWithLingering(line?: string): void {
    if (lingerTimer != null) {
      clearTimeout(lingerTimer)
      lingerTimer = undefined
    }
    const batch = lingering
    lingering = undefined
    const lines = batch?.lines ?? []
    if (line != null) lines.push(line)
    try {
      writeLines(lines)
    } catch (err) {
      batch?.reject(err as Error)
      throw err
    }
    if (batch != null) whenDurable().then(batch.resolve, batch.reject)
  }

  function writeLingering(): void {
    try {
      writeWithLingering()
    } catch {
      // The lingering appends' promise was rejected with the error.
    }
  }

  function write(value: unknown): Written {
    if (closed) throw new StorageError('chat.log is closed')
    writeWithLingering(JSON.stringify(value) + '\n')
    return { durable: whenDurable() }
  }

  async function settle(): Promise<void> {
    if (lingering != null) writeLingering()
    // A sync waiting out its delay starts now: whoever settles wants it done.
    while (syncing != null || syncTimer != null) {
      if (syncing == null) startSync()
      await syncing?.catch(() => {})
    }
  }

  return {
    path,
    async load() {
      let bytes = Buffer.alloc(0)
      try {
        bytes = await readFile(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new StorageError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
      }
      const records: LogRecord[] = []
      const problems: LogProblem[] = []
      // Work on bytes: a crash can cut a multi-byte character, and decoding first would change the
      // length of the part to keep.
      const end = bytes.lastIndexOf(0x0a) + 1
      const tail = bytes.subarray(end)
      const lines = bytes.subarray(0, end).toString('utf8').split('\n')
      lines.pop()
      lines.forEach((line, i) => {
        if (line.trim() === '') return
        try {
          records.push({ line: i + 1, value: JSON.parse(line) })
        } catch {
          problems.push({ line: i + 1, kind: 'corrupt', message: 'not valid JSON' })
        }
      })
      if (tail.byteLength > 0) {
        const savedTo = `${path}.torn-${now()}`
        try {
          await writeFile(savedTo, tail, { mode: 0o600 })
          const fh = await open(path, 'r+')
          try {
            await fh.truncate(end)
            await fh.datasync()
          } finally {
            await fh.close()
          }
        } catch (err) {
          throw new StorageError(`cannot set aside the torn last line of ${path}: ${(err as Error).message}`, { cause: err })
        }
        problems.push({ line: lines.length + 1, kind: 'torn', message: 'incomplete last line (the node stopped mid-write)', savedTo })
      }
      ensureOpen()
      return { records, problems }
    },
    write,
    append(value, urgency = 'now') {
      try {
        if (urgency === 'now' || linger <= 0) return write(value).durable
        if (closed) throw new StorageError('chat.log is closed')
        const line = JSON.stringify(value) + '\n'
        if (lingering == null) {
          lingering = lingeringBatch()
          lingerTimer = setTimeout(writeLingering, linger)
        }
        lingering.lines.push(line)
        return lingering.promise
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new StorageError(String(err)))
      }
    },
    async flush() {
      await settle()
    },
    async close() {
      if (closed) return
      closed = true
      await settle()
      const target = fd
      fd = undefined
      if (target != null) await closeFd(target)
    }
  }
}
