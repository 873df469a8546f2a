/**
 * Which of two connections between the same peers each end closes: both ends must pick the same
 * one from what they both see (directions relative to the two peer IDs).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { redundantConnections, type ConnectionFacts } from '../../../src/network/duplicates.js'

const HIGH = '12D3KooWZ'
const LOW = '12D3KooWA'

/** The same TCP connection as the other end sees it. */
function mirror(c: ConnectionFacts): ConnectionFacts {
  return { ...c, direction: c.direction === 'outbound' ? 'inbound' : 'outbound' }
}

void test('one connection is never closed', () => {
  assert.deepEqual(redundantConnections(HIGH, LOW, [{ id: 'a', direction: 'inbound', opened: 1 }]), [])
  assert.deepEqual(redundantConnections(LOW, HIGH, []), [])
})

void test('when both dialed, both ends close the connection the lower peer ID dialed', () => {
  // As the higher node sees them: its own dial (outbound) and the lower's (inbound).
  const atHigh: ConnectionFacts[] = [
    { id: 'by-high', direction: 'outbound', opened: 20 },
    { id: 'by-low', direction: 'inbound', opened: 10 }
  ]
  const atLow = atHigh.map(mirror)
  assert.deepEqual(redundantConnections(HIGH, LOW, atHigh), ['by-low'])
  assert.deepEqual(redundantConnections(LOW, HIGH, atLow), ['by-low'])
})

void test('extra connections dialed by one side are closed by that side only, keeping its oldest', () => {
  const atHigh: ConnectionFacts[] = [
    { id: 'late', direction: 'outbound', opened: 30 },
    { id: 'first', direction: 'outbound', opened: 10 }
  ]
  assert.deepEqual(redundantConnections(HIGH, LOW, atHigh), ['late'])
  assert.deepEqual(redundantConnections(LOW, HIGH, atHigh.map(mirror)), [], 'the lower end leaves them to the dialer')

  const atLow: ConnectionFacts[] = [
    { id: 'first', direction: 'outbound', opened: 10 },
    { id: 'late', direction: 'outbound', opened: 30 }
  ]
  assert.deepEqual(redundantConnections(LOW, HIGH, atLow), ['late'], 'only the lower dialed: it keeps its oldest')
  assert.deepEqual(redundantConnections(HIGH, LOW, atLow.map(mirror)), [])
})
