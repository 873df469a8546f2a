/**
 * chat.log: an append-only file, one JSON object per line.
 *
 * `append()` resolves only once the line is durably on disk (fdatasync). Appends that arrive
 * while a write is in flight are batched into the next write, so durability costs one sync per
 * batch rather than per message. A failed write (full disk) rejects the appends of that batch with
 * StorageError and the log stays usable.
 *
 * An append marked `later` (a message received from the room, which its peers also hold) waits up
 * to `linger` ms for company before it is written: under load the node writes and syncs once per
 * linger instead of once per message (the benchmark's chat.log writes were the largest item of a
 * receiving node's profile). An urgent append (this node's own message, acknowledged only once
 * durable) is written at once and takes every lingering line with it.
 *
 * `load()` returns every parsable line. A torn last line (a crash mid-write) is moved aside to
 * `chat.log.torn-<time>` and cut off, so new lines start clean; other unparsable lines are reported
 * with their line number and kept in the file untouched.
 */
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises'
import { StorageError } from '../errors.js'

export interface ChatLogInit {
  /** Path of chat.log. */
  path: string
  /** fdatasync after each batch (default true). Turning it off trades durability for speed. */
  sync?: boolean
  /** Current time for naming set-aside files; injectable for tests. */
  now?: () => number
  /** How long an append marked `later` may wait to be written with others (ms). */
  linger?: number
}

/** See the header: long enough to gather a burst, short next to how often a person types. */
export const DEFAULT_LOG_LINGER = 50

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

export interface ChatLog {
  readonly path: string
  /** Reads the file (creating it if missing) and prepares it for appending. */
  load: () => Promise<LoadResult>
  /** Appends one object as a line; resolves when it is durable. */
  append: (value: unknown, urgency?: AppendUrgency) => Promise<void>
  /** Waits for every pending append. */
  flush: () => Promise<void>
  /** Flushes and closes the file. Idempotent. */
  close: () => Promise<void>
}

interface Pending {
  line: string
  resolve: () => void
  reject: (err: Error) => void
}

export function createChatLog(init: ChatLogInit): ChatLog {
  const path = init.path
  const doSync = init.sync ?? true
  const now = init.now ?? Date.now
  const linger = init.linger ?? DEFAULT_LOG_LINGER
  let lingering: ReturnType<typeof setTimeout> | undefined
  let handle: FileHandle | undefined
  let queue: Pending[] = []
  let writing: Promise<void> | undefined
  let closed = false

  async function ensureOpen(): Promise<FileHandle> {
    if (handle == null) {
      try {
        handle = await open(path, 'a', 0o600)
      } catch (err) {
        throw new StorageError(`cannot open ${path}: ${(err as Error).message}`, { cause: err })
      }
    }
    return handle
  }

  async function writeBatch(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue
      queue = []
      try {
        const fh = await ensureOpen()
        await writeAll(fh, Buffer.from(batch.map(p => p.line).join(''), 'utf8'))
        if (doSync) await fh.datasync()
        for (const p of batch) p.resolve()
      } catch (err) {
        const error =
          err instanceof StorageError ? err : new StorageError(`cannot write ${path}: ${(err as Error).message}`, { cause: err })
        for (const p of batch) p.reject(error)
        // A partial write may have left a torn line: start the next batch on a fresh line.
        if (queue.length > 0) queue[0].line = '\n' + queue[0].line
        else pendingNewline = true
      }
    }
  }

  let pendingNewline = false

  function kick(): void {
    if (lingering != null) {
      clearTimeout(lingering)
      lingering = undefined
    }
    if (writing != null) return
    writing = writeBatch().finally(() => {
      writing = undefined
      if (queue.length > 0) kick()
    })
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
      await ensureOpen()
      return { records, problems }
    },
    append(value, urgency = 'now') {
      if (closed) return Promise.reject(new StorageError('chat.log is closed'))
      let line = JSON.stringify(value) + '\n'
      if (pendingNewline) {
        line = '\n' + line
        pendingNewline = false
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ line, resolve, reject })
        if (urgency === 'later' && linger > 0) {
          // A write in flight takes it with its next batch anyway.
          if (lingering == null && writing == null) lingering = setTimeout(kick, linger)
        } else kick()
      })
    },
    async flush() {
      if (queue.length > 0) kick()
      while (writing != null) await writing
    },
    async close() {
      if (closed) return
      closed = true
      if (queue.length > 0) kick()
      while (writing != null) await writing
      const fh = handle
      handle = undefined
      await fh?.close()
    }
  }
}

/** Writes every byte (a write may take only part of them). */
async function writeAll(fh: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, offset)
    offset += bytesWritten
  }
}
