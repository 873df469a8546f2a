/** In-memory history: ordered per room, deduplicated by ID, bounded, with per-author sequence. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHistory } from '../../../src/store/history.js'
import { InvalidOptionError } from '../../../src/errors.js'

interface Entry {
  id: string
  room: string
  from: string
  seq: number
  t: number
}

const byTime = (a: Entry, b: Entry): number => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

function e(id: string, t: number, room = 'main', from = 'p', seq = t): Entry {
  return { id, room, from, seq, t }
}

void test('messages come back in order whatever order they were added in', () => {
  const h = createHistory<Entry>({ compare: byTime, limit: 100 })
  for (const x of [e('c', 3), e('a', 1), e('d', 4), e('b', 2)]) h.add(x)
  assert.deepEqual(
    h.list('main').map(x => x.id),
    ['a', 'b', 'c', 'd']
  )
})

void test('adding returns the position, and -1 for a duplicate ID', () => {
  const h = createHistory<Entry>({ compare: byTime, limit: 100 })
  assert.equal(h.add(e('b', 2)), 0)
  assert.equal(h.add(e('a', 1)), 0)
  assert.equal(h.add(e('c', 3)), 2)
  assert.equal(h.add(e('b', 2)), -1)
  assert.equal(h.add({ ...e('a', 9) }), -1, 'same ID with other content is still a duplicate')
  assert.equal(h.size(), 3)
  assert.equal(h.size('main'), 3)
})

void test('rooms are kept apart', () => {
  const h = createHistory<Entry>({ compare: byTime, limit: 100 })
  h.add(e('a', 1, 'x'))
  h.add(e('b', 2, 'y'))
  assert.deepEqual(
    h.list('x').map(m => m.id),
    ['a']
  )
  assert.deepEqual(h.list('nowhere'), [])
  assert.deepEqual(h.rooms().sort(), ['x', 'y'])
})

void test('past the limit the oldest messages of that room are dropped and forgotten', () => {
  const h = createHistory<Entry>({ compare: byTime, limit: 2 })
  h.add(e('a', 1))
  h.add(e('b', 2))
  h.add(e('c', 3))
  h.add(e('z', 1, 'other'))
  assert.deepEqual(
    h.list('main').map(m => m.id),
    ['b', 'c']
  )
  assert.equal(h.has('a'), false)
  assert.equal(h.get('b')?.id, 'b')
  assert.equal(h.size('other'), 1)
})

void test('list returns the newest N, or the ones after a given ID', () => {
  const h = createHistory<Entry>({ compare: byTime, limit: 100 })
  for (let i = 1; i <= 5; i++) h.add(e(`m${i}`, i))
  assert.deepEqual(
    h.list('main', { limit: 2 }).map(m => m.id),
    ['m4', 'm5']
  )
  assert.deepEqual(
    h.list('main', { afterId: 'm2' }).map(m => m.id),
    ['m3', 'm4', 'm5']
  )
  assert.deepEqual(
    h.list('main', { afterId: 'm2', limit: 1 }).map(m => m.id),
    ['m3']
  )
})

void test('lastSeq is the highest sequence seen per author', () => {
  const h = createHistory<Entry>({ compare: byTime, limit: 100 })
  assert.equal(h.lastSeq('p'), 0)
  h.add(e('a', 1, 'main', 'p', 5))
  h.add(e('b', 2, 'main', 'p', 3))
  h.add(e('c', 3, 'main', 'q', 9))
  assert.equal(h.lastSeq('p'), 5)
  assert.equal(h.lastSeq('q'), 9)
})

void test('a limit below 1 is refused', () => {
  assert.throws(() => createHistory<Entry>({ compare: byTime, limit: 0 }), InvalidOptionError)
})
