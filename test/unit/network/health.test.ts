/** Liveness with fake pings: a peer that stops answering is hung up on after maxFailures. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HealthMonitor } from '../../../src/network/health.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { waitUntil } from '../../helpers/wait.js'

interface Fake {
  pings: Map<string, number>
  hungUp: string[]
  answers: Map<string, () => Promise<number>>
}

function monitor(t: { after: (fn: () => void) => void }, peers: string[], maxFailures = 3): { health: HealthMonitor; fake: Fake } {
  const fake: Fake = { pings: new Map(), hungUp: [], answers: new Map() }
  const health = new HealthMonitor(
    {
      ping: async peerId => {
        fake.pings.set(peerId, (fake.pings.get(peerId) ?? 0) + 1)
        return await (fake.answers.get(peerId) ?? (async () => await Promise.reject(new Error('no answer'))))()
      },
      peers: () => peers.filter(p => !fake.hungUp.includes(p)),
      hangUp: async peerId => {
        fake.hungUp.push(peerId)
        await Promise.resolve()
      }
    },
    { interval: 2, timeout: 5_000, maxFailures }
  )
  t.after(() => {
    health.stop()
  })
  return { health, fake }
}

void test('a peer that fails maxFailures pings in a row is hung up on; a healthy one is kept', async t => {
  const { health, fake } = monitor(t, ['dead', 'alive'])
  fake.answers.set('alive', async () => await Promise.resolve(7))
  health.start()
  await waitUntil(() => fake.hungUp.includes('dead'), 'the hang-up')
  assert.equal(fake.pings.get('dead'), 3)
  await waitUntil(() => (fake.pings.get('alive') ?? 0) >= 5, 'more pings of the healthy peer')
  assert.deepEqual(fake.hungUp, ['dead'])
  assert.equal(health.rtt('alive'), 7)
  assert.equal(health.rtt('dead'), undefined)
})

void test('a successful ping resets the count of failures', async t => {
  const { health, fake } = monitor(t, ['flaky'])
  let n = 0
  // fail, fail, ok, fail, fail, ok, ... never three failures in a row
  fake.answers.set('flaky', async () => (++n % 3 === 0 ? 1 : await Promise.reject(new Error('lost'))))
  health.start()
  await waitUntil(() => n >= 30, '30 pings')
  assert.deepEqual(fake.hungUp, [])
  fake.answers.delete('flaky')
  await waitUntil(() => fake.hungUp.length === 1, 'the hang-up once it stops answering')
})

void test('check() times out a ping that never answers', async t => {
  const health = new HealthMonitor(
    {
      ping: async (_peerId, signal) =>
        await new Promise<number>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reject(signal.reason as Error)
          })
        }),
      peers: () => [],
      hangUp: async () => {}
    },
    { interval: 1_000, timeout: 10 }
  )
  t.after(() => {
    health.stop()
  })
  // AbortSignal.timeout does not keep the process alive on its own (a real node does).
  const keepAlive = setInterval(() => {}, 1_000)
  t.after(() => {
    clearInterval(keepAlive)
  })
  await assert.rejects(health.check('silent'))
})

void test('after stop no more pings are sent', async t => {
  const { health, fake } = monitor(t, ['p'])
  fake.answers.set('p', async () => await Promise.resolve(1))
  health.start()
  await waitUntil(() => (fake.pings.get('p') ?? 0) >= 2, 'two pings')
  health.stop()
  const count = fake.pings.get('p')
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(fake.pings.get('p'), count)
})

void test('timings that are not positive are refused', () => {
  const c = { ping: async () => await Promise.resolve(1), peers: () => [], hangUp: async () => {} }
  assert.throws(() => new HealthMonitor(c, { interval: 0 }), InvalidOptionError)
  assert.throws(() => new HealthMonitor(c, { maxFailures: 0 }), InvalidOptionError)
})
