/**
 * The mDNS packets of LAN discovery, built and read without I/O (pure), in the wire format of
 * @libp2p/mdns: a query asks for the PTR records of the service tag; an answer is a PTR record
 * `<tag> → <instance>.<tag>` plus one TXT record `dnsaddr=<multiaddr with /p2p/>` per address,
 * all named after the instance.
 *
 * What @libp2p/mdns leaves out, and RFC 6762 asks of a well-behaved node, so that a LAN where
 * everyone is connected stops answering the same question over and over:
 * - known-answer suppression (§7.1): a query lists, as answers, the PTR records the querier
 *   already has with at least half their TTL left; a responder listed there stays silent.
 *
 * Input packets are decoded by dns-packet but come from anyone on the LAN: every reader here
 * accepts any shape and returns "nothing" for what it does not understand.
 */
import type { Answer, Packet, Question } from 'dns-packet'

/** TTL of our records, in seconds (as @libp2p/mdns). */
export const DEFAULT_RECORD_TTL = 120
/** Largest query: one datagram (RFC 6762 §17 allows 9000 bytes on a LAN). */
export const DEFAULT_MAX_QUERY_BYTES = 8_192
/** A TXT string holds at most 255 bytes (RFC 6763 §6.1). */
const MAX_TXT_BYTES = 255
const DNSADDR = 'dnsaddr='
/** DNS header; question type + class; record type + class + TTL + data length. */
const HEADER_BYTES = 12
const QUESTION_FIXED_BYTES = 4
const RECORD_FIXED_BYTES = 10

export type OutgoingQuery = Packet & { questions: Question[]; answers: Answer[] }
export type OutgoingResponse = Packet & { answers: Answer[] }

/** A peer's PTR record as this node holds it. */
export interface HeldRecord {
  /** `<instance>.<tag>`: the PTR record's data. */
  instance: string
  /** The TTL it came with, in seconds. */
  ttl: number
  /** When it expires, in ms (same clock as `now`). */
  expiresAt: number
}

/** A PTR record listed in a query's known-answer section. */
export interface KnownAnswer {
  instance: string
  /** Remaining TTL, in seconds. */
  ttl: number
}

/** What a query asks, as far as LAN discovery is concerned. */
export interface QueryInfo {
  /** Known answers, by lower-cased instance name → remaining TTL in seconds. */
  known: Map<string, number>
}

/** A peer found in a response. */
export interface FoundPeer {
  instance: string
  /** Seconds; 0 is a goodbye (RFC 6762 §10.1). */
  ttl: number
  peerId: string
  /** Addresses without the trailing `/p2p/<peerId>`. */
  addrs: string[]
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

/** Wire length of an uncompressed name (dns-packet does not compress): a length byte per label, plus the root. */
export function nameBytes(name: string): number {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name
  return trimmed.length === 0 ? 1 : Buffer.byteLength(trimmed) + 2
}

/**
 * The known-answer list of a query: the records held with at least half their TTL left (RFC 6762
 * §7.1: one with less would not stop the answer anyway), freshest first.
 */
export function knownAnswers(held: Iterable<HeldRecord>, now: number): KnownAnswer[] {
  const list: KnownAnswer[] = []
  for (const r of held) {
    const ttl = Math.floor((r.expiresAt - now) / 1000)
    if (ttl > 0 && ttl * 2 >= r.ttl) list.push({ instance: r.instance, ttl })
  }
  return list.sort((a, b) => b.ttl - a.ttl)
}

/** A query for the service tag, listing as many known answers as fit in `maxBytes`. */
export function buildQuery(serviceTag: string, known: KnownAnswer[], maxBytes = DEFAULT_MAX_QUERY_BYTES): OutgoingQuery {
  let size = HEADER_BYTES + nameBytes(serviceTag) + QUESTION_FIXED_BYTES
  const answers: Answer[] = []
  for (const k of known) {
    const bytes = nameBytes(serviceTag) + RECORD_FIXED_BYTES + nameBytes(k.instance)
    if (size + bytes > maxBytes) break
    size += bytes
    answers.push({ name: serviceTag, type: 'PTR', class: 'IN', ttl: k.ttl, data: k.instance })
  }
  return { type: 'query', questions: [{ name: serviceTag, type: 'PTR', class: 'IN' }], answers }
}

/** Whether an address is one to announce on a LAN: private, loopback or link-local IPs only (as @libp2p/mdns). */
export function isLanAddress(addr: string): boolean {
  const m = /^\/(ip4|ip6)\/([^/]+)/.exec(addr)
  if (m == null) return false
  const host = m[2].toLowerCase()
  if (m[1] === 'ip6') return host === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host)
  const o = host.split('.').map(Number)
  if (o.length !== 4 || o.some(x => !Number.isInteger(x) || x < 0 || x > 255)) return false
  return (
    o[0] === 10 ||
    o[0] === 127 ||
    (o[0] === 100 && o[1] >= 64 && o[1] < 128) ||
    (o[0] === 169 && o[1] === 254) ||
    (o[0] === 172 && o[1] >= 16 && o[1] < 32) ||
    (o[0] === 192 && o[1] === 168)
  )
}

/** The peer ID at the end of an address (its last `/p2p/` part), if any. */
function peerIdOf(addr: string): string | undefined {
  const parts = addr.split('/')
  const at = parts.lastIndexOf('p2p')
  return at >= 0 && at + 1 < parts.length && parts[at + 1] !== '' ? parts[at + 1] : undefined
}

/**
 * Our answer: the PTR record and a TXT record for each LAN address that carries our peer ID and
 * fits a TXT string. `ttl` 0 says goodbye.
 */
export function buildResponse(serviceTag: string, instance: string, addrs: string[], ttl = DEFAULT_RECORD_TTL): OutgoingResponse {
  const answers: Answer[] = [{ name: serviceTag, type: 'PTR', class: 'IN', ttl, data: instance }]
  for (const addr of addrs) {
    const data = DNSADDR + addr
    if (!isLanAddress(addr) || peerIdOf(addr) == null || Buffer.byteLength(data) > MAX_TXT_BYTES) continue
    answers.push({ name: instance, type: 'TXT', class: 'IN', ttl, data })
  }
  return { type: 'response', answers }
}

function records(packet: unknown, section: 'answers' | 'additionals'): Array<Record<string, unknown>> {
  if (typeof packet !== 'object' || packet == null) return []
  const list = (packet as Record<string, unknown>)[section]
  if (!Array.isArray(list)) return []
  return list.filter((r): r is Record<string, unknown> => typeof r === 'object' && r != null)
}

function ptrs(list: Array<Record<string, unknown>>, serviceTag: string): Array<{ instance: string; ttl: number }> {
  const out: Array<{ instance: string; ttl: number }> = []
  for (const r of list) {
    if (r.type !== 'PTR' || typeof r.name !== 'string' || !same(r.name, serviceTag) || typeof r.data !== 'string') continue
    const ttl = typeof r.ttl === 'number' && Number.isFinite(r.ttl) && r.ttl >= 0 ? r.ttl : DEFAULT_RECORD_TTL
    out.push({ instance: r.data, ttl })
  }
  return out
}

/** The query's known answers if it asks for the service tag's PTR records, else undefined. */
export function parseQuery(packet: unknown, serviceTag: string): QueryInfo | undefined {
  if (typeof packet !== 'object' || packet == null) return undefined
  const questions = (packet as Record<string, unknown>).questions
  if (!Array.isArray(questions)) return undefined
  const asks = questions.some((q: unknown) => {
    if (typeof q !== 'object' || q == null) return false
    const { name, type } = q as Record<string, unknown>
    return typeof name === 'string' && same(name, serviceTag) && (type === 'PTR' || type === 'ANY')
  })
  if (!asks) return undefined
  const known = new Map<string, number>()
  for (const p of ptrs(records(packet, 'answers'), serviceTag)) known.set(p.instance.toLowerCase(), p.ttl)
  return { known }
}

/** Answer unless the query lists our record with at least half its TTL left (RFC 6762 §7.1). */
export function shouldAnswer(query: QueryInfo, instance: string, ttl = DEFAULT_RECORD_TTL): boolean {
  const listed = query.known.get(instance.toLowerCase())
  return listed == null || listed * 2 < ttl
}

function txtStrings(data: unknown): string[] {
  const items = Array.isArray(data) ? data : [data]
  const out: string[] = []
  for (const item of items) {
    if (typeof item === 'string') out.push(item)
    else if (item instanceof Uint8Array) out.push(Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('utf8'))
  }
  return out
}

/** The peers a response announces, except ourselves; peers without a usable address are left out. */
export function parseResponse(packet: unknown, serviceTag: string, ownInstance: string): FoundPeer[] {
  const all = [...records(packet, 'answers'), ...records(packet, 'additionals')]
  const found: FoundPeer[] = []
  const seen = new Set<string>()
  for (const { instance, ttl } of ptrs(all, serviceTag)) {
    const key = instance.toLowerCase()
    if (key === ownInstance.toLowerCase() || seen.has(key)) continue
    seen.add(key)
    const addrs = all
      .filter(r => r.type === 'TXT' && typeof r.name === 'string' && r.name.toLowerCase() === key)
      .flatMap(r => txtStrings(r.data))
      .filter(s => s.startsWith(DNSADDR))
      .map(s => s.slice(DNSADDR.length))
    const peerId = addrs.map(peerIdOf).find(id => id != null)
    if (peerId == null) continue
    const suffix = `/p2p/${peerId}`
    const own = addrs.filter(a => a.endsWith(suffix)).map(a => a.slice(0, -suffix.length))
    found.push({ instance, ttl, peerId, addrs: own.filter(a => a !== '') })
  }
  return found
}
