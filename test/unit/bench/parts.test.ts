/** The benchmark's pure parts: percentiles, message texts, delivery bookkeeping, /proc parsing, table cells. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { quantile, summarize } from '../../../bench/lib/stats.js'
import { PAYLOAD_CHARS, Tracker, messageText, parseMessageText } from '../../../bench/lib/tracker.js'
import { parseCpuMs } from '../../../bench/lib/proc.js'
import { fmt, renderMarkdown } from '../../../bench/lib/report.js'
import type { SystemResult } from '../../../bench/lib/scenario.js'

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
