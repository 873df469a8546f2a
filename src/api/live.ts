/**
 * The live stream's memory: listens to the chat service's events only, numbers them
 * (monotonically, per server run) and keeps the most recent ones in a bounded ring, so a client
 * that dropped can resume from its last event ID without gaps or repeats. A client too far behind,
 * or holding an ID from an earlier run, is told to refetch instead.
 *
 * Subscribing and replaying happen in one synchronous step, so no event can slip between them.
 */
import type { ChatEvents } from '../chat/index.js'
import type { TypedEvents } from '../events.js'
import { InvalidOptionError } from '../errors.js'
import { formatCursor, newEpoch, parseCursor } from './sse.js'

/** Events kept for resuming. */
export const DEFAULT_LIVE_CAPACITY = 1000

/** Chat events forwarded to the stream, under the stream's event names. */
export const LIVE_EVENTS = {
  'message:new': 'message',
  'room:join': 'room:join',
  'room:leave': 'room:leave',
  'peer:connect': 'peer:connect',
  'peer:disconnect': 'peer:disconnect',
  'peer:nick': 'peer:nick',
  'peer:banned': 'peer:banned',
  'rooms:change': 'rooms:change',
  'nick:change': 'nick:change'
} as const satisfies Partial<Record<keyof ChatEvents, string>>

export type LiveEventName = (typeof LIVE_EVENTS)[keyof typeof LIVE_EVENTS]

export interface LiveEvent {
  /** `<epoch>-<seq>`, sent as the SSE `id:`. */
  id: string
  seq: number
  event: LiveEventName
  data: unknown
}

/** Why a subscriber starts fresh rather than resuming. */
export type FreshReason = 'new' | 'too-far-behind' | 'unknown-cursor'

export type Resume = { resumed: true; events: LiveEvent[] } | { resumed: false; reason: FreshReason; cursor: string }

export interface LiveStreamInit {
  /** Events kept for resuming (default 1000). */
  capacity?: number
  /** Names this run of the stream (default: from the clock). */
  epoch?: string
}

export interface LiveStreamComponents {
  chat: Pick<TypedEvents<ChatEvents>, 'on'>
}

export type LiveListener = (event: LiveEvent) => void

export interface Subscription {
  resume: Resume
  unsubscribe: () => void
}

export class LiveStream {
  readonly epoch: string
  private readonly capacity: number
  private readonly chat: LiveStreamComponents['chat']
  private readonly ring: LiveEvent[] = []
  private readonly listeners = new Set<LiveListener>()
  private readonly offs: Array<() => void> = []
  private seq = 0

  constructor(components: LiveStreamComponents, init: LiveStreamInit = {}) {
    const capacity = init.capacity ?? DEFAULT_LIVE_CAPACITY
    if (!Number.isInteger(capacity) || capacity < 1) throw new InvalidOptionError('live stream capacity must be a positive integer')
    this.capacity = capacity
    this.epoch = init.epoch ?? newEpoch()
    this.chat = components.chat
  }

  /** The ID of the newest event (`<epoch>-0` before the first). */
  get cursor(): string {
    return formatCursor({ epoch: this.epoch, seq: this.seq })
  }

  start(): void {
    if (this.offs.length > 0) return
    for (const [type, name] of Object.entries(LIVE_EVENTS) as Array<[keyof typeof LIVE_EVENTS, LiveEventName]>) {
      this.offs.push(
        this.chat.on(type, e => {
          this.publish(name, e.detail)
        })
      )
    }
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off()
    this.listeners.clear()
  }

  /** Numbers an event, keeps it and hands it to every subscriber. */
  publish(event: LiveEventName, data: unknown): LiveEvent {
    this.seq++
    const e: LiveEvent = { id: formatCursor({ epoch: this.epoch, seq: this.seq }), seq: this.seq, event, data }
    this.ring.push(e)
    if (this.ring.length > this.capacity) this.ring.shift()
    for (const l of [...this.listeners]) {
      try {
        l(e)
      } catch {
        // One broken subscriber must not stop the others.
      }
    }
    return e
  }

  /** What a client resuming from `lastEventId` gets: the events after it, or a reason to refetch. */
  resumeFrom(lastEventId: string | undefined): Resume {
    if (lastEventId == null || lastEventId === '') return { resumed: false, reason: 'new', cursor: this.cursor }
    const c = parseCursor(lastEventId)
    if (c == null || c.epoch !== this.epoch || c.seq > this.seq) return { resumed: false, reason: 'unknown-cursor', cursor: this.cursor }
    const oldest = this.ring.length > 0 ? this.ring[0].seq : this.seq + 1
    if (c.seq < oldest - 1) return { resumed: false, reason: 'too-far-behind', cursor: this.cursor }
    return { resumed: true, events: this.ring.filter(e => e.seq > c.seq) }
  }

  /** Resumes and subscribes in one synchronous step. */
  subscribe(lastEventId: string | undefined, listener: LiveListener): Subscription {
    const resume = this.resumeFrom(lastEventId)
    this.listeners.add(listener)
    return {
      resume,
      unsubscribe: () => {
        this.listeners.delete(listener)
      }
    }
  }

  get subscribers(): number {
    return this.listeners.size
  }
}
