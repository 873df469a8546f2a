/**
 * The benchmark report: one table, baseline and LAN Chat side by side with the ratio and the
 * target, for every N. Pure: results in, Markdown out.
 */
import type { FloorResult } from './floor.js'
import type { SystemResult } from './scenario.js'
import type { SyncResult } from './sync.js'
import type { LatencySummary } from './stats.js'

export interface RunResult {
  n: number
  floor?: FloorResult
  baseline?: SystemResult
  ours?: SystemResult
  /** History sync (LAN Chat only), measured in one run. */
  sync?: SyncResult
}

export interface BenchReport {
  startedAt: string
  finishedAt: string
  quick: boolean
  machine: { cpus: number; memoryGB: number; node: string; kernel: string; loadBefore: number; loadAfter: number }
  method: string[]
  runs: RunResult[]
  /** LAN sizes left out to keep the run within its time budget. */
  skipped: number[]
}

export function fmt(v: number | undefined, unit = ''): string {
  if (v == null || Number.isNaN(v)) return 'n/a'
  if (!Number.isFinite(v)) return '∞'
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)
  return unit === '' ? s : `${s} ${unit}`
}

function pct(v: number | undefined): string {
  return v == null || Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(v === 1 ? 0 : 2)} %`
}

function lat(l: LatencySummary | undefined): string {
  return l == null || l.count === 0 ? 'n/a' : `${fmt(l.p50)} / ${fmt(l.p95)} / ${fmt(l.p99)} / ${fmt(l.max)}`
}

function ratio(ours: number | undefined, base: number | undefined): string {
  if (ours == null || base == null || Number.isNaN(ours) || Number.isNaN(base) || base === 0) return 'n/a'
  return `${(ours / base).toFixed(2)}×`
}

interface Row {
  metric: string
  base: string
  ours: string
  ratio: string
  target: string
}

function rowsFor(run: RunResult): Row[] {
  const b = run.baseline
  const o = run.ours
  const n = run.n
  const rows: Row[] = []
  const add = (metric: string, base: string, ours: string, r: string, target = ''): void => {
    rows.push({ metric, base, ours, ratio: r, target })
  }
  if (run.floor != null) {
    const f = run.floor
    add('raw TCP floor: one way via harness p50 / p99 (ms)', `${fmt(f.oneWay.p50)} / ${fmt(f.oneWay.p99)}`, '', '')
    // Older results (before the round trip through the harness was measured) lack roundTrip.
    if (f.roundTrip != null)
      add('raw TCP floor: round trip via harness p50 / p99 (ms)', `${fmt(f.roundTrip.p50)} / ${fmt(f.roundTrip.p99)}`, '', '')
    add('raw TCP floor: round trip in process p50 / p99 (ms)', `${fmt(f.rtt.p50)} / ${fmt(f.rtt.p99)}`, '', '')
    if (f.rssMB != null)
      add('memory floor: a plain Node.js process with one TCP connection, idle (MB RSS)', fmt(f.rssMB), '', ratio(f.rssMB, b?.idle?.rssMB))
  }
  add('delivery, one sender', pct(b?.oneSender?.delivery), pct(o?.oneSender?.delivery), '', '100 %')
  // N=2: the chat's one-way p99 against twice the p99 of a raw TCP round trip, both through the harness.
  const floorRtt = run.floor?.roundTrip
  const p99Target = n === 2 && floorRtt != null ? `≤ ${fmt(2 * floorRtt.p99)} ms (2× TCP round trip p99)` : n >= 10 ? `≤ 0.33×` : ''
  add(
    'latency one sender p50 / p95 / p99 / max (ms)',
    lat(b?.oneSender?.latency),
    lat(o?.oneSender?.latency),
    ratio(o?.oneSender?.latency.p99, b?.oneSender?.latency.p99),
    p99Target
  )
  add('delivery, everyone sending', pct(b?.everyone?.delivery), pct(o?.everyone?.delivery), '', '100 %')
  add(
    'latency everyone sending p50 / p95 / p99 / max (ms)',
    lat(b?.everyone?.latency),
    lat(o?.everyone?.latency),
    ratio(o?.everyone?.latency.p99, b?.everyone?.latency.p99),
    n >= 10 ? '≤ 0.33×' : ''
  )
  add(
    'sustained rate, 100 % within 1 s (msg/s)',
    fmt(b?.rate?.sustained),
    fmt(o?.rate?.sustained),
    ratio(o?.rate?.sustained, b?.rate?.sustained),
    n === 10 ? '≥ 3×' : ''
  )
  const st = (r: SystemResult | undefined): string =>
    r?.fleetStart == null ? 'n/a' : `${fmt(r.fleetStart.listening)} / ${fmt(r.fleetStart.connected)} / ${fmt(r.fleetStart.ready)}`
  add(
    'start, all at once: listening / 1st connection / ready in room (ms, median)',
    st(b),
    st(o),
    ratio(o?.fleetStart?.ready, b?.fleetStart?.ready)
  )
  const lt = (r: SystemResult | undefined): string =>
    r?.lateStart == null ? 'n/a' : `${fmt(r.lateStart.listening)} / ${fmt(r.lateStart.connected)} / ${fmt(r.lateStart.ready)}`
  add(
    'start, joining a running LAN: listening / 1st connection / ready (ms)',
    lt(b),
    lt(o),
    ratio(o?.lateStart?.ready, b?.lateStart?.ready),
    '≤ 1000 ms'
  )
  add(
    'CPU per node, idle (% of a core)',
    fmt(b?.idle?.cpuPercent),
    fmt(o?.idle?.cpuPercent),
    ratio(o?.idle?.cpuPercent, b?.idle?.cpuPercent),
    '≤ 0.33×'
  )
  add(
    'CPU per 1,000 delivered messages (ms)',
    fmt(b?.load?.cpuMsPer1000),
    fmt(o?.load?.cpuMsPer1000),
    ratio(o?.load?.cpuMsPer1000, b?.load?.cpuMsPer1000)
  )
  add('memory per node, idle (MB RSS)', fmt(b?.idle?.rssMB), fmt(o?.idle?.rssMB), ratio(o?.idle?.rssMB, b?.idle?.rssMB), '≤ 0.6×')
  add(
    'memory per node, under load (MB RSS, peak)',
    fmt(b?.load?.rssMB),
    fmt(o?.load?.rssMB),
    ratio(o?.load?.rssMB, b?.load?.rssMB),
    '≤ 0.6×'
  )
  const sync = run.sync
  if (sync != null)
    add(
      `history sync: new node holds ${sync.messages.toLocaleString('en')} messages, from start / from 1st connection (ms)`,
      'n/a (no history)',
      sync.ms != null ? `${fmt(sync.ms)} / ${fmt(sync.afterConnectMs)}` : `n/a (${sync.reason ?? 'not measured'})`,
      '',
      '≤ 2000 ms'
    )
  return rows
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine
  const lines = [
    `# LAN Chat benchmark${report.quick ? ' (quick)' : ''}`,
    '',
    `${report.startedAt} → ${report.finishedAt}; ${m.cpus} CPUs, ${m.memoryGB} GB, Node ${m.node}, Linux ${m.kernel}; ` +
      `load average ${m.loadBefore} before, ${m.loadAfter} after.`,
    '',
    '| N | metric | baseline (js-libp2p defaults) | LAN Chat | LAN Chat / baseline | target |',
    '|---|---|---|---|---|---|'
  ]
  for (const run of report.runs) {
    for (const r of rowsFor(run)) lines.push(`| ${run.n} | ${r.metric} | ${r.base} | ${r.ours} | ${r.ratio} | ${r.target} |`)
  }
  const notes = report.runs.flatMap(run =>
    [run.baseline, run.ours].flatMap(r => (r == null ? [] : r.notes.map(x => `- N=${run.n} ${r.system}: ${x.split('\n')[0]}`)))
  )
  if (report.skipped.length > 0) notes.push(`- N=${report.skipped.join(', ')}: skipped to stay within the time budget`)
  if (notes.length > 0) lines.push('', 'Notes:', '', ...notes)
  lines.push('', 'Method:', '', ...report.method.map(x => `- ${x}`))
  return lines.join('\n') + '\n'
}
