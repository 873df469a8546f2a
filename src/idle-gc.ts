/**
 * One full garbage collection when the node goes quiet after its heap grew: what V8's memory
 * reducer is for, with one GC instead of three.
 *
 * Start-up (a Noise handshake, identify and gossipsub set-up per peer) leaves a few MB of garbage
 * in the old generation. V8's memory reducer collects it about 8 s after start with three full
 * GCs in a row, with concurrent marking on the helper threads; the second and third freed less
 * than 0.1 MB (--trace-gc). Measured per thread on ten idle nodes in namespaces (20 s from 5 s
 * after all were connected, bench/idle-threads.ts): 114–124 ms of CPU per node with the reducer,
 * 61–63 ms without it, 48–55 ms with one compacting collection here. So the program runs with
 * `--no-memory-reducer --expose-gc` (its #! line) and this collects once when the heap has grown
 * by `growth` since the last collection and has stopped growing (less than `quiet` between two
 * looks `interval` apart): once after start-up, and again after a burst of traffic, as the
 * reducer would, but with one GC. Without `gc` (node run without --expose-gc, as in the tests)
 * it does nothing and V8's own reducer, if on, does the job.
 *
 * Quiet also means no chat traffic (`activity`, a count of messages sent and received, unchanged
 * between two looks): the collection stops the event loop for 12–21 ms, and a heap that grows by
 * less than `quiet` per look is also what a conversation of a message every 50 ms looks like. Two
 * processes on loopback, 100 messages 50 ms apart: the collection came in the middle of them and
 * one message took 7.6 ms, against 2.1 ms for the median (--trace-gc).
 *
 * The collection must compact (`compactingGc`): the reducer's GCs move objects off fragmented
 * pages and give the pages back, a plain full GC mostly does not. Ten idle nodes: 60.3–60.4 MB
 * per node after a plain one, 58.1 MB after a compacting one, as with the reducer. Compacting on
 * every full GC (V8's --compact-on-every-full-gc) would cost CPU under load, so the flag is set
 * for this one collection only.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { InvalidOptionError } from './errors.js'

/**
 * How often the heap is looked at: a cheap call, so often enough that start-up garbage goes a few
 * seconds after start-up ends (the timer does not keep the process alive).
 */
export const DEFAULT_IDLE_GC_INTERVAL = 2_000
/** Growth since the last collection that is worth one. */
export const DEFAULT_IDLE_GC_GROWTH = 2 * 1024 * 1024
/** Growth between two looks below which the heap counts as quiet. */
export const DEFAULT_IDLE_GC_QUIET = 256 * 1024

/**
 * `gc` made to compact: V8 reads --compact-on-every-full-gc when a full GC starts, so it is set
 * around this one call (v8.setFlagsFromString, which Node allows at run time). Undefined stays
 * undefined.
 */
export function compactingGc(gc: (() => void) | undefined): (() => void) | undefined {
  if (gc == null) return undefined
  return () => {
    setFlagsFromString('--compact-on-every-full-gc')
    try {
      gc()
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc')
    }
  }
}

export interface IdleGcInit {
  /** A full collection (globalThis.gc under --expose-gc); none: do nothing. */
  gc?: () => void
  /** Bytes in use on the JavaScript heap. */
  heapUsed?: () => number
  /** A count that grows with the node's work (messages sent and received); none: heap growth only. */
  activity?: () => number
  interval?: number
  growth?: number
  quiet?: number
}

export class IdleGc {
  private readonly gc?: () => void
  private readonly heapUsed: () => number
  private readonly activity: () => number
  private readonly interval: number
  private readonly growth: number
  private readonly quiet: number
  /** Heap in use right after the last collection here (0 before the first). */
  private base = 0
  /** Heap in use at the previous look (or at start). */
  private previous = 0
  /** The activity count at the previous look. */
  private previousActivity = 0
  private timer?: ReturnType<typeof setInterval>
  private collections = 0

  constructor(init: IdleGcInit = {}) {
    this.gc = init.gc
    this.heapUsed = init.heapUsed ?? (() => getHeapStatistics().used_heap_size)
    this.activity = init.activity ?? (() => 0)
    this.interval = init.interval ?? DEFAULT_IDLE_GC_INTERVAL
    this.growth = init.growth ?? DEFAULT_IDLE_GC_GROWTH
    this.quiet = init.quiet ?? DEFAULT_IDLE_GC_QUIET
    if (!(this.interval > 0) || !(this.growth > 0) || !(this.quiet >= 0))
      throw new InvalidOptionError('idle GC interval and growth must be positive, quiet not negative')
  }

  start(): void {
    if (this.gc == null || this.timer != null) return
    this.previous = this.heapUsed()
    this.previousActivity = this.activity()
    this.timer = setInterval(() => {
      this.look()
    }, this.interval)
    this.timer.unref?.()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Collections run so far. */
  get count(): number {
    return this.collections
  }

  /** One look at the heap; collects if it grew enough and went quiet. */
  look(): void {
    if (this.gc == null) return
    const used = this.heapUsed()
    const activity = this.activity()
    const quiet = used - this.previous < this.quiet && activity === this.previousActivity
    this.previous = used
    this.previousActivity = activity
    if (!quiet || used - this.base < this.growth) return
    this.gc()
    this.collections++
    this.base = this.heapUsed()
    this.previous = this.base
  }
}
