/**
 * History sync, the moving part: when a peer that shares a room connects (and on join, after a
 * reconnect, when a live message reveals a gap, and periodically), ask it for its summary of the
 * room and fetch what this node misses in bounded batches. Every fetched message goes through the
 * chat service's checks (shape, room, signature, dedupe) and its one path in (history, chat.log,
 * event with origin 'sync'). It also
 * answers peers' requests from history, including messages this node only relayed.
 *
 * A round keeps the next fetch in flight while it checks the batch it has: the signatures of a batch
 * are verified off the main thread (`verify`, worker threads: verify-pool.ts) and the peer prepares the next
 * batch meanwhile, so a long history costs about its verification time, not that plus a round trip
 * per batch. The next fetch asks only for what the current batch does not claim to hold; what a
 * batch claims but fails to deliver is asked for again by the next round.
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
  countHeld,
  countWanted,
  withHeld,
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
  type MessagesResponse,
  type RoomSummary
} from './sync.js'

/** Periodic sync: every this often, a round with a few of each room's peers (the next ones in turn). */
export const DEFAULT_SYNC_INTERVAL = 30_000
/**
 * Peers per room in a periodic round. Periodic sync is the safety net (a connect, a join and a gap
 * in an author's seq start rounds at once), and what one peer missed, most others hold: asking
 * every peer every interval made a 30-node LAN open a sync stream per node per second while idle.
 */
export const DEFAULT_SYNC_PEERS_PER_TICK = 2
/**
 * Wait after a trigger, so a burst of triggers makes one round (a trigger during a round only
 * queues one more anyway). Short: a new node waits this long before it asks for the room.
 */
export const DEFAULT_SYNC_DEBOUNCE = 20
/**
 * Messages and bytes in one fetch response. Large batches: each fetch is a stream and a scan of
 * the room on the serving side (a 10,000-message sync in batches of 256 cost the server
 * about 1.7 times the CPU of batches of 1,024); MAX_ACCEPTED_BATCH is what every version accepts.
 */
export const DEFAULT_SYNC_BATCH: BatchLimits = { maxMessages: 1024, maxBytes: 512 * 1024 }
/** Messages accepted in one response from a peer with other limits. */
export const MAX_ACCEPTED_BATCH = 1024
/** Fetches in one round before it yields to other work. */
export const DEFAULT_MAX_FETCHES_PER_ROUND = 1_000
/** Messages of a batch verified together: the batch is stored part by part as the parts are verified. */
export const VERIFY_PART = 64
/** A round that wants this many messages gets verification ready (worker threads) before they arrive. */
export const DEFAULT_VERIFY_AHEAD = 1024
/**
 * Batches fetched and not yet stored, at most: the next ones are fetched and checked while one is
 * verified, so verification never waits for a round trip (memory: this many response frames).
 */
export const MAX_BATCHES_AHEAD = 3
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
  /** Checks messages' signatures (off the main thread): per message, undefined or the InvalidMessageError. */
  verify: (messages: ChatMessage[]) => Promise<Array<InvalidMessageError | undefined>>
  /** Called before fetching many messages, so verification can get ready meanwhile. */
  prepareVerify?: () => void
  /** Stores a checked and verified message like any other; true if it was new. */
  store: (m: ChatMessage) => boolean | Promise<boolean>
  /** The messages of an answer that may be handed out (signatures checked); all of them if not given. */
  servable?: (messages: ChatMessage[]) => Promise<ChatMessage[]>
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
  /** Peers of each room asked in a periodic round, in turn. */
  peersPerTick?: number
  debounce?: number
  batch?: Partial<BatchLimits>
  /** Messages kept per room (the history limit): a full room does not fetch older messages. */
  roomLimit?: number
  maxFetchesPerRound?: number
  skewWarning?: number
  /** Messages wanted in a round from which `prepareVerify` is called (smaller catch-ups are checked inline). */
  verifyAhead?: number
}

/** Messages of a batch whose signatures are being verified. */
interface VerifyingPart {
  messages: ChatMessage[]
  verdicts: Promise<Array<InvalidMessageError | undefined>>
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
  private readonly peersPerTick: number
  /** Where each room's periodic rounds go on in its list of peers. */
  private readonly turn = new Map<string, number>()
  private readonly debounce: number
  private readonly batch: BatchLimits
  private readonly roomLimit: number
  private readonly maxFetches: number
  private readonly skewWarning: number
  private readonly verifyAhead: number
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
    this.peersPerTick = Math.max(1, init.peersPerTick ?? DEFAULT_SYNC_PEERS_PER_TICK)
    this.debounce = init.debounce ?? DEFAULT_SYNC_DEBOUNCE
    this.batch = { ...DEFAULT_SYNC_BATCH, ...init.batch }
    this.roomLimit = init.roomLimit ?? Number.POSITIVE_INFINITY
    this.maxFetches = init.maxFetchesPerRound ?? DEFAULT_MAX_FETCHES_PER_ROUND
    this.skewWarning = init.skewWarning ?? DEFAULT_SKEW_WARNING
    this.verifyAhead = init.verifyAhead ?? DEFAULT_VERIFY_AHEAD
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.abort = new AbortController()
    if (this.interval > 0) {
      this.ticker = setInterval(() => {
        for (const room of this.c.rooms()) this.syncSome(room)
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

  /** A periodic round: the next `peersPerTick` peers of a room, in turn. */
  private syncSome(room: string): void {
    const peers = this.c.roomPeers(room).sort()
    if (peers.length === 0) return
    const start = (this.turn.get(room) ?? 0) % peers.length
    const count = Math.min(this.peersPerTick, peers.length)
    for (let i = 0; i < count; i++) this.syncWith(room, peers[(start + i) % peers.length])
    this.turn.set(room, start + count)
  }

  /**
   * A live message showed that this node missed some of an author's messages: ask the author if
   * it is a peer (it holds all of them), otherwise the next peers in turn. Asking every peer made
   * each gap cost a round with each of them, and on a 30-node LAN still connecting (every node
   * missing the first messages of nodes it had not reached yet) those rounds kept the CPU too busy
   * for the LAN to finish connecting (bench/, N=30).
   */
  syncGap(room: string, author: string): void {
    if (this.c.roomPeers(room).includes(author)) this.syncWith(room, author)
    else this.syncSome(room)
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
  async answer(body: unknown): Promise<unknown> {
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
    const served = (await this.c.servable?.(picked.messages)) ?? picked.messages
    return encodeMessagesResponse({ kind: 'messages', room: req.room, messages: served.map(toRecord), more: picked.more })
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
    // Ends a fetch still in flight when the round ends early.
    const ending = new AbortController()
    const fetchSignal = AbortSignal.any([signal, ending.signal])
    // Batches are stored one after the other, in the order they came, each once it is verified.
    let storing: Promise<void> = Promise.resolve()
    const unstored: Array<Promise<void>> = []
    let stalled = false
    try {
      // What this node holds plus what the peer has sent in this round: the next fetch asks for the rest.
      let asked = this.summary(room)
      let next = this.fetch(room, peerId, r, asked, theirs, fetchSignal)
      for (let i = 1; next != null && !signal.aborted && !stalled; i++) {
        const { batch, since } = await next
        if (batch.messages.length === 0 && !batch.more) {
          // The peer holds nothing of it that this node would keep (older than a full room's floor).
          await storing
          this.setUnmet(room, peerId, 0)
          return counts
        }
        const before = countHeld(asked)
        asked = withHeld(asked, claimed(batch.messages))
        const checked = this.checkBatch(room, peerId, batch.messages, since)
        counts.rejected += checked.rejected
        const stored = storing.then(async () => {
          const taken = await this.storeBatch(room, peerId, checked.parts, signal)
          counts.fetched += taken.stored
          counts.rejected += taken.rejected
          this.changed(room)
          // Nothing new: the peer offers what it cannot (or will not) give; try again next round.
          if (taken.stored === 0) stalled = true
        })
        // Awaited below; marked handled so a round that fails first leaves no stray rejection.
        stored.catch(() => {})
        storing = stored
        unstored.push(stored)
        // Bounded memory: at most MAX_BATCHES_AHEAD batches fetched and not yet stored.
        while (unstored.length >= MAX_BATCHES_AHEAD) await unstored.shift()
        // Ask for more only while batches claim something new (a peer that repeats itself gets no more fetches).
        next =
          !stalled && i < this.maxFetches && countHeld(asked) > before ? this.fetch(room, peerId, r, asked, theirs, fetchSignal) : undefined
      }
    } finally {
      ending.abort(new SyncError('round ended'))
      // Nothing of the round goes on after it: batches already fetched are verified and stored first.
      await storing.catch(() => {})
    }
    await storing
    if (!signal.aborted) this.setUnmet(room, peerId, countWanted(wantsFrom(this.summary(room), theirs)))
    return counts
  }

  /** Asks the peer for what `asked` lacks of `theirs`; undefined if nothing. */
  private fetch(
    room: string,
    peerId: string,
    r: Round,
    asked: RoomSummary,
    theirs: RoomSummary,
    signal: AbortSignal
  ): Promise<{ batch: MessagesResponse; since?: Floor }> | undefined {
    const wants = wantsFrom(asked, theirs)
    this.setUnmet(room, peerId, countWanted(wants))
    if (wants.length === 0) return undefined
    if (!r.fetching) {
      r.fetching = true
      this.changed(room)
      if (countWanted(wants) >= this.verifyAhead) this.c.prepareVerify?.()
    }
    const since = this.floor(room)
    const pending = this.c
      .request(peerId, encodeSyncRequest({ kind: 'fetch', room, want: wants, since }), { signal })
      .then(body => ({ batch: decodeMessagesResponse(body, room, MAX_ACCEPTED_BATCH), since }))
    // Awaited by the round, unless the round ends first: then its failure (aborted) is of no interest.
    pending.catch(() => {})
    return pending
  }

  /**
   * Checks a batch's shapes, rooms and duplicates at once and queues the signatures of what is left
   * for verification off the main thread, in parts (the workers share them out).
   */
  private checkBatch(
    room: string,
    peerId: string,
    values: unknown[],
    since: Floor | undefined
  ): { parts: VerifyingPart[]; rejected: number } {
    let rejected = 0
    const fresh: ChatMessage[] = []
    const ids = new Set<string>()
    for (const value of values) {
      try {
        const m = checkShape(value)
        if (m.room !== room) throw new InvalidMessageError('room-mismatch', `message for #${m.room} in a sync of #${room}`)
        if (this.c.history.has(m.id) || ids.has(m.id)) continue
        if (since != null && compareMessages(m, since) <= 0) continue
        ids.add(m.id)
        fresh.push(m)
      } catch (err) {
        this.reject(room, peerId, err)
        rejected++
      }
    }
    const parts: VerifyingPart[] = []
    for (let at = 0; at < fresh.length; at += VERIFY_PART) {
      const messages = fresh.slice(at, at + VERIFY_PART)
      const verdicts = this.c.verify(messages)
      // Awaited by storeBatch, unless the round ends first.
      verdicts.catch(() => {})
      parts.push({ messages, verdicts })
    }
    return { parts, rejected }
  }

  /** Stores the genuine messages of a checked batch, in order, each part as soon as it is verified. */
  private async storeBatch(
    room: string,
    peerId: string,
    parts: VerifyingPart[],
    signal: AbortSignal
  ): Promise<{ stored: number; rejected: number }> {
    const out = { stored: 0, rejected: 0 }
    for (const part of parts) {
      const verdicts = await part.verdicts
      if (signal.aborted) break
      for (const [k, m] of part.messages.entries()) {
        const err = verdicts[k]
        if (err != null) {
          this.reject(room, peerId, err)
          out.rejected++
        } else if (await this.c.store(m)) out.stored++
      }
    }
    return out
  }

  /** Reports a message that failed its checks; anything else is a bug and is rethrown. */
  private reject(room: string, peerId: string, err: unknown): void {
    if (!(err instanceof InvalidMessageError)) throw err
    this.emit('sync:rejected', { room, peerId, reason: err.reason })
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

/** The (author, seq) pairs a batch claims to hold, as far as they look like it (a hint, not checked). */
function claimed(values: unknown[]): Array<{ from: string; seq: number }> {
  const out: Array<{ from: string; seq: number }> = []
  for (const v of values) {
    if (typeof v !== 'object' || v === null) continue
    const { from, seq } = v as Record<string, unknown>
    if (typeof from === 'string' && typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1) out.push({ from, seq })
  }
  return out
}
