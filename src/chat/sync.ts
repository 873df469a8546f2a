/**
 * History sync, the pure part: what a node holds in a room, what it misses from a peer, and the
 * frames both sides exchange. No I/O here; `history-sync.ts` drives the rounds and
 * `network/sync-protocol.ts` carries the frames.
 *
 * A room summary lists, per author, the ranges of sequence numbers this node holds in the room
 * (`seq` counts an author's messages per room, from 1). An author who posted 10,000 messages that
 * all arrived is one range, so the summary grows with authors and gaps, not with messages. The
 * difference of two summaries is exactly what to fetch; holes inside one author's ranges are the
 * gaps a node knows it has.
 */
import { InvalidMessageError } from '../errors.js'
import { isValidRoom } from '../rules.js'
import { compareMessages, type ChatMessage } from './message.js'
import type { HlcTimestamp } from './clock.js'

/** An inclusive range of sequence numbers. */
export type SeqRange = [from: number, to: number]

/** What one node holds of one room. */
export interface RoomSummary {
  room: string
  /** Author peer ID → sorted, disjoint, non-adjacent ranges. */
  authors: Map<string, SeqRange[]>
}

/** A range of one author's messages to fetch. */
export interface Want {
  author: string
  from: number
  to: number
}

/** The oldest message a full room keeps: older ones would be dropped again at once. */
export type Floor = Pick<ChatMessage, 'ts' | 'lc' | 'id'>

/** Asks a peer for its summary of a room. */
export interface SummaryRequest {
  kind: 'summary'
  room: string
}

/** Asks a peer for ranges of messages (only those ordered after `since`, when given). */
export interface FetchRequest {
  kind: 'fetch'
  room: string
  want: Want[]
  since?: Floor
}

export type SyncRequest = SummaryRequest | FetchRequest

export interface SummaryResponse {
  kind: 'summary'
  summary: RoomSummary
  /** The responder's hybrid clock, so a node that just arrived stamps after the room. */
  clock: HlcTimestamp
  /** The responder's wall clock, to warn about skewed clocks. */
  wall: number
}

export interface MessagesResponse {
  kind: 'messages'
  room: string
  /** Messages as sent by the peer; each still has to pass the shape and signature checks. */
  messages: unknown[]
  /** More matched than fit in this response: ask again. */
  more: boolean
}

/** Upper bounds for one fetch response. */
export interface BatchLimits {
  maxMessages: number
  maxBytes: number
}

/** Ranges in one request, and authors in one summary, accepted from a peer. */
export const MAX_WANTS = 512
export const MAX_SUMMARY_AUTHORS = 4096
export const MAX_RANGES_PER_AUTHOR = 1024

const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/
const MAX_SEQ = Number.MAX_SAFE_INTEGER

/** Summarises the messages of one room. */
export function summarize(room: string, messages: Iterable<Pick<ChatMessage, 'from' | 'seq'>>): RoomSummary {
  const seqs = new Map<string, number[]>()
  for (const m of messages) {
    let list = seqs.get(m.from)
    if (list == null) {
      list = []
      seqs.set(m.from, list)
    }
    list.push(m.seq)
  }
  const authors = new Map<string, SeqRange[]>()
  for (const [author, list] of seqs) authors.set(author, toRanges(list))
  return { room, authors }
}

/** Sorted, merged ranges of a list of sequence numbers. */
export function toRanges(seqs: number[]): SeqRange[] {
  const sorted = [...seqs].sort((a, b) => a - b)
  const ranges: SeqRange[] = []
  for (const s of sorted) {
    const last = ranges[ranges.length - 1]
    if (last != null && s <= last[1] + 1) last[1] = Math.max(last[1], s)
    else ranges.push([s, s])
  }
  return ranges
}

/**
 * The summary with some more (author, seq) pairs counted as held: what a node holds plus what a
 * peer has already sent in this round, so the next fetch asks only for the rest. Pure.
 */
export function withHeld(summary: RoomSummary, held: Iterable<Pick<ChatMessage, 'from' | 'seq'>>): RoomSummary {
  const added = summarize(summary.room, held)
  const authors = new Map(summary.authors)
  for (const [author, ranges] of added.authors) {
    const mine = authors.get(author)
    authors.set(author, mine == null ? ranges : mergeRanges([...mine, ...ranges]))
  }
  return { room: summary.room, authors }
}

/** The parts of `want` not covered by `have` (both sorted and disjoint). */
export function subtractRanges(want: SeqRange[], have: SeqRange[]): SeqRange[] {
  const out: SeqRange[] = []
  let j = 0
  for (const [from, to] of want) {
    let start = from
    while (j < have.length && have[j][1] < start) j++
    let k = j
    while (start <= to) {
      const h = have[k]
      if (h == null || h[0] > to) {
        out.push([start, to])
        break
      }
      if (h[0] > start) out.push([start, h[0] - 1])
      start = Math.max(start, h[1] + 1)
      k++
    }
  }
  return out
}

/** What `mine` lacks of `theirs`, at most `max` ranges, oldest sequence numbers first. */
export function wantsFrom(mine: RoomSummary, theirs: RoomSummary, max = MAX_WANTS): Want[] {
  const wants: Want[] = []
  for (const [author, ranges] of theirs.authors) {
    for (const [from, to] of subtractRanges(ranges, mine.authors.get(author) ?? [])) {
      if (wants.length >= max) return wants
      wants.push({ author, from, to })
    }
  }
  return wants
}

/** How many messages a list of wants covers. */
export function countWanted(wants: Want[]): number {
  return wants.reduce((n, w) => n + (w.to - w.from + 1), 0)
}

/** How many messages a summary covers. */
export function countHeld(summary: RoomSummary): number {
  let n = 0
  for (const ranges of summary.authors.values()) for (const [from, to] of ranges) n += to - from + 1
  return n
}

/** Messages a node knows it misses: holes between an author's ranges (before its newest). */
export function countGaps(summary: RoomSummary): number {
  let gaps = 0
  for (const ranges of summary.authors.values()) {
    for (let i = 1; i < ranges.length; i++) gaps += ranges[i][0] - ranges[i - 1][1] - 1
  }
  return gaps
}

/**
 * Picks the messages a fetch asks for, in room order, within the batch limits. `messages` is the
 * room's history, oldest first; `sizeOf` gives a message's encoded size.
 */
export function selectForFetch(
  messages: readonly ChatMessage[],
  request: Pick<FetchRequest, 'want' | 'since'>,
  limits: BatchLimits,
  sizeOf: (m: ChatMessage) => number
): { messages: ChatMessage[]; more: boolean } {
  const byAuthor = new Map<string, SeqRange[]>()
  for (const w of request.want) {
    const list = byAuthor.get(w.author) ?? []
    list.push([w.from, w.to])
    byAuthor.set(w.author, list)
  }
  const picked: ChatMessage[] = []
  let bytes = 0
  for (const m of messages) {
    const ranges = byAuthor.get(m.from)
    if (ranges == null || !ranges.some(([from, to]) => m.seq >= from && m.seq <= to)) continue
    if (request.since != null && compareMessages(m, request.since) <= 0) continue
    const size = sizeOf(m)
    if (picked.length >= limits.maxMessages || (picked.length > 0 && bytes + size > limits.maxBytes))
      return { messages: picked, more: true }
    picked.push(m)
    bytes += size
  }
  return { messages: picked, more: false }
}

// ---- wire form: plain JSON values, checked on the way in -------------------------------------

function fail(message: string): never {
  throw new InvalidMessageError('bad-sync-frame', message)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= MAX_SEQ
}

function checkRoom(v: unknown): string {
  if (typeof v !== 'string' || !isValidRoom(v)) fail('sync frame has no valid room')
  return v
}

function checkAuthor(v: unknown): string {
  if (typeof v !== 'string' || !PEER_ID_PATTERN.test(v)) fail('sync frame names an author that is not a peer ID')
  return v
}

function checkTimestamp(v: unknown): HlcTimestamp {
  if (!isObject(v) || !Number.isSafeInteger(v.ts) || !Number.isSafeInteger(v.lc) || (v.ts as number) < 0 || (v.lc as number) < 0)
    fail('sync frame has a bad timestamp')
  return { ts: v.ts as number, lc: v.lc as number }
}

function checkFloor(v: unknown): Floor {
  const t = checkTimestamp(v)
  const id = (v as Record<string, unknown>).id
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) fail('sync frame has a bad floor ID')
  return { ...t, id }
}

export function encodeSyncRequest(r: SyncRequest): unknown {
  if (r.kind === 'summary') return { kind: 'summary', room: r.room }
  return {
    kind: 'fetch',
    room: r.room,
    want: r.want.map(w => [w.author, w.from, w.to]),
    ...(r.since != null ? { since: { ts: r.since.ts, lc: r.since.lc, id: r.since.id } } : {})
  }
}

export function decodeSyncRequest(v: unknown): SyncRequest {
  if (!isObject(v)) fail('sync request is not an object')
  const room = checkRoom(v.room)
  if (v.kind === 'summary') return { kind: 'summary', room }
  if (v.kind !== 'fetch') fail('unknown sync request kind')
  if (!Array.isArray(v.want) || v.want.length > MAX_WANTS) fail(`a fetch asks for 0–${MAX_WANTS} ranges`)
  const want = v.want.map((w: unknown): Want => {
    if (!Array.isArray(w) || w.length !== 3 || !isSeq(w[1]) || !isSeq(w[2]) || w[1] > w[2]) fail('a wanted range is malformed')
    return { author: checkAuthor(w[0]), from: w[1], to: w[2] }
  })
  return v.since == null ? { kind: 'fetch', room, want } : { kind: 'fetch', room, want, since: checkFloor(v.since) }
}

export function encodeSummaryResponse(r: SummaryResponse): unknown {
  return { kind: 'summary', room: r.summary.room, authors: [...r.summary.authors], clock: r.clock, wall: r.wall }
}

export function decodeSummaryResponse(v: unknown, room: string): SummaryResponse {
  if (!isObject(v) || v.kind !== 'summary') fail('expected a summary')
  if (checkRoom(v.room) !== room) fail('summary is for another room')
  if (!Array.isArray(v.authors) || v.authors.length > MAX_SUMMARY_AUTHORS) fail('summary lists too many authors')
  const authors = new Map<string, SeqRange[]>()
  for (const entry of v.authors as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || !Array.isArray(entry[1]) || entry[1].length > MAX_RANGES_PER_AUTHOR)
      fail('summary entry is malformed')
    const ranges = (entry[1] as unknown[]).map((r): SeqRange => {
      if (!Array.isArray(r) || r.length !== 2 || !isSeq(r[0]) || !isSeq(r[1]) || r[0] > r[1]) fail('summary range is malformed')
      return [r[0], r[1]]
    })
    // Normalise, so a peer cannot make us ask for overlapping ranges.
    authors.set(checkAuthor(entry[0]), mergeRanges(ranges))
  }
  const wall = v.wall
  if (typeof wall !== 'number' || !Number.isSafeInteger(wall) || wall < 0) fail('summary has a bad wall clock')
  return { kind: 'summary', summary: { room, authors }, clock: checkTimestamp(v.clock), wall }
}

function mergeRanges(ranges: SeqRange[]): SeqRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const out: SeqRange[] = []
  for (const [from, to] of sorted) {
    const last = out[out.length - 1]
    if (last != null && from <= last[1] + 1) last[1] = Math.max(last[1], to)
    else out.push([from, to])
  }
  return out
}

export function encodeMessagesResponse(r: MessagesResponse): unknown {
  return { kind: 'messages', room: r.room, messages: r.messages, more: r.more }
}

export function decodeMessagesResponse(v: unknown, room: string, maxMessages: number): MessagesResponse {
  if (!isObject(v) || v.kind !== 'messages') fail('expected messages')
  if (checkRoom(v.room) !== room) fail('messages are for another room')
  if (!Array.isArray(v.messages) || v.messages.length > maxMessages) fail('too many messages in one response')
  return { kind: 'messages', room, messages: v.messages as unknown[], more: v.more === true }
}
