/**
 * Who dials whom, with fake dialing and a fake clock: the connector's timer runs every few
 * milliseconds, and the tests move the clock, so grace periods and backoff take no real time.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { Connector, type ConnectorInit } from '../../../src/network/connector.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { waitUntil } from '../../helpers/wait.js'

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const ADDR = multiaddr(`/ip4/127.0.0.1/tcp/9000/p2p/${PEER}`)
const MDNS_ADDRS = [multiaddr('/ip4/10.0.0.2/tcp/9000')]

interface Harness {
  connector: Connector
  dials: Multiaddr[][]
  connected: Set<string>
  /** How many timer ticks have run (each reads the clock). */
  ticks: () => number
  advance: (ms: number) => void
  /** Waits for `n` more ticks. */
  waitTicks: (n: number) => Promise<void>
  failDials: (fail: boolean) => void
  /** Dials in flight, when the harness holds them: each settles when the test calls `release`. */
  held: Array<{ peer: string; release: () => void }>
  /** The connection to PEER drops, and the connector is told. */
  drop: () => void
}

function harness(
  t: { after: (fn: () => void) => void },
  selfId: string,
  init: ConnectorInit = {},
  dialResult: (addrs: Multiaddr[]) => string = () => PEER,
  hold = false
): Harness {
  let now = 1_000_000
  let ticks = 0
  let fail = false
  const dials: Multiaddr[][] = []
  const held: Harness['held'] = []
  const connected = new Set<string>()
  const connector = new Connector(
    {
      selfId,
      dial: async addrs => {
        dials.push(addrs)
        if (hold) await new Promise<void>(resolve => held.push({ peer: dialResult(addrs), release: resolve }))
        else await Promise.resolve()
        if (fail) throw new Error('connection refused')
        const id = dialResult(addrs)
        connected.add(id)
        return id
      },
      isConnected: id => connected.has(id),
      now: () => {
        ticks++
        return now
      }
    },
    { tickInterval: 2, idleTickInterval: 2, mdnsGrace: 1_000, backoffMin: 100, backoffMax: 400, ...init }
  )
  t.after(() => {
    connector.stop()
  })
  return {
    connector,
    dials,
    connected,
    ticks: () => ticks,
    advance: ms => {
      now += ms
    },
    waitTicks: async n => {
      const target = ticks + n
      await waitUntil(() => ticks >= target, `${n} ticks`)
    },
    failDials: f => {
      fail = f
    },
    held,
    drop: () => {
      connected.delete(PEER)
      connector.disconnected(PEER)
    }
  }
}

void test('a node with the higher peer ID dials an mDNS peer at once', async t => {
  const h = harness(t, `${PEER}z`)
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  await waitUntil(() => h.dials.length === 1, 'the dial')
  assert.equal(h.dials[0].length, 1)
  assert.ok(h.dials[0][0].toString().startsWith('/ip4/10.0.0.2/tcp/9000'), 'the address mDNS reported is dialed')
  await h.waitTicks(5)
  assert.equal(h.dials.length, 1, 'a connected peer is not dialed again')
  assert.equal(h.connector.reasonFor(PEER), 'mdns')
})

void test('a node with the lower peer ID waits the grace period, then dials if still unconnected', async t => {
  const h = harness(t, '12D3KooA')
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  await h.waitTicks(5)
  assert.equal(h.dials.length, 0, 'no dial during the grace period')
  h.advance(999)
  await h.waitTicks(5)
  assert.equal(h.dials.length, 0)
  h.advance(1)
  await waitUntil(() => h.dials.length === 1, 'the dial after the grace period')
})

void test('a node with the lower peer ID does not dial when the other side connected first', async t => {
  const h = harness(t, '12D3KooA')
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  h.connected.add(PEER)
  h.advance(5_000)
  await h.waitTicks(10)
  assert.equal(h.dials.length, 0)
})

void test('a node never dials itself', async t => {
  const h = harness(t, PEER)
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  h.advance(5_000)
  await h.waitTicks(5)
  assert.equal(h.dials.length, 0)
})

void test('a --peer is dialed at once and retried with a growing, capped backoff', async t => {
  const h = harness(t, '12D3KooA')
  const retries: number[] = []
  h.connector.on('dial:error', e => retries.push(e.detail.retryInMs))
  h.failDials(true)
  h.connector.start()
  h.connector.addStatic(ADDR)
  await waitUntil(() => retries.length === 1, 'the first failure')
  for (const expected of [100, 200, 400, 400]) {
    const n = retries.length
    assert.equal(retries[n - 1], expected)
    await h.waitTicks(5)
    assert.equal(h.dials.length, n, 'no retry before the backoff has passed')
    h.advance(expected)
    await waitUntil(() => retries.length === n + 1, `retry ${n + 1}`)
  }
  h.failDials(false)
  const succeeded: string[] = []
  h.connector.on('dial:success', e => succeeded.push(e.detail.peerId))
  h.advance(400)
  await waitUntil(() => succeeded.length === 1, 'the successful dial')
  assert.deepEqual(succeeded, [PEER])
  assert.equal(h.connector.reasonFor(PEER), 'dial')
})

void test('a --peer that dropped is redialed after disconnected(), and backoff restarts from the minimum', async t => {
  const h = harness(t, '12D3KooA')
  h.connector.start()
  h.connector.addStatic(ADDR)
  await waitUntil(() => h.dials.length === 1 && h.connected.has(PEER), 'the first connection')
  h.drop()
  await h.waitTicks(5)
  assert.equal(h.dials.length, 1, 'waits backoffMin before redialing')
  h.advance(100)
  await waitUntil(() => h.dials.length === 2, 'the redial')
})

void test('an mDNS peer that dropped is redialed by the higher ID at once', async t => {
  const h = harness(t, `${PEER}z`)
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  await waitUntil(() => h.dials.length === 1, 'the first dial')
  h.drop()
  await waitUntil(() => h.dials.length === 2, 'the redial')
})

void test('an mDNS peer that dropped is redialed by the lower ID only after a new grace period', async t => {
  const h = harness(t, '12D3KooA')
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  h.advance(1_000)
  await waitUntil(() => h.dials.length === 1, 'the first dial')
  h.drop()
  await h.waitTicks(5)
  assert.equal(h.dials.length, 1)
  h.advance(1_000)
  await waitUntil(() => h.dials.length === 2, 'the redial')
})

void test('an mDNS peer that said goodbye is not redialed after it drops; mDNS finding it again brings it back', async t => {
  const h = harness(t, `${PEER}z`)
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  await waitUntil(() => h.dials.length === 1, 'the first dial')
  h.connector.departed(PEER)
  h.drop()
  h.advance(5_000)
  await h.waitTicks(10)
  assert.equal(h.dials.length, 1, 'no redial')
  assert.equal(h.connector.reasonFor(PEER), undefined)
  h.connector.discovered(PEER, MDNS_ADDRS)
  await waitUntil(() => h.dials.length === 2, 'the dial once it is back')
})

void test('a goodbye leaves a --peer address alone', async t => {
  const h = harness(t, '12D3KooA')
  h.connector.start()
  h.connector.addStatic(ADDR)
  await waitUntil(() => h.dials.length === 1 && h.connected.has(PEER), 'the first connection')
  h.connector.departed(PEER)
  h.drop()
  h.advance(100)
  await waitUntil(() => h.dials.length === 2, 'the redial')
})

void test('an mDNS peer not seen for the forget period is dropped', async t => {
  const h = harness(t, '12D3KooA', { mdnsForget: 2_000 })
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  h.advance(2_001)
  await h.waitTicks(3)
  assert.equal(h.connector.reasonFor(PEER), undefined)
  assert.equal(h.dials.length, 0)
})

void test('once every known peer is connected the timer stops ticking often, and a drop brings it back at once', async t => {
  const h = harness(t, `${PEER}z`, { idleTickInterval: 60_000 })
  h.connector.start()
  h.connector.discovered(PEER, MDNS_ADDRS)
  await waitUntil(() => h.dials.length === 1, 'the dial')
  // The tick that finds the peer connected is the last one for a minute.
  await new Promise(resolve => setTimeout(resolve, 10))
  const before = h.ticks()
  await new Promise(resolve => setTimeout(resolve, 50))
  assert.ok(h.ticks() - before <= 1, `${h.ticks() - before} ticks in 50 ms with nothing to do (tickInterval 2 ms)`)
  h.drop()
  await waitUntil(() => h.dials.length === 2, 'the redial after the drop')
})

void test('after stop nothing is dialed', async t => {
  const h = harness(t, `${PEER}z`)
  h.connector.start()
  h.connector.stop()
  h.connector.discovered(PEER, MDNS_ADDRS)
  h.connector.addStatic(ADDR)
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(h.dials.length, 0)
})

void test('negative timings are refused', () => {
  assert.throws(
    () => new Connector({ selfId: 'a', dial: async () => await Promise.resolve('b'), isConnected: () => false }, { backoffMin: -1 }),
    InvalidOptionError
  )
})

/** Ten peers with lower IDs than ours (so this node dials each at once), and dials held until released. */
function heldDials(t: { after: (fn: () => void) => void }, init: ConnectorInit) {
  const peerOf = (addrs: Multiaddr[]): string => addrs[0].getComponents().findLast(c => c.name === 'p2p')?.value ?? ''
  const h = harness(t, '12D3KooZZZ', init, peerOf, true)
  return { ...h, peers: Array.from({ length: 10 }, (_, i) => `12D3KooA${i}`) }
}

void test('at most maxDials dials are in flight; the others start in the order found as dials finish', async t => {
  const h = heldDials(t, { maxDials: 3, dialTurn: 60_000 })
  h.connector.start()
  for (const p of h.peers) h.connector.discovered(p, MDNS_ADDRS)
  await waitUntil(() => h.held.length === 3, 'three dials')
  await h.waitTicks(10)
  assert.deepEqual(
    h.held.map(d => d.peer),
    h.peers.slice(0, 3),
    'the first three peers found, and no more'
  )
  h.held[1].release()
  await waitUntil(() => h.held.length === 4, 'the next dial once one finished')
  assert.equal(h.held[3].peer, h.peers[3])
  for (let i = 0; i < h.peers.length && i < h.held.length; i++) h.held[i].release()
  await waitUntil(() => {
    for (const d of h.held) d.release()
    return h.held.length === h.peers.length
  }, 'every peer dialed')
  assert.deepEqual(
    h.held.map(d => d.peer),
    h.peers
  )
})

void test('a dial that does not finish holds its turn for dialTurn only', async t => {
  const h = heldDials(t, { maxDials: 2, dialTurn: 500 })
  h.connector.start()
  for (const p of h.peers) h.connector.discovered(p, MDNS_ADDRS)
  await waitUntil(() => h.held.length === 2, 'two dials')
  h.advance(499)
  await h.waitTicks(10)
  assert.equal(h.held.length, 2, 'still their turn')
  h.advance(1)
  await waitUntil(() => h.held.length === 4, 'two more dials once the first two had their turn')
})
