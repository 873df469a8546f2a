import { test } from 'node:test'
import assert from 'node:assert/strict'
import { corsHeaders, isAllowedHost, isLoopbackHostname, judgeOrigin, parseHostHeader } from '../../../src/api/guard.js'

void test('loopback host names are localhost, 127.0.0.0/8 and ::1', () => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) assert.ok(isLoopbackHostname(h), h)
  for (const h of ['localhost.evil.com', '128.0.0.1', '0.0.0.0', '10.0.0.1', 'evil.com', '127.0.0.1.nip.io', '::2']) {
    assert.ok(!isLoopbackHostname(h), h)
  }
})

void test('Host headers: loopback accepted, names refused, IP literals only when remote is allowed', () => {
  assert.deepEqual(parseHostHeader('[::1]:3001'), { hostname: '[::1]', port: 3001 })
  assert.equal(parseHostHeader('a b'), undefined)
  assert.ok(isAllowedHost('127.0.0.1:3001'))
  assert.ok(isAllowedHost('localhost'))
  assert.ok(!isAllowedHost(undefined))
  assert.ok(!isAllowedHost('evil.example:3001'))
  assert.ok(!isAllowedHost('192.168.1.4:3001'))
  assert.ok(isAllowedHost('192.168.1.4:3001', true))
  assert.ok(isAllowedHost('[fe80::1]:3001', true))
  assert.ok(!isAllowedHost('evil.example:3001', true))
})

void test('Origins: own and loopback allowed, others and null forbidden', () => {
  assert.equal(judgeOrigin(undefined, '127.0.0.1:3001'), 'none')
  assert.equal(judgeOrigin('http://127.0.0.1:3001', '127.0.0.1:3001'), 'same')
  assert.equal(judgeOrigin('http://192.168.1.4:3001', '192.168.1.4:3001'), 'same')
  assert.equal(judgeOrigin('http://localhost:8080', '127.0.0.1:3001'), 'loopback')
  assert.equal(judgeOrigin('http://[::1]:8080', '127.0.0.1:3001'), 'loopback')
  for (const o of [
    'null',
    'http://evil.example',
    'file://',
    'http://localhost.evil.example',
    'ftp://localhost',
    'http://localhost:8080/path',
    'garbage'
  ]) {
    assert.equal(judgeOrigin(o, '127.0.0.1:3001'), 'forbidden', o)
  }
})

void test('CORS grants exactly the given origin and varies on Origin', () => {
  const h = corsHeaders('http://localhost:8080', true)
  assert.equal(h['Access-Control-Allow-Origin'], 'http://localhost:8080')
  assert.equal(h.Vary, 'Origin')
  assert.ok(h['Access-Control-Allow-Methods'].includes('POST'))
  assert.equal(corsHeaders('http://localhost:8080', false)['Access-Control-Allow-Methods'], undefined)
})
