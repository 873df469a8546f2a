/** The idle collector: one full GC once the heap has grown and gone quiet; none while it grows. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IdleGc, compactingGc } from '../../src/idle-gc.js'
import { InvalidOptionError } from '../../src/errors.js'
import { waitUntil } from '../helpers/wait.js'

const MB = 1024 * 1024

/** A heap whose size the test sets; a collection shrinks it to `live`. */
function fakeHeap(): { used: number; live: number; gcs: number; gc: () => void; heapUsed: () => number } {
  const h = {
    used: 10 * MB,
    live: 8 * MB,
    gcs: 0,
    gc: () => {
      h.gcs++
      h.used = h.live
    },
    heapUsed: () => h.used
  }
  return h
}

void test('collects once the heap has grown and stopped growing, then not again until it grows again', () => {
  const heap = fakeHeap()
  const idle = new IdleGc({ gc: heap.gc, heapUsed: heap.heapUsed, growth: 2 * MB, quiet: 256 * 1024 })
  idle.look() // first look: nothing to compare with yet
  assert.equal(heap.gcs, 0)
  heap.used += 1 * MB // still growing (start-up)
  idle.look()
  assert.equal(heap.gcs, 0, 'not while the heap grows')
  idle.look() // quiet now, and 11 MB since nothing was collected
  assert.equal(heap.gcs, 1)
  assert.equal(heap.used, 8 * MB)
  for (let i = 0; i < 5; i++) idle.look()
  assert.equal(heap.gcs, 1, 'quiet and no new growth: no more collections')
  heap.used += 1 * MB // a little traffic: below the growth worth a collection
  idle.look()
  idle.look()
  assert.equal(heap.gcs, 1)
  heap.live = 9 * MB
  heap.used += 2 * MB // a burst
  idle.look()
  assert.equal(heap.gcs, 1, 'not during the burst')
  idle.look()
  assert.equal(heap.gcs, 2, 'once it is over')
  assert.equal(idle.count, 2)
})

void test('not while messages flow, even when the heap hardly grows between looks', () => {
  const heap = fakeHeap()
  let messages = 0
  const idle = new IdleGc({ gc: heap.gc, heapUsed: heap.heapUsed, activity: () => messages, growth: 2 * MB, quiet: 256 * 1024 })
  idle.look()
  for (let i = 0; i < 5; i++) {
    messages += 40 // a conversation: the heap grows by less than `quiet` per look
    heap.used += 100 * 1024
    idle.look()
  }
  assert.equal(heap.gcs, 0, 'no collection in the middle of a conversation')
  idle.look() // no message since the last look
  assert.equal(heap.gcs, 1, 'once it has paused')
})

void test('without gc() (node run without --expose-gc) it never looks', async t => {
  let looks = 0
  const idle = new IdleGc({
    heapUsed: () => {
      looks++
      return 100 * MB
    },
    interval: 1
  })
  t.after(() => {
    idle.stop()
  })
  idle.start()
  idle.look()
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(looks, 0)
  assert.equal(idle.count, 0)
})

void test('started, it looks on its own every interval; stopped, it does not', async t => {
  const heap = fakeHeap()
  const idle = new IdleGc({ gc: heap.gc, heapUsed: heap.heapUsed, interval: 2 })
  t.after(() => {
    idle.stop()
  })
  idle.start()
  await waitUntil(() => heap.gcs === 1, 'the start-up garbage collected')
  idle.stop()
  heap.used = 100 * MB
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(heap.gcs, 1)
})

void test('timings and sizes that make no sense are refused', () => {
  assert.throws(() => new IdleGc({ interval: 0 }), InvalidOptionError)
  assert.throws(() => new IdleGc({ growth: 0 }), InvalidOptionError)
  assert.throws(() => new IdleGc({ quiet: -1 }), InvalidOptionError)
})

void test('compactingGc wraps a gc() and calls it once per call; no gc() stays none', () => {
  let calls = 0
  const gc = compactingGc(() => {
    calls++
  })
  assert.ok(gc != null)
  gc()
  gc()
  assert.equal(calls, 2)
  assert.equal(compactingGc(undefined), undefined)
})

void test('compactingGc passes on an error thrown by gc()', () => {
  const gc = compactingGc(() => {
    throw new Error('boom')
  })
  assert.throws(() => gc?.(), /boom/)
})
