/** The hybrid logical clock: never goes back, counts within a millisecond, follows remote time. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHybridClock } from '../../../src/chat/clock.js'

void test('ticks follow the wall clock when it moves forward', () => {
  let now = 1000
  const clock = createHybridClock({ now: () => now })
  assert.deepEqual(clock.tick(), { ts: 1000, lc: 0 })
  now = 2000
  assert.deepEqual(clock.tick(), { ts: 2000, lc: 0 })
})

void test('ticks within the same millisecond, or when the wall clock goes back, count up', () => {
  let now = 1000
  const clock = createHybridClock({ now: () => now })
  clock.tick()
  assert.deepEqual(clock.tick(), { ts: 1000, lc: 1 })
  now = 500
  assert.deepEqual(clock.tick(), { ts: 1000, lc: 2 })
})

void test('a later remote timestamp moves the clock so the next tick sorts after it', () => {
  const clock = createHybridClock({ now: () => 1000 })
  clock.observe({ ts: 5000, lc: 3 })
  assert.deepEqual(clock.peek(), { ts: 5000, lc: 3 })
  assert.deepEqual(clock.tick(), { ts: 5000, lc: 4 })
})

void test('an earlier remote timestamp changes nothing', () => {
  const clock = createHybridClock({ now: () => 1000 })
  clock.tick()
  clock.observe({ ts: 10, lc: 99 })
  clock.observe({ ts: 1000, lc: 0 })
  assert.deepEqual(clock.peek(), { ts: 1000, lc: 0 })
})
