/**
 * mDNS goodbye on a real LAN: four `lan-chat` programs, connected and settled into their steady
 * query interval; one is stopped with SIGTERM. It sends its records with TTL 0 before it closes
 * its connections (RFC 6762 §10.1), and the other three take its disconnect for a departure: none
 * of them goes back to querying every second to look for it. Without the goodbye each of them
 * sent a query 1 s and 3 s after the disconnect, each listing its known peers for all to parse.
 * A passive listener (test/helpers/mdns-count.ts) in a fifth namespace counts what is sent.
 *
 * Needs root and iproute2; skipped loudly where namespaces cannot be made. Everything it starts
 * is stopped in `after` hooks registered before it is started. No timing is asserted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createLan, netnsUnavailableReason, type Lan } from '../helpers/netns.js'
import type { MdnsCount } from '../helpers/mdns-count.js'
import { mdnsServiceTag } from '../../src/network/topics.js'
import { DEFAULT_MDNS_INTERVAL } from '../../src/network/node.js'
import { DEFAULT_QUERY_MIN_INTERVAL } from '../../src/network/discovery.js'
import { goneLine, sleep, startConnected, stopNode, type LanNode } from './cluster.js'

const NODES = 4
const TAG = 'goodbye'
/** Generous: other suites share this 2-core machine. */
const CONNECT_TIMEOUT_MS = 60_000
/** Until every node's query backoff (1, 2, 4, 8 s, then the interval) has reached the interval. */
const SETTLE_MS = 16_000
/** After the stop: a node looking for a lost peer queries at +1 s and +3 s; its steady query comes at most once. */
const WINDOW_MS = 4 * DEFAULT_QUERY_MIN_INTERVAL
const STOP_AFTER_MS = 300

void test('a node that stops says goodbye, and the others do not go looking for it', { timeout: 180_000 }, async t => {
  const reason = netnsUnavailableReason()
  if (reason != null) {
    t.skip(`network namespaces unavailable: ${reason}`)
    return
  }
  assert.ok(WINDOW_MS < DEFAULT_MDNS_INTERVAL, 'the window is shorter than the steady interval')
  const made: { lan?: Lan } = {}
  const nodes: LanNode[] = []
  t.after(async () => {
    await Promise.allSettled(nodes.map(stopNode))
    await made.lan?.destroy()
  })
  const lan = (made.lan = await createLan({ hosts: NODES + 1 }))
  await startConnected(lan, ['ann', 'ben', 'cat', 'don'], TAG, nodes, CONNECT_TIMEOUT_MS)
  await sleep(SETTLE_MS)

  const leaving = nodes.find(n => n.nick === 'don')
  assert.ok(leaving != null)
  const staying = nodes.filter(n => n !== leaving)
  const counting = lan.exec(lan.hosts[NODES], process.execPath, [
    '--import',
    'tsx',
    join(import.meta.dirname, '..', 'helpers', 'mdns-count.ts'),
    mdnsServiceTag(TAG),
    String(STOP_AFTER_MS + WINDOW_MS)
  ])
  await sleep(STOP_AFTER_MS)
  await stopNode(leaving)
  const count = JSON.parse((await counting).trim()) as MdnsCount
  t.diagnostic(`over ${STOP_AFTER_MS + WINDOW_MS} ms around the stop: ${JSON.stringify(count.bySource)}`)

  assert.equal(count.bySource[leaving.host.ip]?.goodbyes, 1, `${leaving.nick} said goodbye once`)
  for (const n of staying) {
    const queries = count.bySource[n.host.ip]?.queries ?? 0
    assert.ok(queries <= 1, `${n.nick} sent ${queries} queries after ${leaving.nick} left: only its steady one, at most`)
  }
  // They did see it go.
  await Promise.all(staying.map(async n => await n.program.waitForLine(goneLine(leaving.nick), CONNECT_TIMEOUT_MS)))
})
