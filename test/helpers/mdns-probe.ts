/**
 * An mDNS prober for LAN tests: run inside a test namespace, it asks for one service tag the way a
 * new node does (a query that lists no known answers), `count` times `gapMs` apart, and prints as
 * one JSON line how many answers each sender sent it over `windowMs` (unicast or multicast alike).
 * Usage: node --import tsx test/helpers/mdns-probe.ts <serviceTag> <count> <gapMs> <windowMs>
 */
import multicastDNS from 'multicast-dns'

export interface MdnsProbe {
  queries: number
  /** Per sender address: answers received. */
  answers: Record<string, number>
}

const [tag, countArg, gapArg, windowArg] = process.argv.slice(2)
const count = Number(countArg)
const gapMs = Number(gapArg)
const windowMs = Number(windowArg)
if (tag == null || ![count, gapMs, windowMs].every(n => Number.isFinite(n) && n >= 0)) {
  process.stderr.write('usage: mdns-probe.ts <serviceTag> <count> <gapMs> <windowMs>\n')
  process.exit(2)
}

const probe: MdnsProbe = { queries: 0, answers: {} }
const mdns = multicastDNS()
mdns.on('error', err => {
  process.stderr.write(`mdns error: ${err.message}\n`)
  process.exit(1)
})
mdns.on('response', (packet, rinfo) => {
  if (!packet.answers.some(a => a.type === 'PTR' && a.name === tag)) return
  probe.answers[rinfo.address] = (probe.answers[rinfo.address] ?? 0) + 1
})
for (let i = 0; i < count; i++) {
  setTimeout(() => {
    probe.queries++
    mdns.query({ questions: [{ name: tag, type: 'PTR' }] })
  }, i * gapMs)
}
setTimeout(() => {
  process.stdout.write(`${JSON.stringify(probe)}\n`)
  mdns.destroy(() => process.exit(0))
}, windowMs)
