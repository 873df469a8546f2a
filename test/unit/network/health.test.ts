/** Liveness with fake pings: a silent peer is pinged, and one that stops answering is hung up on after maxFailures. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HealthMonitor } from '../../../src/network/health.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { waitUntil } from '../../helpers/wait.js'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { connect } from 'node:net'

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
    // silence 0: every peer is pinged every round.
    { interval: 2, silence: 0, timeout: 5_000, maxFailures }
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

void test('only a peer not heard from for `silence` is pinged, once per silence; one that talks is not', async t => {
  // A fake clock that moves 1 s per round (each round asks for the peers once).
  let clock = 0
  let rounds = 0
  const pingedAt = new Map<string, number[]>()
  const counts = { chatty: 0, silent: 42, quietAfterSix: 0 }
  const health = new HealthMonitor(
    {
      ping: async peerId => {
        pingedAt.set(peerId, [...(pingedAt.get(peerId) ?? []), clock])
        return await Promise.resolve(1)
      },
      peers: () => {
        rounds++
        clock += 1_000
        counts.chatty++
        if (rounds <= 6) counts.quietAfterSix++
        return ['chatty', 'silent', 'quietAfterSix']
      },
      hangUp: async () => {},
      received: peerId => counts[peerId as keyof typeof counts]
    },
    { interval: 2, silence: 4_000, timeout: 5_000, now: () => clock }
  )
  t.after(() => {
    health.stop()
  })
  health.start()
  await waitUntil(() => rounds >= 24, '24 rounds')
  health.stop()
  assert.equal(pingedAt.get('chatty'), undefined, 'something arrives every round: never pinged')
  // First seen at 1 s; pinged 4 s later, and 4 s after each answer.
  const silent = pingedAt.get('silent') ?? []
  assert.deepEqual(silent.slice(0, 5), [5_000, 9_000, 13_000, 17_000, 21_000])
  // Heard from until the sixth round (6 s): first pinged at 10 s.
  assert.equal(pingedAt.get('quietAfterSix')?.[0], 10_000)
})

void test('a failed ping is retried at once, so a vanished peer is hung up on in the round that first misses it', async t => {
  let rounds = 0
  let roundsAtHangUp = -1
  let pings = 0
  const health = new HealthMonitor(
    {
      ping: async () => {
        pings++
        return await Promise.reject(new Error('no answer'))
      },
      peers: () => {
        rounds++
        return roundsAtHangUp < 0 ? ['gone'] : []
      },
      hangUp: async () => {
        roundsAtHangUp = rounds
        await Promise.resolve()
      }
    },
    { interval: 20, silence: 0, timeout: 5_000, maxFailures: 3 }
  )
  t.after(() => {
    health.stop()
  })
  health.start()
  await waitUntil(() => roundsAtHangUp >= 0, 'the hang-up')
  assert.equal(roundsAtHangUp, 1)
  assert.equal(pings, 3)
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
  assert.throws(() => new HealthMonitor(c, { silence: -1 }), InvalidOptionError)
})

void test('a node too busy to read a ping’s answer in time does not count it as lost: the answer already there wins', async t => {
  // The peer: a TCP echo server on its own thread, so it answers while this thread is busy.
  const worker = new Worker(
    "const net = require('node:net'); const s = net.createServer(c => c.pipe(c)).listen(0, '127.0.0.1', () => require('node:worker_threads').parentPort.postMessage(s.address().port))",
    { eval: true }
  )
  t.after(async () => {
    await worker.terminate()
  })
  const [port] = (await once(worker, 'message')) as [number]
  const socket = connect(port, '127.0.0.1')
  t.after(() => {
    socket.destroy()
  })
  await once(socket, 'connect')
  const health = new HealthMonitor(
    {
      ping: async (_peerId, signal) =>
        await new Promise<number>((resolve, reject) => {
          const started = Date.now()
          socket.once('data', () => {
            resolve(Date.now() - started)
          })
          signal.addEventListener('abort', () => {
            reject(signal.reason as Error)
          })
          socket.write('p')
        }),
      peers: () => [],
      hangUp: async () => {
        await Promise.resolve()
      }
    },
    { interval: 60_000, timeout: 50, maxFailures: 1 }
  )
  const check = health.check('peer')
  // Busy for six timeouts; the echo arrives meanwhile and waits in the socket.
  const until = Date.now() + 300
  while (Date.now() < until);
  assert.ok((await check) >= 300)
  assert.ok(health.rtt('peer') != null)
})
