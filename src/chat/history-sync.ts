/**
 * History sync, the moving part: when a peer that shares a room connects (and on join, after a
 * reconnect, when a live message reveals a gap, and periodically), ask it for its summary of the
 * room and fetch what this node misses in bounded batches. Every fetched message goes through the
 * chat service's `ingest` (shape, signature, dedupe, chat.log, event with origin 'sync'). It also
 * answers peers' requests from history, including messages this node only relayed.
 *
 * One round per (room, peer) at a time; a trigger during a round queues one more. A room is
 * "catching up" while a round fetches messages a peer offered, "in sync" otherwise; `missing` counts the
 * messages this node knows exist and does not hold (holes in an author's sequence numbers, and
 * what a connected peer's last summary offered but could not be fetched).
 */
import { InvalidMessageError, SyncError } from '../errors.js'
import { TypedEvents } from '../events.js'
import type { History } from '../store/index.js'
import type { HybridClock } from './clock.js'
import { checkShape, compareMessages, encodeMessage, toRecord, type ChatMessage } from './message.js'
import {
  countGaps,
  countWanted,
  decodeMessagesResponse,
  decodeSummaryResponse,
  decodeSyncRequest,
  encodeMessagesResponse,
  encodeSummaryResponse,
  encodeSyncRequest,
  selectForFetch,
  summarize,
  wantsFrom,
  type BatchLimits,
  type Floor,
  type RoomSummary
} from './sync.js'

/** Periodic sync with every peer of every room. */
export const DEFAULT_SYNC_INTERVAL = 30_000
/** Wait after a trigger, so a burst of triggers makes one round. */
export const DEFAULT_SYNC_DEBOUNCE = 100
/** Messages and bytes in one fetch response. */
export const DEFAULT_SYNC_BATCH: BatchLimits = { maxMessages: 256, maxBytes: 512 * 1024 }
/** Messages accepted in one response from a peer with other limits. */
export const MAX_ACCEPTED_BATCH = 1024
/** Fetches in one round before it yields to other work. */
export const DEFAULT_MAX_FETCHES_PER_ROUND = 1_000
/** A peer's clock this far from ours is reported once. */
export const DEFAULT_SKEW_WARNING = 60_000

export type SyncState = 'in sync' | 'catching up'

export interface RoomSyncStatus {
  state: SyncState
  missing: number
}

export interface HistorySyncEvents extends Record<string, unknown> {
  /** A room's sync state or missing count changed. */
  'sync:change': { room: string } & RoomSyncStatus
  /** A round with a peer ended. */
  'sync:done': { room: string; peerId: string; fetched: number; rejected: number; error?: string }
  /** A message fetched from a peer failed its checks. */
  'sync:rejected': { room: string; peerId: string; reason: string }
  /** A peer's wall clock differs from ours by more than the warning threshold. */
  'clock:skew': { peerId: string; offsetMs: number }
}

export interface HistorySyncComponents {
  history: History<ChatMessage>
  clock: HybridClock
  /** Verifies and stores a message; true if it was new. Throws InvalidMessageError. */
  ingest: (value: unknown) => Promise<boolean>
  /** Rooms this node is in. */
  rooms: () => string[]
  /** Connected peers in a room. */
  roomPeers: (room: string) => string[]
  /** Sends a request body to a peer and returns its response body. */
  request: (peerId: string, body: unknown, options: { signal: AbortSignal }) => Promise<unknown>
}

export interface HistorySyncInit {
  /** Periodic sync interval in ms; 0 turns it off. */
  interval?: number
  debounce?: number
  batch?: Partial<BatchLimits>
  /** Messages kept per room (the history limit): a full room does not fetch older messages. */
  roomLimit?: number
  maxFetchesPerRound?: number
  skewWarning?: number
}

interface Round {
  running: boolean
  /** The peer offered messages this node lacks and they are being fetched. */
  fetching: boolean
  again: boolean
  timer?: ReturnType<typeof setTimeout>
}

export class HistorySync extends TypedEvents<HistorySyncEvents> {
  private readonly c: HistorySyncComponents
  private readonly interval: number
  private readonly debounce: number
  private readonly batch: BatchLimits
  private readonly roomLimit: number
  private readonly maxFetches: number
  private readonly skewWarning: number
  private readonly rounds = new Map<string, Round>()
  /** What each peer's latest summary offered that we could not get: room → peer → count. */
  private readonly unmet = new Map<string, Map<string, number>>()
  private readonly last = new Map<string, string>()
  private readonly warned = new Set<string>()
  private abort = new AbortController()
  private ticker?: ReturnType<typeof setInterval>
  private started = false

  constructor(components: HistorySyncComponents, init: HistorySyncInit = {}) {
    super()
    this.c = components
    this.interval = init.interval ?? DEFAULT_SYNC_INTERVAL
    this.debounce = init.debounce ?? DEFAULT_SYNC_DEBOUNCE
    this.batch = { ...DEFAULT_SYNC_BATCH, ...init.batch }
    this.roomLimit = init.roomLimit ?? Number.POSITIVE_INFINITY
    this.maxFetches = init.maxFetchesPerRound ?? DEFAULT_MAX_FETCHES_PER_ROUND
    this.skewWarning = init.skewWarning ?? DEFAULT_SKEW_WARNING
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.abort = new AbortController()
    if (this.interval > 0) {
      this.ticker = setInterval(() => {
        for (const room of this.c.rooms()) this.syncRoom(room)
      }, this.interval)
      this.ticker.unref?.()
    }
  }

  stop(): void {
    if (!this.started) return
    this.started = false
    clearInterval(this.ticker)
    this.abort.abort(new SyncError('sync stopped'))
    for (const r of this.rounds.values()) clearTimeout(r.timer)
    this.rounds.clear()
  }

  /** Schedules a round with every connected peer of a room. */
  syncRoom(room: string): void {
    for (const peerId of this.c.roomPeers(room)) this.syncWith(room, peerId)
  }

  /** Schedules a round with one peer (once more after the current one, if one is running). */
  syncWith(room: string, peerId: string): void {
    if (!this.started) return
    const key = `${room}\n${peerId}`
    const round = this.rounds.get(key)
    if (round != null) {
      round.again = true
      return
    }
    const r: Round = { running: false, fetching: false, again: false }
    this.rounds.set(key, r)
    r.timer = setTimeout(() => {
      void this.run(key, room, peerId, r)
    }, this.debounce)
  }

  /** A peer left a room or disconnected: forget what it offered. */
  forget(room: string, peerId: string): void {
    this.unmet.get(room)?.delete(peerId)
    this.changed(room)
  }

  status(room: string): RoomSyncStatus {
    const busy = [...this.rounds].some(([k, r]) => r.fetching && k.startsWith(`${room}\n`))
    const gaps = countGaps(this.summary(room))
    const offered = Math.max(0, ...(this.unmet.get(room)?.values() ?? []))
    return { state: busy ? 'catching up' : 'in sync', missing: Math.max(gaps, offered) }
  }

  /** Answers a peer's request body from history. Throws InvalidMessageError or SyncError. */
  answer(body: unknown): unknown {
    const req = decodeSyncRequest(body)
    if (!this.c.rooms().includes(req.room)) throw new SyncError(`not in #${req.room}`)
    const messages = this.c.history.list(req.room)
    if (req.kind === 'summary') {
      const wall = this.c.clock.wall()
      const hlc = this.c.clock.peek()
      return encodeSummaryResponse({
        kind: 'summary',
        summary: summarize(req.room, messages),
        clock: hlc.ts >= wall ? hlc : { ts: wall, lc: 0 },
        wall
      })
    }
    const picked = selectForFetch(messages, req, this.batch, m => encodeMessage(m).byteLength)
    return encodeMessagesResponse({ kind: 'messages', room: req.room, messages: picked.messages.map(toRecord), more: picked.more })
  }

  private summary(room: string): RoomSummary {
    return summarize(room, this.c.history.list(room))
  }

  /** The oldest message a full room keeps; older ones are not worth fetching. */
  private floor(room: string): Floor | undefined {
    if (this.c.history.size(room) < this.roomLimit) return undefined
    return this.c.history.list(room, { limit: this.roomLimit })[0]
  }

  private changed(room: string): void {
    const s = this.status(room)
    const key = `${s.state}/${s.missing}`
    if (this.last.get(room) === key) return
    this.last.set(room, key)
    this.emit('sync:change', { room, ...s })
  }

  private async run(key: string, room: string, peerId: string, r: Round): Promise<void> {
    r.running = true
    const signal = this.abort.signal
    let done: HistorySyncEvents['sync:done'] = { room, peerId, fetched: 0, rejected: 0 }
    try {
      done = { ...done, ...(await this.round(room, peerId, signal, r)) }
    } catch (err) {
      done.error = (err as Error).message
    }
    r.fetching = false
    if (signal.aborted || this.rounds.get(key) !== r) return
    r.running = false
    this.emit('sync:done', done)
    if (r.again && this.c.rooms().includes(room) && this.c.roomPeers(room).includes(peerId)) {
      r.again = false
      r.timer = setTimeout(() => {
        void this.run(key, room, peerId, r)
      }, this.debounce)
      this.changed(room)
      return
    }
    this.rounds.delete(key)
    this.changed(room)
  }

  /** One round: their summary, then fetches until nothing new arrives. */
  private async round(room: string, peerId: string, signal: AbortSignal, r: Round): Promise<{ fetched: number; rejected: number }> {
    const counts = { fetched: 0, rejected: 0 }
    const reply = decodeSummaryResponse(await this.c.request(peerId, encodeSyncRequest({ kind: 'summary', room }), { signal }), room)
    const offset = reply.wall - this.c.clock.wall()
    if (Math.abs(offset) > this.skewWarning && !this.warned.has(peerId)) {
      this.warned.add(peerId)
      this.emit('clock:skew', { peerId, offsetMs: offset })
    }
    // A node that just arrived (or whose clock is behind) stamps its next message after the room.
    this.c.clock.observe(reply.clock)
    const theirs = reply.summary
    for (let i = 0; i < this.maxFetches && !signal.aborted; i++) {
      const wants = wantsFrom(this.summary(room), theirs)
      this.setUnmet(room, peerId, countWanted(wants))
      if (wants.length === 0) break
      if (!r.fetching) {
        r.fetching = true
        this.changed(room)
      }
      const since = this.floor(room)
      const body = await this.c.request(peerId, encodeSyncRequest({ kind: 'fetch', room, want: wants, since }), { signal })
      const batch = decodeMessagesResponse(body, room, MAX_ACCEPTED_BATCH)
      if (batch.messages.length === 0 && !batch.more) {
        // The peer holds nothing of it that this node would keep (older than a full room's floor).
        this.setUnmet(room, peerId, 0)
        return counts
      }
      let stored = 0
      for (const value of batch.messages) {
        if (signal.aborted) break
        const outcome = await this.take(room, peerId, value, since)
        if (outcome === 'stored') {
          stored++
          counts.fetched++
        }
        if (outcome === 'rejected') counts.rejected++
      }
      this.changed(room)
      // Nothing new: the peer offers what it cannot (or will not) give; try again next round.
      if (stored === 0) break
    }
    if (!signal.aborted) this.setUnmet(room, peerId, countWanted(wantsFrom(this.summary(room), theirs)))
    return counts
  }

  private async take(room: string, peerId: string, value: unknown, since?: Floor): Promise<'stored' | 'known' | 'rejected'> {
    try {
      const m = checkShape(value)
      if (m.room !== room) throw new InvalidMessageError('room-mismatch', `message for #${m.room} in a sync of #${room}`)
      if (this.c.history.has(m.id)) return 'known'
      if (since != null && compareMessages(m, since) <= 0) return 'known'
      return (await this.c.ingest(m)) ? 'stored' : 'known'
    } catch (err) {
      if (!(err instanceof InvalidMessageError)) throw err
      this.emit('sync:rejected', { room, peerId, reason: err.reason })
      return 'rejected'
    }
  }

  private setUnmet(room: string, peerId: string, n: number): void {
    let m = this.unmet.get(room)
    if (m == null) {
      m = new Map()
      this.unmet.set(room, m)
    }
    m.set(peerId, n)
  }
}
