/** The benchmark's pure parts: percentiles, message texts, delivery bookkeeping, /proc parsing, table cells. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { quantile, summarize } from '../../../bench/lib/stats.js'
import { PAYLOAD_CHARS, Tracker, messageText, parseMessageText } from '../../../bench/lib/tracker.js'
import { parseCpuMs } from '../../../bench/lib/proc.js'
import { fmt, renderMarkdown } from '../../../bench/lib/report.js'
import type { SystemResult } from '../../../bench/lib/scenario.js'
import { oursSystem } from '../../../bench/lib/systems.js'
import { renderMessage } from '../../../src/cli/render.js'
import type { ChatMessage } from '../../../src/chat/index.js'

void test('percentiles use the nearest rank; no samples give NaN', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1)
  assert.equal(quantile(values, 0.5), 50)
  assert.equal(quantile(values, 0.99), 99)
  assert.equal(quantile(values, 1), 100)
  assert.ok(Number.isNaN(quantile([], 0.5)))
  assert.deepEqual(summarize([3, 1, 2]), { count: 3, p50: 2, p95: 3, p99: 3, max: 3 })
})

void test('a message text carries its ID and send time and has the fixed payload length', () => {
  const text = messageText('one.0.7', 1795480571717.25)
  assert.equal(text.length, PAYLOAD_CHARS)
  assert.deepEqual(parseMessageText(text), { id: 'one.0.7', at: 1795480571717.25 })
  assert.equal(parseMessageText('hello there world'), undefined)
})

void test('the tracker counts each receiver once, never the sender, and latency from the embedded time', () => {
  const tracker = new Tracker()
  const text = tracker.message('p', 0, 1000)
  tracker.received(1, text, 1010)
  tracker.received(1, text, 1500) // a duplicate line changes nothing
  tracker.received(0, text, 1001) // the sender's own line is not a delivery
  assert.equal(tracker.pending('p', [0, 1, 2]), 1)
  const r = tracker.result('p', [0, 1, 2], 5)
  assert.equal(r.expected, 2)
  assert.equal(r.delivered, 1)
  assert.equal(r.onTime, 0)
  assert.deepEqual(r.latencies, [10])
})

void test('the tracker lists the copies that missed the deadline: late ones with their latency, lost ones with none', () => {
  const tracker = new Tracker()
  const a = tracker.message('p', 0, 1000)
  const b = tracker.message('p', 1, 2000)
  tracker.received(1, a, 1010) // on time
  tracker.received(2, a, 3500) // late
  tracker.received(0, b, 2020) // on time; node 2 never gets b
  const late = tracker.late('p', [0, 1, 2], 1000, 5)
  assert.deepEqual(
    late.map(d => [d.sender, d.receiver, d.latencyMs]),
    [
      [0, 2, 2500],
      [1, 2, null]
    ]
  )
  assert.equal(tracker.late('p', [0, 1, 2], 1000, 1).length, 1)
})

void test('a LAN Chat line is a delivery whether it came live or as history, never the own echo', () => {
  const text = messageText('rate0.27.457', 1795553235011.943)
  const m: ChatMessage = {
    v: 1,
    id: 'x'.repeat(43),
    room: 'main',
    from: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN',
    nick: 'n27',
    text,
    ts: 0,
    lc: 0,
    seq: 1,
    sig: ''
  }
  const style = { color: false }
  const { parse } = oursSystem('/nowhere')
  assert.deepEqual(parse(renderMessage(m, { own: false, showRoom: false }, style)), { kind: 'recv', text })
  assert.deepEqual(parse(renderMessage(m, { own: false, showRoom: false, history: true }, style)), { kind: 'recv', text })
  assert.equal(parse(renderMessage(m, { own: true, showRoom: false }, style)), undefined)
})

void test('CPU time is utime + stime, even when the command name has spaces and parentheses', () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i))
  fields[11] = '250' // utime (field 14)
  fields[12] = '50' // stime (field 15)
  assert.equal(parseCpuMs(`1234 (node (x) y) ${fields.join(' ')}`), 3000)
})

void test('table numbers: three significant-ish digits, n/a for missing values', () => {
  assert.equal(fmt(1234.5), '1235')
  assert.equal(fmt(12.345), '12.3')
  assert.equal(fmt(1.2345), '1.23')
  assert.equal(fmt(undefined), 'n/a')
  assert.equal(fmt(NaN), 'n/a')
})

void test('the memory floor row: a plain Node.js process, as a share of the baseline’s idle memory', () => {
  const lat = summarize([1, 2, 3])
  const baseline = { system: 'baseline', notes: [], idle: { cpuPercent: 1, rssMB: 70 } } as unknown as SystemResult
  const md = renderMarkdown({
    startedAt: 'a',
    finishedAt: 'b',
    quick: false,
    machine: { cpus: 2, memoryGB: 24, node: 'v20', kernel: '6', loadBefore: 0, loadAfter: 0 },
    method: [],
    runs: [{ n: 2, floor: { oneWay: lat, roundTrip: lat, rtt: lat, rssMB: 42 }, baseline }],
    skipped: []
  })
  const row = md.split('\n').find(l => l.includes('memory floor'))
  assert.equal(row, '| 2 | memory floor: a plain Node.js process with one TCP connection, idle (MB RSS) | 42.0 |  | 0.60× |  |')
})
