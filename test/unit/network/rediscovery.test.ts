/**
 * The connector after an outage, with a fake clock and fake dials: an absent mDNS peer is not
 * dialed, a dial into the outage is dropped, and when the peer is back the higher peer ID redials
 * at once while the lower waits a new grace period, so the two never dial at the same moment.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { Connector } from '../../../src/network/connector.js'
import { waitUntil } from '../../helpers/wait.js'

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const HIGHER = `${PEER}z`
const LOWER = '12D3KooA'
const ADDRS = [multiaddr('/ip4/10.0.0.2/tcp/9000')]
const GRACE = 1_000
const ABSENCE = 7_500

interface Dial {
  addrs: Multiaddr[]
  signal: AbortSignal
  settle: (ok: boolean) => void
}

function harness(t: { after: (fn: () => void) => void }, selfId: string) {
  let now = 1_000_000
  let ticks = 0
  const dials: Dial[] = []
  const connected = new Set<string>()
  const connector = new Connector(
    {
      selfId,
      dial: async (addrs, signal) =>
        await new Promise<string>((resolve, reject) => {
          const settle = (ok: boolean): void => {
            if (ok) {
              connected.add(PEER)
              resolve(PEER)
            } else reject(new Error('unreachable'))
          }
          signal.addEventListener('abort', () => {
            reject(new Error('aborted'))
          })
          dials.push({ addrs, signal, settle })
        }),
      isConnected: id => connected.has(id),
      now: () => {
        ticks++
        return now
      }
    },
    { tickInterval: 2, idleTickInterval: 2, mdnsGrace: GRACE, backoffMin: 100, backoffMax: 400, mdnsAbsence: ABSENCE }
  )
  t.after(() => {
    connector.stop()
  })
  const waitTicks = async (n: number): Promise<void> => {
    const target = ticks + n
    await waitUntil(() => ticks >= target, `${n} ticks`)
  }
  return {
    connector,
    dials,
    connected,
    waitTicks,
    advance: (ms: number) => {
      now += ms
    }
  }
}

void test('mDNS addresses are dialed with the peer ID, so libp2p verifies it and reuses a connection', async t => {
  const h = harness(t, HIGHER)
  h.connector.start()
  h.connector.discovered(PEER, ADDRS)
  await waitUntil(() => h.dials.length === 1, 'the dial')
  assert.deepEqual(
    h.dials[0].addrs.map(a => a.toString()),
    [`/ip4/10.0.0.2/tcp/9000/p2p/${PEER}`]
  )
  assert.equal(h.connector.isDialing(PEER), true)
  h.dials[0].settle(true)
  await waitUntil(() => !h.connector.isDialing(PEER), 'the dial to end')
})

void test('a peer mDNS no longer sees is not redialed, and a dial into the outage is dropped', async t => {
  const h = harness(t, HIGHER)
  h.connector.start()
  h.connector.discovered(PEER, ADDRS)
  await waitUntil(() => h.dials.length === 1, 'the first dial')
  h.dials[0].settle(true)
  await h.waitTicks(3)
  // The link goes down: the health check drops the peer, and mDNS stops seeing it.
  h.connected.delete(PEER)
  h.connector.disconnected(PEER)
  await waitUntil(() => h.dials.length === 2, 'the redial after the drop')
  h.advance(ABSENCE + 1)
  await waitUntil(() => h.dials[1].signal.aborted, 'the dial into the outage to be dropped')
  h.advance(60_000 - ABSENCE - 2)
  await h.waitTicks(10)
  assert.equal(h.dials.length, 2, 'no dial while the peer is absent')
})

void test('when the peer is back, the higher peer ID redials at once', async t => {
  const h = harness(t, HIGHER)
  h.connector.start()
  h.connector.discovered(PEER, ADDRS)
  await waitUntil(() => h.dials.length === 1, 'the first dial')
  h.dials[0].settle(false)
  await h.waitTicks(3)
  h.advance(ABSENCE + 1_000)
  await h.waitTicks(3)
  const before = h.dials.length
  h.connector.discovered(PEER, ADDRS)
  await waitUntil(() => h.dials.length === before + 1, 'the redial on reappearance')
})

void test('when the peer is back, the lower peer ID waits a new grace period before redialing', async t => {
  const h = harness(t, LOWER)
  h.connector.start()
  h.connector.discovered(PEER, ADDRS)
  h.advance(GRACE)
  await waitUntil(() => h.dials.length === 1, 'the dial after the first grace period')
  h.dials[0].settle(false)
  await h.waitTicks(3)
  h.advance(ABSENCE + 1_000)
  await h.waitTicks(3)
  const before = h.dials.length
  h.connector.discovered(PEER, ADDRS)
  await h.waitTicks(10)
  assert.equal(h.dials.length, before, 'no dial at the moment both sides see each other again')
  h.advance(GRACE)
  await waitUntil(() => h.dials.length === before + 1, 'the redial after the grace period')
})

void test('a dial that fails because the other side connected first is not reported as an error', async t => {
  const h = harness(t, LOWER)
  const errors: unknown[] = []
  h.connector.on('dial:error', e => errors.push(e.detail))
  h.connector.start()
  h.connector.discovered(PEER, ADDRS)
  h.advance(GRACE)
  await waitUntil(() => h.dials.length === 1, 'the dial')
  h.connected.add(PEER)
  h.dials[0].settle(false)
  await h.waitTicks(5)
  assert.deepEqual(errors, [])
  assert.equal(h.dials.length, 1)
})
