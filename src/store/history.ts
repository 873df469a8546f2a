/**
 * In-memory history: each room's messages in their total order, deduplicated by ID, bounded by a
 * per-room limit. Generic over anything with an ID, a room and an order.
 */
import { InvalidOptionError } from '../errors.js'

export interface HistoryEntry {
  id: string
  room: string
  from: string
  seq: number
}

export interface HistoryInit<T extends HistoryEntry> {
  /** Total order within a room. */
  compare: (a: T, b: T) => number
  /** Messages kept per room; the oldest go first. */
  limit: number
}

export interface QueryOptions {
  /** Only messages after the one with this ID (exclusive). */
  afterId?: string
  /** At most this many, the newest ones (before `afterId` is applied, the oldest after it). */
  limit?: number
}

export interface History<T extends HistoryEntry> {
  has: (id: string) => boolean
  get: (id: string) => T | undefined
  /** Adds a message; returns its index in the room, or -1 if it was already there. */
  add: (m: T) => number
  /** Messages of a room, oldest first. */
  list: (room: string, options?: QueryOptions) => T[]
  rooms: () => string[]
  size: (room?: string) => number
  /** Highest sequence number seen from an author, in one room or in any (0 if none). */
  lastSeq: (author: string, room?: string) => number
}

export function createHistory<T extends HistoryEntry>(init: HistoryInit<T>): History<T> {
  if (!Number.isInteger(init.limit) || init.limit < 1) throw new InvalidOptionError('history limit must be a positive integer')
  const byId = new Map<string, T>()
  const byRoom = new Map<string, T[]>()
  const seqs = new Map<string, number>()
  const roomSeqs = new Map<string, number>()
  // One string per author for all of its messages: each decoded message brings its own copy of
  // the author's peer ID (72 bytes), and a room holds thousands of messages from a few authors.
  const authors = new Map<string, string>()

  function insertionIndex(list: T[], m: T): number {
    let lo = 0
    let hi = list.length
    // Most messages are the newest: check the end first.
    if (hi === 0 || init.compare(list[hi - 1], m) <= 0) return hi
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (init.compare(list[mid], m) <= 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  return {
    has: id => byId.has(id),
    get: id => byId.get(id),
    add(m) {
      if (byId.has(m.id)) return -1
      let list = byRoom.get(m.room)
      if (list == null) {
        list = []
        byRoom.set(m.room, list)
      }
      const at = insertionIndex(list, m)
      list.splice(at, 0, m)
      byId.set(m.id, m)
      const author = authors.get(m.from)
      if (author === undefined) authors.set(m.from, m.from)
      else m.from = author
      if (m.seq > (seqs.get(m.from) ?? 0)) seqs.set(m.from, m.seq)
      const key = `${m.room}\n${m.from}`
      if (m.seq > (roomSeqs.get(key) ?? 0)) roomSeqs.set(key, m.seq)
      if (list.length > init.limit) {
        const dropped = list.splice(0, list.length - init.limit)
        for (const d of dropped) byId.delete(d.id)
        return at - dropped.length
      }
      return at
    },
    list(room, options = {}) {
      const list = byRoom.get(room) ?? []
      let start = 0
      if (options.afterId != null) {
        const after = byId.get(options.afterId)
        start = after == null ? 0 : insertionIndex(list, after)
        const limit = options.limit ?? list.length
        return list.slice(start, start + limit)
      }
      const limit = options.limit ?? list.length
      return list.slice(Math.max(0, list.length - limit))
    },
    rooms: () => [...byRoom.keys()],
    size: room => (room == null ? byId.size : (byRoom.get(room)?.length ?? 0)),
    lastSeq: (author, room) => (room == null ? seqs.get(author) : roomSeqs.get(`${room}\n${author}`)) ?? 0
  }
}
