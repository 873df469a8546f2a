import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BanList } from '../../../src/network/bans.js'
import { InvalidOptionError } from '../../../src/errors.js'

void test('a peer is banned once its invalid messages within the window reach the limit, and only for the ban duration', () => {
  let now = 1_000
  const bans = new BanList({ maxInvalid: 3, invalidWindow: 100, banDuration: 500, now: () => now })
  assert.equal(bans.penalise('a'), undefined)
  assert.equal(bans.penalise('a'), undefined)
  assert.equal(bans.isBanned('a'), false)
  assert.equal(bans.penalise('a'), 1_500)
  assert.equal(bans.isBanned('a'), true)
  assert.equal(bans.isBanned('b'), false)
  now = 1_499
  assert.equal(bans.isBanned('a'), true)
  now = 1_500
  assert.equal(bans.isBanned('a'), false)
})

void test('invalid messages older than the window do not count towards a ban', () => {
  let now = 0
  const bans = new BanList({ maxInvalid: 2, invalidWindow: 100, now: () => now })
  bans.penalise('a')
  now = 150
  assert.equal(bans.penalise('a'), undefined)
  assert.equal(bans.isBanned('a'), false)
  now = 160
  assert.notEqual(bans.penalise('a'), undefined)
})

void test('out-of-range options are refused at construction', () => {
  assert.throws(() => new BanList({ maxInvalid: 0 }), InvalidOptionError)
  assert.throws(() => new BanList({ banDuration: -1 }), InvalidOptionError)
})
