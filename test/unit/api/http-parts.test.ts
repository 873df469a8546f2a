import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRateLimiter } from '../../../src/api/rate-limit.js'
import { ROUTES, matchRoute, isApiPath } from '../../../src/api/routes.js'
import { errorAnswer, errorBody } from '../../../src/api/error-table.js'
import { isJsonContentType } from '../../../src/api/body.js'
import { HttpError, InvalidOptionError, InvalidRoomError, InvalidTextError, NotInRoomError, StorageError } from '../../../src/errors.js'

void test('the token bucket allows a burst, refuses with the wait, and refills with time', () => {
  let now = 0
  const limiter = createRateLimiter({ capacity: 2, refillPerSecond: 1, now: () => now })
  assert.equal(limiter.take('a'), 0)
  assert.equal(limiter.take('a'), 0)
  assert.equal(limiter.take('a'), 1)
  assert.equal(limiter.take('b'), 0, 'clients have their own buckets')
  now = 500
  assert.ok(Math.abs(limiter.take('a') - 0.5) < 1e-9)
  now = 1000
  assert.equal(limiter.take('a'), 0)
  assert.throws(() => createRateLimiter({ capacity: 0 }), InvalidOptionError)
  assert.throws(() => createRateLimiter({ refillPerSecond: 0 }), InvalidOptionError)
})

void test('the token bucket tracks a bounded number of clients', () => {
  const limiter = createRateLimiter({ capacity: 1, refillPerSecond: 0.001, maxClients: 2, now: () => 0 })
  limiter.take('a')
  limiter.take('b')
  limiter.take('c') // forgets a
  assert.equal(limiter.take('a'), 0)
})

void test('routes match with decoded parameters', () => {
  assert.equal(matchRoute(ROUTES, '/api/rooms/lab/peers')?.params.room, 'lab')
  assert.equal(matchRoute(ROUTES, '/api/rooms/%23lab')?.params.room, '#lab')
  assert.equal(matchRoute(ROUTES, '/messages')?.route.pattern, '/messages')
  assert.equal(matchRoute(ROUTES, '/api/rooms//peers'), undefined)
  assert.equal(matchRoute(ROUTES, '/api/nope'), undefined)
  assert.throws(() => matchRoute(ROUTES, '/api/rooms/%E0%A4%A'), HttpError)
  assert.ok(isApiPath('/api/x') && isApiPath('/messages') && !isApiPath('/app.js') && !isApiPath('/apix'))
})

void test('one table maps error classes to statuses and stable codes, never leaking unknown errors', () => {
  assert.deepEqual(errorBody(errorAnswer(new InvalidRoomError('room name must not be empty'))), {
    error: { code: 'invalid-room', message: 'room name must not be empty' }
  })
  assert.equal(errorAnswer(new InvalidTextError('x')).status, 400)
  const nir = errorAnswer(new NotInRoomError('you are not in #x (use /join x)'))
  assert.deepEqual([nir.status, nir.code, nir.message], [404, 'not-in-room', 'this node is not in that room'])
  assert.equal(errorAnswer(new StorageError('disk /secret/path full')).message, 'the message could not be saved to chat.log')
  assert.deepEqual(errorAnswer(new Error('/home/me/secret.ts:1')), {
    status: 500,
    code: 'internal',
    message: 'internal error',
    headers: {}
  })
  const h = errorAnswer(new HttpError(405, 'method-not-allowed', 'no', { Allow: 'GET' }))
  assert.deepEqual(h.headers, { Allow: 'GET' })
})

void test('only application/json bodies are accepted', () => {
  assert.ok(isJsonContentType('application/json'))
  assert.ok(isJsonContentType('Application/JSON; charset=UTF-8'))
  for (const t of [
    undefined,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'application/json; charset=latin1',
    'application/jsonx'
  ]) {
    assert.ok(!isJsonContentType(t), String(t))
  }
})
