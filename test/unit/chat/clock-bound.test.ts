/** The hybrid clock follows remote time only up to its bound past the local wall clock. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHybridClock, DEFAULT_MAX_CLOCK_AHEAD } from '../../../src/chat/clock.js'

void test('a remote timestamp within the bound is followed, so the next tick sorts after it', () => {
  const clock = createHybridClock({ now: () => 1_000_000 })
  clock.observe({ ts: 1_000_000 + DEFAULT_MAX_CLOCK_AHEAD - 1, lc: 4 })
  assert.deepEqual(clock.tick(), { ts: 1_000_000 + DEFAULT_MAX_CLOCK_AHEAD - 1, lc: 5 })
})

void test('a remote timestamp far in the future moves the clock only to the bound', () => {
  const clock = createHybridClock({ now: () => 1_000_000, maxAhead: 60_000 })
  clock.observe({ ts: 9_000_000_000, lc: 0 })
  assert.deepEqual(clock.peek(), { ts: 1_060_000, lc: 0 })
  assert.deepEqual(clock.tick(), { ts: 1_060_000, lc: 1 })
})
