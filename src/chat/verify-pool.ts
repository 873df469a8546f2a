/**
 * Ed25519 verification on worker threads, for history sync: a new node that fetches 10,000
 * messages has 10,000 signatures to check, about 1.2 s of one core, and that was most of the sync's
 * time on the one JavaScript thread. Here chunks of signatures go to worker threads, one message
 * (with transferred buffers) per chunk, so the main thread keeps parsing, storing and talking to the
 * network while the other cores verify. (node:crypto's own async `verify` runs on libuv's pool but
 * costs 25–70 µs of main-thread time per signature; a chunk costs that once.)
 *
 * The workers start on first use and exit after a while without work, so an idle node holds none.
 * If a worker cannot start or dies, its chunk and every later one are verified on the main thread:
 * slower, never wrong. `close()` ends the workers; chunks still waiting are rejected.
 */
import { createPublicKey, verify } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { InvalidOptionError, NotStartedError } from '../errors.js'

/** Worker threads at most; a 2-core machine gets 2 (the main thread's share is mostly waiting meanwhile). */
export const DEFAULT_VERIFY_THREADS = Math.max(1, Math.min(2, availableParallelism()))
/** Workers exit after this long without a chunk to verify. */
export const DEFAULT_VERIFY_IDLE_TIMEOUT = 5_000
/** Signatures per message to a worker: small enough that the work spreads, large enough that messaging costs little. */
export const DEFAULT_VERIFY_CHUNK = 64
/** A worker that has not answered a chunk in this long is ended and the chunk checked here (a few ms is normal). */
export const DEFAULT_VERIFY_CHUNK_TIMEOUT = 10_000

const ED25519_SIGNATURE_BYTES = 64
const ED25519_KEY_BYTES = 32
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** One signature to check: `signature` over `data` by the raw 32-byte Ed25519 `publicKey`. */
export interface VerifyJob {
  data: Uint8Array
  signature: Uint8Array
  publicKey: Uint8Array
}

export interface VerifyPoolInit {
  /** Worker threads at most; 0 verifies on the calling thread. */
  threads?: number
  /** ms without work after which the workers exit. */
  idleTimeout?: number
  /** Signatures sent to a worker at a time. */
  chunk?: number
  /** ms a worker may take for one chunk before it is ended. */
  chunkTimeout?: number
}

export interface VerifyPool {
  /** Whether each signature is valid, in order. Rejects with NotStartedError after close(). */
  verify: (jobs: VerifyJob[]) => Promise<boolean[]>
  /** Starts the workers now (before a large `verify`), so their start-up overlaps other work. */
  warm: () => void
  /** Worker threads running now. */
  threads: () => number
  /** Ends the workers; idempotent. A later `verify` starts them again. */
  close: () => Promise<void>
}

/** What a worker receives: a chunk, packed into a few transferable buffers. */
interface ChunkFrame {
  id: number
  /** Distinct public keys, 32 bytes each. */
  keys: Uint8Array
  /** Per signature: which key. */
  keyIndex: Uint32Array
  /** The signed data, back to back; `ends[i]` is where item i ends. */
  data: Uint8Array
  ends: Uint32Array
  /** 64 bytes per signature. */
  signatures: Uint8Array
}

interface ChunkReply {
  id: number
  ok: Uint8Array
}

/**
 * The worker: plain CommonJS run with `eval`, so it works the same from tsc's output and from the
 * single-file bundle. It caches key objects, like the main thread's verifier.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createPublicKey, verify } = require('node:crypto')
const PREFIX = Buffer.from('${SPKI_ED25519_PREFIX.toString('hex')}', 'hex')
const MAX_KEYS = 1024
const keys = new Map()
function keyOf(raw) {
  const hex = Buffer.from(raw).toString('hex')
  let key = keys.get(hex)
  if (key === undefined) {
    try { key = createPublicKey({ key: Buffer.concat([PREFIX, raw]), format: 'der', type: 'spki' }) } catch { key = null }
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value)
    keys.set(hex, key)
  }
  return key
}
parentPort.on('message', f => {
  const n = f.ends.length
  const ok = new Uint8Array(n)
  const objects = []
  for (let k = 0; k * ${ED25519_KEY_BYTES} < f.keys.length; k++) objects.push(keyOf(f.keys.subarray(k * ${ED25519_KEY_BYTES}, (k + 1) * ${ED25519_KEY_BYTES})))
  let start = 0
  for (let i = 0; i < n; i++) {
    const key = objects[f.keyIndex[i]]
    const data = f.data.subarray(start, f.ends[i])
    const sig = f.signatures.subarray(i * ${ED25519_SIGNATURE_BYTES}, (i + 1) * ${ED25519_SIGNATURE_BYTES})
    try { ok[i] = key != null && verify(null, data, key, sig) ? 1 : 0 } catch { ok[i] = 0 }
    start = f.ends[i]
  }
  parentPort.postMessage({ id: f.id, ok }, [ok.buffer])
})
`

/** Packs jobs (each with a 64-byte signature and a 32-byte key) into one frame. Pure. */
export function packChunk(id: number, jobs: VerifyJob[]): ChunkFrame {
  const keyIds = new Map<string, number>()
  const keyList: Uint8Array[] = []
  const keyIndex = new Uint32Array(jobs.length)
  const ends = new Uint32Array(jobs.length)
  const signatures = new Uint8Array(jobs.length * ED25519_SIGNATURE_BYTES)
  let size = 0
  for (const [i, job] of jobs.entries()) {
    const hex = Buffer.from(job.publicKey.buffer, job.publicKey.byteOffset, job.publicKey.byteLength).toString('hex')
    let k = keyIds.get(hex)
    if (k == null) {
      k = keyList.length
      keyIds.set(hex, k)
      keyList.push(job.publicKey)
    }
    keyIndex[i] = k
    signatures.set(job.signature, i * ED25519_SIGNATURE_BYTES)
    size += job.data.byteLength
    ends[i] = size
  }
  const data = new Uint8Array(size)
  let at = 0
  for (const job of jobs) {
    data.set(job.data, at)
    at += job.data.byteLength
  }
  const keys = new Uint8Array(keyList.length * ED25519_KEY_BYTES)
  keyList.forEach((key, k) => {
    keys.set(key, k * ED25519_KEY_BYTES)
  })
  return { id, keys, keyIndex, data, ends, signatures }
}

/** The same check on the calling thread. */
function verifyHere(jobs: VerifyJob[]): boolean[] {
  const keys = new Map<string, ReturnType<typeof createPublicKey> | null>()
  return jobs.map(job => {
    const hex = Buffer.from(job.publicKey).toString('hex')
    let key = keys.get(hex)
    if (key === undefined) {
      try {
        key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, job.publicKey]), format: 'der', type: 'spki' })
      } catch {
        key = null
      }
      keys.set(hex, key)
    }
    try {
      return key != null && verify(null, job.data, key, job.signature)
    } catch {
      return false
    }
  })
}

interface Chunk {
  jobs: VerifyJob[]
  resolve: (ok: boolean[]) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  /** The chunk it is verifying, and the timer that ends a worker that hangs on it. */
  busy?: { id: number; chunk: Chunk; timer: ReturnType<typeof setTimeout> }
}

export function createVerifyPool(init: VerifyPoolInit = {}): VerifyPool {
  const maxThreads = init.threads ?? DEFAULT_VERIFY_THREADS
  const idleTimeout = init.idleTimeout ?? DEFAULT_VERIFY_IDLE_TIMEOUT
  const chunkSize = init.chunk ?? DEFAULT_VERIFY_CHUNK
  const chunkTimeout = init.chunkTimeout ?? DEFAULT_VERIFY_CHUNK_TIMEOUT
  if (!Number.isInteger(maxThreads) || maxThreads < 0) throw new InvalidOptionError('threads must be an integer ≥ 0')
  if (!Number.isFinite(idleTimeout) || idleTimeout < 0) throw new InvalidOptionError('idleTimeout must be a number of ms ≥ 0')
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new InvalidOptionError('chunk must be a positive integer')
  if (!Number.isFinite(chunkTimeout) || chunkTimeout <= 0) throw new InvalidOptionError('chunkTimeout must be a number of ms > 0')
  const slots: Slot[] = []
  const waiting: Chunk[] = []
  let nextId = 0
  /** A worker failed: verify here from now on. */
  let broken = maxThreads === 0
  let idleTimer: ReturnType<typeof setTimeout> | undefined

  function runHere(chunk: Chunk): void {
    try {
      chunk.resolve(verifyHere(chunk.jobs))
    } catch (err) {
      chunk.reject(err as Error)
    }
  }

  function retire(slot: Slot): void {
    const i = slots.indexOf(slot)
    if (i >= 0) slots.splice(i, 1)
    slot.worker.removeAllListeners()
    slot.worker.on('error', () => {})
    // A worker that failed cannot be trusted with more; its chunk is checked here.
    const busy = slot.busy
    slot.busy = undefined
    if (busy != null) {
      clearTimeout(busy.timer)
      runHere(busy.chunk)
    }
  }

  function spawn(): Slot | undefined {
    let worker: Worker
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true })
    } catch {
      broken = true
      return undefined
    }
    worker.unref()
    const slot: Slot = { worker }
    const fail = (): void => {
      broken = true
      retire(slot)
      void worker.terminate()
      pump()
    }
    worker.on('message', (reply: ChunkReply) => {
      const busy = slot.busy
      // Only our own worker posts here; anything unexpected ends it (its chunk is checked here).
      if (busy == null || reply.id !== busy.id || !(reply.ok instanceof Uint8Array) || reply.ok.length !== busy.chunk.jobs.length) {
        fail()
        return
      }
      slot.busy = undefined
      clearTimeout(busy.timer)
      worker.unref()
      busy.chunk.resolve(Array.from(reply.ok, ok => ok === 1))
      pump()
    })
    worker.on('error', fail)
    worker.on('exit', fail)
    slots.push(slot)
    return slot
  }

  function pump(): void {
    clearTimeout(idleTimer)
    while (waiting.length > 0) {
      if (broken) {
        runHere(waiting.shift() as Chunk)
        continue
      }
      let slot = slots.find(s => s.busy == null)
      if (slot == null && slots.length < maxThreads) slot = spawn()
      if (slot == null) break
      const chunk = waiting.shift() as Chunk
      const id = nextId++
      const frame = packChunk(id, chunk.jobs)
      const hung = slot
      slot.busy = {
        id,
        chunk,
        timer: setTimeout(() => {
          broken = true
          const failed = hung.worker
          retire(hung)
          void failed.terminate()
          pump()
        }, chunkTimeout).unref()
      }
      // Keeps the process alive while a chunk is out; an idle worker does not.
      slot.worker.ref()
      // Freshly allocated by packChunk, so moved to the worker rather than copied.
      const transfer = [frame.keys, frame.keyIndex, frame.data, frame.ends, frame.signatures].map(a => a.buffer as ArrayBuffer)
      try {
        slot.worker.postMessage(frame, transfer)
      } catch {
        broken = true
        const failed = slot.worker
        retire(slot)
        void failed.terminate()
      }
    }
    if (slots.length > 0 && waiting.length === 0 && slots.every(s => s.busy == null)) {
      idleTimer = setTimeout(() => {
        void close()
      }, idleTimeout)
      idleTimer.unref()
    }
  }

  async function close(): Promise<void> {
    clearTimeout(idleTimer)
    for (const chunk of waiting.splice(0)) chunk.reject(new NotStartedError('signature verification was stopped'))
    const ending = slots.splice(0)
    for (const slot of ending) {
      slot.worker.removeAllListeners()
      slot.worker.on('error', () => {})
      if (slot.busy != null) {
        clearTimeout(slot.busy.timer)
        slot.busy.chunk.reject(new NotStartedError('signature verification was stopped'))
      }
    }
    await Promise.all(ending.map(async s => await s.worker.terminate()))
  }

  return {
    async verify(jobs) {
      // Malformed lengths never verify; the rest is checked in chunks, spread over the workers.
      const results: boolean[] = new Array<boolean>(jobs.length).fill(false)
      const index: number[] = []
      const valid: VerifyJob[] = []
      for (const [i, job] of jobs.entries()) {
        if (job.signature.byteLength !== ED25519_SIGNATURE_BYTES || job.publicKey.byteLength !== ED25519_KEY_BYTES) continue
        index.push(i)
        valid.push(job)
      }
      const parts: Array<Promise<boolean[]>> = []
      for (let at = 0; at < valid.length; at += chunkSize) {
        const jobsOfChunk = valid.slice(at, at + chunkSize)
        parts.push(
          new Promise<boolean[]>((resolve, reject) => {
            waiting.push({ jobs: jobsOfChunk, resolve, reject })
          })
        )
      }
      pump()
      const done = await Promise.all(parts)
      let k = 0
      for (const part of done) for (const ok of part) results[index[k++]] = ok
      return results
    },
    warm() {
      while (!broken && slots.length < maxThreads && spawn() != null);
      pump()
    },
    threads: () => slots.length,
    close
  }
}
