/**
 * A passive mDNS listener for LAN tests: run inside a test namespace, it counts the queries and
 * responses for one service tag over a window, sending nothing, and prints them as one JSON line.
 * A response whose PTR record has TTL 0 is a goodbye (RFC 6762 §10.1) and is counted as one.
 * Usage: node --import tsx test/helpers/mdns-count.ts <serviceTag> <windowMs>
 */
import multicastDNS from 'multicast-dns'

export interface MdnsCount {
  queries: number
  responses: number
  goodbyes: number
  /** Per sender address: queries, responses and goodbyes it sent. */
  bySource: Record<string, { queries: number; responses: number; goodbyes: number }>
}

const [tag, windowArg] = process.argv.slice(2)
const windowMs = Number(windowArg)
if (tag == null || !Number.isFinite(windowMs) || windowMs <= 0) {
  process.stderr.write('usage: mdns-count.ts <serviceTag> <windowMs>\n')
  process.exit(2)
}

const count: MdnsCount = { queries: 0, responses: 0, goodbyes: 0, bySource: {} }
const source = (address: string): MdnsCount['bySource'][string] => (count.bySource[address] ??= { queries: 0, responses: 0, goodbyes: 0 })
const mdns = multicastDNS()
mdns.on('error', err => {
  process.stderr.write(`mdns error: ${err.message}\n`)
  process.exit(1)
})
mdns.on('query', (packet, rinfo) => {
  if (!packet.questions.some(q => q.name === tag)) return
  count.queries++
  source(rinfo.address).queries++
})
mdns.on('response', (packet, rinfo) => {
  const ptr = packet.answers.find(a => a.type === 'PTR' && a.name === tag) as { ttl?: number } | undefined
  if (ptr == null) return
  if (ptr.ttl === 0) {
    count.goodbyes++
    source(rinfo.address).goodbyes++
    return
  }
  count.responses++
  source(rinfo.address).responses++
})
setTimeout(() => {
  process.stdout.write(`${JSON.stringify(count)}\n`)
  mdns.destroy(() => process.exit(0))
}, windowMs)
