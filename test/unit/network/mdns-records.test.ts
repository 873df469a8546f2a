import { test } from 'node:test'
import assert from 'node:assert/strict'
import dnsPacket from 'dns-packet'
import {
  buildQuery,
  buildResponse,
  DEFAULT_MAX_QUERY_BYTES,
  isLanAddress,
  knownAnswers,
  parseQuery,
  parseResponse,
  shouldAnswer,
  type HeldRecord
} from '../../../src/network/mdns-records.js'

const TAG = '_lanchat-lab._udp.local'
const ME = `aaaa.${TAG}`
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const ADDR = `/ip4/10.231.1.2/tcp/4100/p2p/${PEER}`

/** Through the real encoder and decoder, as a packet arrives from the LAN. */
const wire = (packet: dnsPacket.Packet): dnsPacket.DecodedPacket => dnsPacket.decode(dnsPacket.encode(packet))

void test('a response carries a PTR to the instance and a dnsaddr TXT per LAN address, and parses back to the peer', () => {
  const response = buildResponse(TAG, `bbbb.${TAG}`, [ADDR, `/ip4/8.8.8.8/tcp/4100/p2p/${PEER}`, '/ip4/10.231.1.2/tcp/4100'], 120)
  assert.deepEqual(
    response.answers.map(a => [a.type, a.name, 'data' in a ? a.data : undefined]),
    [
      ['PTR', TAG, `bbbb.${TAG}`],
      ['TXT', `bbbb.${TAG}`, `dnsaddr=${ADDR}`]
    ]
  )
  assert.deepEqual(parseResponse(wire(response), TAG, ME), [
    { instance: `bbbb.${TAG}`, ttl: 120, peerId: PEER, addrs: ['/ip4/10.231.1.2/tcp/4100'] }
  ])
})

void test('our own response, another service tag and a response without a peer ID give no peer', () => {
  assert.deepEqual(parseResponse(wire(buildResponse(TAG, ME, [ADDR])), TAG, ME), [])
  assert.deepEqual(parseResponse(wire(buildResponse('_other._udp.local', `bbbb._other._udp.local`, [ADDR])), TAG, ME), [])
  const noId = {
    type: 'response' as const,
    answers: [
      { name: TAG, type: 'PTR' as const, data: `bbbb.${TAG}` },
      { name: `bbbb.${TAG}`, type: 'TXT' as const, data: 'dnsaddr=/ip4/10.0.0.1/tcp/1' }
    ]
  }
  assert.deepEqual(parseResponse(wire(noId), TAG, ME), [])
})

void test('malformed packets are read as nothing, without throwing', () => {
  const bad: unknown[] = [
    null,
    undefined,
    42,
    'response',
    {},
    { answers: 'x', additionals: 7 },
    {
      answers: [
        null,
        1,
        'x',
        { type: 'PTR' },
        { type: 'PTR', name: TAG, data: 5 },
        { type: 'TXT', name: `x.${TAG}`, data: { not: 'text' } }
      ]
    },
    {
      answers: [
        { type: 'PTR', name: TAG, data: `x.${TAG}`, ttl: -1 },
        { type: 'TXT', name: `x.${TAG}`, data: [7, null, 'dnsaddr=/p2p/'] }
      ]
    },
    { questions: 'x' },
    { questions: [null, 3, { name: 5 }] }
  ]
  for (const packet of bad) {
    assert.deepEqual(parseResponse(packet, TAG, ME), [], JSON.stringify(packet))
    assert.equal(parseQuery(packet, TAG), undefined, JSON.stringify(packet))
  }
  // Random bytes never decode into a peer or a question (dns-packet throws first, or we find nothing).
  for (let i = 0; i < 200; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + (i % 60) }, (_, j) => (i * 31 + j * 17) % 256))
    let decoded: unknown
    try {
      decoded = dnsPacket.decode(bytes)
    } catch {
      continue
    }
    assert.deepEqual(parseResponse(decoded, TAG, ME), [])
  }
})

void test('a query lists held records with at least half their TTL left, freshest first, and none that expired', () => {
  const now = 1_000_000
  const held: HeldRecord[] = [
    { instance: `half.${TAG}`, ttl: 120, expiresAt: now + 60_000 },
    { instance: `fresh.${TAG}`, ttl: 120, expiresAt: now + 119_000 },
    { instance: `stale.${TAG}`, ttl: 120, expiresAt: now + 59_000 },
    { instance: `gone.${TAG}`, ttl: 120, expiresAt: now - 1 }
  ]
  assert.deepEqual(knownAnswers(held, now), [
    { instance: `fresh.${TAG}`, ttl: 119 },
    { instance: `half.${TAG}`, ttl: 60 }
  ])
  const query = wire(buildQuery(TAG, knownAnswers(held, now)))
  assert.deepEqual(
    parseQuery(query, TAG)?.known,
    new Map([
      [`fresh.${TAG}`, 119],
      [`half.${TAG}`, 60]
    ])
  )
})

void test('a responder stays silent only when the query lists it with at least half its TTL left', () => {
  const ask = (known: Array<{ instance: string; ttl: number }>): ReturnType<typeof parseQuery> =>
    parseQuery(wire(buildQuery(TAG, known)), TAG)
  const q = (known: Array<{ instance: string; ttl: number }>): NonNullable<ReturnType<typeof parseQuery>> => {
    const parsed = ask(known)
    assert.ok(parsed != null)
    return parsed
  }
  assert.equal(shouldAnswer(q([]), ME, 120), true, 'a new node lists nobody: everyone answers')
  assert.equal(shouldAnswer(q([{ instance: `other.${TAG}`, ttl: 120 }]), ME, 120), true, 'listing others does not silence us')
  assert.equal(shouldAnswer(q([{ instance: ME, ttl: 60 }]), ME, 120), false, 'half the TTL left: silent')
  assert.equal(shouldAnswer(q([{ instance: ME, ttl: 59 }]), ME, 120), true, 'less than half left: answer, refreshing it')
  assert.equal(shouldAnswer(q([{ instance: ME.toUpperCase(), ttl: 100 }]), ME, 120), false, 'names compare without case')
  assert.equal(parseQuery(wire({ type: 'query', questions: [{ name: '_other._udp.local', type: 'PTR' }] }), TAG), undefined)
  assert.notEqual(parseQuery({ type: 'query', questions: [{ name: TAG, type: 'ANY' }] }, TAG), undefined)
})

void test('a query with more known answers than fit in one datagram lists as many as fit', () => {
  const now = 0
  const held: HeldRecord[] = Array.from({ length: 500 }, (_, i) => ({
    instance: `${'p'.repeat(32)}${String(i).padStart(4, '0')}.${TAG}`,
    ttl: 120,
    expiresAt: now + 120_000 - i * 10
  }))
  const query = buildQuery(TAG, knownAnswers(held, now))
  const bytes = dnsPacket.encode(query).length
  assert.ok(bytes <= DEFAULT_MAX_QUERY_BYTES, `${bytes} bytes`)
  assert.ok(query.answers.length > 50 && query.answers.length < 500, `${query.answers.length} listed`)
  // The size is counted exactly as the encoder writes it: a byte less fits one record less.
  assert.equal(buildQuery(TAG, knownAnswers(held, now), bytes).answers.length, query.answers.length)
  assert.equal(buildQuery(TAG, knownAnswers(held, now), bytes - 1).answers.length, query.answers.length - 1)
  assert.equal(buildQuery(TAG, knownAnswers(held, now), 1_000_000).answers.length, 500)
})

void test('only private, loopback and link-local IP addresses are announced', () => {
  for (const a of [
    '/ip4/10.1.2.3/tcp/1',
    '/ip4/192.168.0.9/tcp/1',
    '/ip4/172.20.0.1/tcp/1',
    '/ip4/127.0.0.1/tcp/1',
    '/ip4/169.254.1.1/tcp/1',
    '/ip6/fe80::1/tcp/1',
    '/ip6/fd00::2/tcp/1',
    '/ip6/::1/tcp/1'
  ]) {
    assert.equal(isLanAddress(a), true, a)
  }
  for (const a of [
    '/ip4/8.8.8.8/tcp/1',
    '/ip4/172.32.0.1/tcp/1',
    '/ip6/2001:db8::1/tcp/1',
    '/dns4/example.com/tcp/1',
    '/ip4/999.1.1.1/tcp/1',
    'garbage'
  ]) {
    assert.equal(isLanAddress(a), false, a)
  }
})
