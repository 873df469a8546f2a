/**
 * Known-answer suppression on a real LAN: once four `lan-chat` programs are connected, a query
 * lists the peers its sender is connected to and they stay silent, so the only answer to a query
 * is its sender's own. With @libp2p/mdns every node answered every query (4 answers per query).
 * A passive listener (test/helpers/mdns-count.ts) in a fifth namespace of the same LAN counts
 * queries and answers over a window; it sends nothing. Meanwhile a prober in a sixth
 * (test/helpers/mdns-probe.ts) asks a few times as a new node does, listing nobody: every node
 * answers it, and by unicast, so the listener never sees those answers (with multicast answers,
 * every node on the LAN parsed every node's answer to every new node).
 *
 * Needs root and iproute2; skipped loudly where namespaces cannot be made. Everything it starts
 * is stopped in `after` hooks registered before it is started. No timing is asserted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createLan, netnsUnavailableReason, type Lan } from '../helpers/netns.js'
import type { MdnsCount } from '../helpers/mdns-count.js'
import type { MdnsProbe } from '../helpers/mdns-probe.js'
import { mdnsServiceTag } from '../../src/network/topics.js'
import { DEFAULT_MDNS_INTERVAL } from '../../src/network/node.js'
import { startConnected, stopNode, type LanNode } from './cluster.js'

const NODES = 4
const TAG = 'quiet'
/** Generous: other suites share this 2-core machine. */
const CONNECT_TIMEOUT_MS = 60_000
/** Longer than the steady query interval, so every node queries at least once in it. */
const WINDOW_MS = DEFAULT_MDNS_INTERVAL + 3_000
/** Per node: an answer whose query fell just before the window, or a stray re-announcement. */
const SLACK = 2
/** The prober's queries: more than SLACK, so answering them by multicast would show. */
const PROBES = SLACK + 2
const PROBE_GAP_MS = 300
const PROBE_WINDOW_MS = 3_000

void test(
  "once everyone is connected, a query is answered only by its sender; a new node's query is answered by everyone, by unicast",
  { timeout: 180_000 },
  async t => {
    const reason = netnsUnavailableReason()
    if (reason != null) {
      t.skip(`network namespaces unavailable: ${reason}`)
      return
    }
    const made: { lan?: Lan } = {}
    const nodes: LanNode[] = []
    t.after(async () => {
      await Promise.allSettled(nodes.map(stopNode))
      await made.lan?.destroy()
    })
    const lan = (made.lan = await createLan({ hosts: NODES + 2 }))
    await startConnected(lan, ['ann', 'ben', 'cat', 'don'], TAG, nodes, CONNECT_TIMEOUT_MS)

    const helper = (name: string): string => join(import.meta.dirname, '..', 'helpers', name)
    const tag = mdnsServiceTag(TAG)
    const [out, probeOut] = await Promise.all([
      lan.exec(lan.hosts[NODES], process.execPath, ['--import', 'tsx', helper('mdns-count.ts'), tag, String(WINDOW_MS)]),
      lan.exec(lan.hosts[NODES + 1], process.execPath, [
        '--import',
        'tsx',
        helper('mdns-probe.ts'),
        tag,
        String(PROBES),
        String(PROBE_GAP_MS),
        String(PROBE_WINDOW_MS)
      ])
    ])
    const count = JSON.parse(out.trim()) as MdnsCount
    const probe = JSON.parse(probeOut.trim()) as MdnsProbe
    t.diagnostic(`over ${WINDOW_MS} ms: ${count.queries} queries, ${count.responses} responses; ${JSON.stringify(count.bySource)}`)
    t.diagnostic(`the prober's ${probe.queries} queries were answered by ${JSON.stringify(probe.answers)}`)

    for (const host of lan.hosts.slice(0, NODES)) {
      assert.ok(
        (probe.answers[host.ip] ?? 0) >= PROBES,
        `${host.ip} answered each of a new node's queries: ${JSON.stringify(probe.answers)}`
      )
    }

    assert.ok(count.queries >= 1, 'the nodes still query the LAN')
    assert.ok(
      count.responses <= count.queries - (count.bySource[lan.hosts[NODES + 1].ip]?.queries ?? 0) + NODES,
      `at most one answer per query (its sender's), not one per node: ${count.queries} queries, ${count.responses} responses`
    )
    for (const [address, c] of Object.entries(count.bySource)) {
      assert.ok(c.responses <= c.queries + SLACK, `${address} multicast answers to its own queries only: ${JSON.stringify(c)}`)
    }
  }
)
