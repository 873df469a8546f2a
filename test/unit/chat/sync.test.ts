/** History sync, pure part: summaries stay small, wants are exact, batches respect their limits. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  countGaps,
  countHeld,
  countWanted,
  decodeSummaryResponse,
  decodeSyncRequest,
  encodeSummaryResponse,
  encodeSyncRequest,
  selectForFetch,
  subtractRanges,
  summarize,
  toRanges,
  wantsFrom,
  withHeld
} from '../../../src/chat/sync.js'
import { InvalidMessageError } from '../../../src/errors.js'
import { createAuthor } from '../../helpers/signed.js'

const A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'

void test('sequence numbers become merged ranges', () => {
  assert.deepEqual(toRanges([5, 1, 2, 3, 7, 8, 3]), [
    [1, 3],
    [5, 5],
    [7, 8]
  ])
})

void test('subtracting ranges leaves exactly the uncovered parts', () => {
  assert.deepEqual(
    subtractRanges(
      [
        [1, 10],
        [20, 30]
      ],
      [
        [3, 4],
        [8, 22],
        [25, 25]
      ]
    ),
    [
      [1, 2],
      [5, 7],
      [23, 24],
      [26, 30]
    ]
  )
  assert.deepEqual(subtractRanges([[1, 5]], []), [[1, 5]])
  assert.deepEqual(subtractRanges([[1, 5]], [[1, 5]]), [])
})

void test('a summary of 20,000 messages from 20 authors stays under 2 KiB on the wire', () => {
  const authors = Array.from({ length: 20 }, (_, i) => `12D3KooW${String(i).padStart(2, '0')}${'x'.repeat(44)}`)
  const messages = Array.from({ length: 20_000 }, (_, i) => ({ from: authors[i % 20], seq: Math.floor(i / 20) + 1 }))
  const wire = JSON.stringify(
    encodeSummaryResponse({ kind: 'summary', summary: summarize('main', messages), clock: { ts: 1, lc: 0 }, wall: 1 })
  )
  assert.ok(wire.length < 2048, `summary is ${wire.length} bytes`)
})

void test('wants are what the peer holds and this node does not; gaps count the holes', () => {
  const mine = summarize(
    'main',
    [1, 2, 5, 6].map(seq => ({ from: A, seq }))
  )
  const theirs = summarize('main', [...[1, 2, 3, 4, 5, 6, 7].map(seq => ({ from: A, seq })), ...[1, 2].map(seq => ({ from: B, seq }))])
  const wants = wantsFrom(mine, theirs)
  assert.deepEqual(wants, [
    { author: A, from: 3, to: 4 },
    { author: A, from: 7, to: 7 },
    { author: B, from: 1, to: 2 }
  ])
  assert.equal(countWanted(wants), 5)
  assert.equal(countGaps(mine), 2)
  assert.deepEqual(wantsFrom(theirs, mine), [])
})

void test('a fetch returns the wanted messages in room order and stops at the batch limits', async () => {
  const author = await createAuthor('ada')
  const room = Array.from({ length: 10 }, () => author.message())
  const all = selectForFetch(room, { want: [{ author: author.peerId, from: 3, to: 8 }] }, { maxMessages: 100, maxBytes: 1e6 }, () => 100)
  assert.deepEqual(
    all.messages.map(m => m.seq),
    [3, 4, 5, 6, 7, 8]
  )
  assert.equal(all.more, false)
  const few = selectForFetch(room, { want: [{ author: author.peerId, from: 1, to: 10 }] }, { maxMessages: 4, maxBytes: 1e6 }, () => 100)
  assert.equal(few.messages.length, 4)
  assert.equal(few.more, true)
  const small = selectForFetch(room, { want: [{ author: author.peerId, from: 1, to: 10 }] }, { maxMessages: 100, maxBytes: 250 }, () => 100)
  assert.equal(small.messages.length, 2)
  assert.equal(small.more, true)
  const after = selectForFetch(
    room,
    { want: [{ author: author.peerId, from: 1, to: 10 }], since: room[6] },
    { maxMessages: 100, maxBytes: 1e6 },
    () => 1
  )
  assert.deepEqual(
    after.messages.map(m => m.seq),
    [8, 9, 10]
  )
})

void test('requests and summaries survive the wire, and malformed ones are refused', () => {
  const req = { kind: 'fetch' as const, room: 'main', want: [{ author: A, from: 1, to: 3 }], since: { ts: 5, lc: 0, id: 'a'.repeat(32) } }
  assert.deepEqual(decodeSyncRequest(JSON.parse(JSON.stringify(encodeSyncRequest(req)))), req)
  const summary = summarize('main', [{ from: A, seq: 1 }])
  const back = decodeSummaryResponse(
    JSON.parse(JSON.stringify(encodeSummaryResponse({ kind: 'summary', summary, clock: { ts: 2, lc: 1 }, wall: 3 }))),
    'main'
  )
  assert.deepEqual([...back.summary.authors], [[A, [[1, 1]]]])
  for (const bad of [
    null,
    { kind: 'fetch', room: 'main', want: [[A, 3, 1]] },
    { kind: 'fetch', room: 'main', want: [['not-a-peer', 1, 1]] },
    { kind: 'fetch', room: 'BAD ROOM', want: [] },
    { kind: 'fetch', room: 'main', want: Array.from({ length: 513 }, () => [A, 1, 1]) },
    { kind: 'other', room: 'main' }
  ])
    assert.throws(() => decodeSyncRequest(bad), InvalidMessageError)
  assert.throws(
    () => decodeSummaryResponse({ kind: 'summary', room: 'other', authors: [], clock: { ts: 1, lc: 0 }, wall: 1 }, 'main'),
    InvalidMessageError
  )
})

void test('what a batch claims counts as held for the next fetch, without changing the summary it came from', () => {
  const mine = summarize('main', [
    { from: A, seq: 1 },
    { from: A, seq: 2 }
  ])
  const theirs = summarize('main', Array.from({ length: 10 }, (_, i) => ({ from: A, seq: i + 1 })).concat([{ from: B, seq: 1 }]))
  const asked = withHeld(mine, [
    { from: A, seq: 3 },
    { from: A, seq: 4 },
    { from: A, seq: 7 },
    { from: B, seq: 1 }
  ])
  assert.deepEqual(asked.authors.get(A), [
    [1, 4],
    [7, 7]
  ])
  assert.deepEqual(wantsFrom(asked, theirs), [
    { author: A, from: 5, to: 6 },
    { author: A, from: 8, to: 10 }
  ])
  assert.equal(countHeld(asked), 6)
  assert.equal(countHeld(mine), 2)
  assert.deepEqual(mine.authors.get(A), [[1, 2]])
})
