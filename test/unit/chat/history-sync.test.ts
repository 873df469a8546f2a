/**
 * History sync rounds with the network replaced by a direct call (JSON both ways, as on the wire):
 * a long history arrives in batches with the next fetch already out while one is verified, and a
 * peer that sends forged or repeated batches gets its forgeries refused and no endless fetches.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HistorySync, MAX_BATCHES_AHEAD, type HistorySyncEvents } from '../../../src/chat/history-sync.js'
import { createHybridClock } from '../../../src/chat/clock.js'
import { compareMessages, messageId, canonicalBytes, type ChatMessage } from '../../../src/chat/message.js'
import { createVerifier } from '../../../src/chat/signature.js'
import { createHistory } from '../../../src/store/index.js'
import { createAuthor } from '../../helpers/signed.js'
import { nextEvent, waitUntil } from '../../helpers/wait.js'
import { encodeSummaryResponse, summarize } from '../../../src/chat/sync.js'

const PEER = '12D3KooWPeerPeerPeerPeerPeerPeerPeerPeerPeerPeerPeerPe'
const author = await createAuthor('archive')
const HELD = Array.from({ length: 300 }, () => author.message())

type Answer = (body: unknown) => unknown

/** A node with its own history, verifier and sync; `answer` plays the peer it syncs with. */
function syncNode(t: { after: (fn: () => Promise<void>) => void }, answer: Answer) {
  const history = createHistory<ChatMessage>({ compare: compareMessages, limit: 50_000 })
  const verifier = createVerifier({ pool: { threads: 2 } })
  const requests: Array<{ kind: string; storedBefore: number }> = []
  let inFlight = 0
  let maxInFlight = 0
  const sync = new HistorySync(
    {
      history,
      clock: createHybridClock(),
      verify: async messages => await verifier.verifyMany(messages),
      prepareVerify: () => {
        verifier.warm()
      },
      store: async m => await Promise.resolve(history.add(m) >= 0),
      rooms: () => ['main'],
      roomPeers: () => [PEER],
      request: async (_peerId, body) => {
        const request = JSON.parse(JSON.stringify(body)) as { kind: string }
        requests.push({ kind: request.kind, storedBefore: history.size('main') })
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        try {
          await new Promise(resolve => setImmediate(resolve))
          return JSON.parse(JSON.stringify(await answer(request))) as unknown
        } finally {
          inFlight--
        }
      }
    },
    // Worker threads from 100 wanted messages on (the default waits for more).
    { interval: 0, debounce: 0, verifyAhead: 100 }
  )
  t.after(async () => {
    sync.stop()
    await verifier.close()
  })
  sync.start()
  return { sync, history, requests, maxInFlight: () => maxInFlight }
}

/** A peer holding `held`, answering with batches of at most `batch` messages. */
function holder(held: ChatMessage[], batch: number): HistorySync {
  const history = createHistory<ChatMessage>({ compare: compareMessages, limit: 50_000 })
  for (const m of held) history.add(m)
  return new HistorySync(
    {
      history,
      clock: createHybridClock(),
      verify: async () => await Promise.resolve([]),
      store: async () => await Promise.resolve(false),
      rooms: () => ['main'],
      roomPeers: () => [],
      request: async () => await Promise.reject(new Error('the holder does not ask'))
    },
    { interval: 0, batch: { maxMessages: batch } }
  )
}

async function round(node: ReturnType<typeof syncNode>): Promise<HistorySyncEvents['sync:done']> {
  const done = nextEvent<HistorySyncEvents, 'sync:done'>(node.sync, 'sync:done')
  node.sync.syncWith('main', PEER)
  return await done
}

void test('a long history arrives in batches, the next fetch out before the last batch is stored, in room order', async t => {
  const peer = holder(HELD, 40)
  const node = syncNode(t, body => peer.answer(body))
  const done = await round(node)
  assert.equal(done.error, undefined)
  assert.equal(done.fetched, 300)
  assert.deepEqual(
    node.history.list('main').map(m => m.id),
    HELD.map(m => m.id)
  )
  const fetches = node.requests.filter(r => r.kind === 'fetch')
  assert.ok(fetches.length >= 300 / 40, `${fetches.length} fetches`)
  // Pipelined: the second fetch went out while the first batch was still being verified.
  assert.equal(fetches[1].storedBefore, 0)
  // Bounded: one fetch at a time on the wire, and never more than MAX_BATCHES_AHEAD batches ahead of the store.
  assert.equal(node.maxInFlight(), 1)
  for (const [i, f] of fetches.entries())
    assert.ok(f.storedBefore >= (i + 1 - MAX_BATCHES_AHEAD) * 40, `fetch ${i} after ${f.storedBefore} stored`)
})

void test('a forged message in the middle of a batch is refused and the rest of the batch is stored', async t => {
  const peer = holder(HELD.slice(0, 100), 64)
  const original = HELD[50]
  const changed = { ...original, text: 'never said' }
  const forged: ChatMessage = { ...changed, id: messageId(canonicalBytes(changed)) }
  const node = syncNode(t, async body => {
    const reply = (await peer.answer(body)) as { messages?: ChatMessage[] }
    return reply.messages == null ? reply : { ...reply, messages: reply.messages.map(m => (m.id === original.id ? forged : m)) }
  })
  const rejected = nextEvent<HistorySyncEvents, 'sync:rejected'>(node.sync, 'sync:rejected')
  const done = await round(node)
  assert.equal((await rejected).reason, 'bad-signature')
  assert.equal(done.fetched, 99)
  assert.equal(done.rejected, 1)
  assert.equal(node.history.has(forged.id), false)
  assert.deepEqual(
    node.history.list('main').map(m => m.id),
    HELD.slice(0, 100)
      .filter(m => m.id !== original.id)
      .map(m => m.id)
  )
  // The missing one stays known as missing, for the next round.
  assert.equal(node.sync.status('main').missing, 1)
})

void test('a peer that answers every fetch with the same batch gets only a few fetches', async t => {
  const peer = holder(HELD, 10)
  const first = await peer.answer({ kind: 'fetch', room: 'main', want: [[author.peerId, 1, 300]] })
  const node = syncNode(t, async body =>
    (body as { kind: string }).kind === 'fetch' ? { ...(first as object), more: true } : await peer.answer(body)
  )
  const done = await round(node)
  assert.equal(done.fetched, 10)
  assert.ok(node.requests.filter(r => r.kind === 'fetch').length <= 3, `${node.requests.length} requests`)
})

/** A sync whose peers hold nothing: records which peer each round asks, in order. */
function recordRounds(t: { after: (fn: () => void) => void }, peers: string[], interval: number): { sync: HistorySync; asked: string[] } {
  const history = createHistory<ChatMessage>({ compare: compareMessages, limit: 1_000 })
  const asked: string[] = []
  const sync = new HistorySync(
    {
      history,
      clock: createHybridClock(),
      verify: async messages => await Promise.resolve(messages.map(() => undefined)),
      store: async m => await Promise.resolve(history.add(m) >= 0),
      rooms: () => ['main'],
      roomPeers: () => [...peers],
      request: async (peerId, body) => {
        asked.push(peerId)
        const request = JSON.parse(JSON.stringify(body)) as { room: string }
        return await Promise.resolve(
          encodeSummaryResponse({
            kind: 'summary',
            summary: summarize(request.room, []),
            clock: { ts: Date.now(), lc: 0 },
            wall: Date.now()
          })
        )
      }
    },
    { interval, debounce: 0, peersPerTick: 2 }
  )
  t.after(() => {
    sync.stop()
  })
  sync.start()
  return { sync, asked }
}

void test('a periodic round asks the next few peers of a room in turn, not all of them', async t => {
  const { sync, asked } = recordRounds(t, ['peer-c', 'peer-a', 'peer-b'], 30)
  await waitUntil(() => asked.length >= 4, 'two periodic rounds')
  sync.stop()
  // Two peers a round, in a stable order, going on where the last round stopped.
  assert.deepEqual(asked.slice(0, 4), ['peer-a', 'peer-b', 'peer-c', 'peer-a'])
})

void test('a gap in an author’s messages asks that author when it is a peer, otherwise the next peers in turn', async t => {
  const { sync, asked } = recordRounds(t, ['peer-c', 'peer-a', 'peer-b'], 0)
  sync.syncGap('main', 'peer-b')
  await waitUntil(() => asked.length >= 1, 'the round with the author')
  sync.syncGap('main', 'someone-not-connected')
  await waitUntil(() => asked.length >= 3, 'the rounds with the next peers')
  assert.deepEqual(asked.slice(0, 3), ['peer-b', 'peer-a', 'peer-b'])
})
