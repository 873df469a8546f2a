/** The message format: encode/decode round trip and every reason a message is refused. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  decodeMessage,
  encodeMessage,
  checkShape,
  canonicalBytes,
  messageId,
  compareMessages,
  MAX_MESSAGE_BYTES
} from '../../../src/chat/message.js'
import { InvalidMessageError } from '../../../src/errors.js'
import { createAuthor, tampered } from '../../helpers/signed.js'

const author = await createAuthor('ada')

function reasonOf(bytes: Uint8Array): string {
  try {
    decodeMessage(bytes)
  } catch (err) {
    assert.ok(err instanceof InvalidMessageError, `expected InvalidMessageError, got ${String(err)}`)
    return err.reason
  }
  return 'accepted'
}

void test('a message survives encode and decode unchanged', () => {
  const m = author.message({ text: 'hi\nthere ✓ 😀' })
  const back = decodeMessage(encodeMessage(m))
  assert.deepEqual(back, m)
})

void test('encoding uses a fixed key order', () => {
  const m = author.message()
  const shuffled = { sig: m.sig, seq: m.seq, lc: m.lc, ts: m.ts, text: m.text, nick: m.nick, from: m.from, room: m.room, id: m.id, v: m.v }
  const json = Buffer.from(encodeMessage(shuffled)).toString('utf8')
  assert.deepEqual(Object.keys(JSON.parse(json)), ['v', 'id', 'room', 'from', 'nick', 'text', 'ts', 'lc', 'seq', 'sig'])
})

void test('the ID is derived from the canonical bytes', () => {
  const m = author.message()
  assert.equal(m.id, messageId(canonicalBytes(m)))
  assert.match(m.id, /^[0-9a-f]{32}$/)
})

void test('a message over the size limit is too-large', () => {
  const bytes = Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)
  assert.equal(reasonOf(bytes), 'too-large')
})

void test('bytes that are not JSON, or JSON that is not an object, are malformed', () => {
  assert.equal(reasonOf(Buffer.from('{not json')), 'malformed')
  assert.equal(reasonOf(Buffer.from('')), 'malformed')
  assert.equal(reasonOf(Buffer.from('[1,2]')), 'malformed')
  assert.equal(reasonOf(Buffer.from('null')), 'malformed')
  assert.equal(reasonOf(Buffer.from('"text"')), 'malformed')
})

void test('a missing or an extra field makes the message malformed', () => {
  const m = author.message()
  for (const field of ['v', 'id', 'room', 'from', 'nick', 'text', 'ts', 'lc', 'seq', 'sig']) {
    assert.equal(reasonOf(tampered(m, { [field]: undefined })), 'malformed', `without ${field}`)
  }
  assert.equal(reasonOf(tampered(m, { extra: 1 })), 'malformed')
})

void test('each bad field is refused with its own reason', () => {
  const m = author.message()
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ v: 2 }, 'unsupported-version'],
    [{ room: 'Bad Room' }, 'bad-room'],
    [{ room: 7 }, 'bad-room'],
    [{ from: 'not-a-peer-id' }, 'bad-author'],
    [{ nick: 'evil\u001b[31m' }, 'bad-nick'],
    [{ nick: 'bell\u0007' }, 'bad-nick'],
    [{ nick: 'rtl\u202e' }, 'bad-nick'],
    [{ nick: '' }, 'bad-nick'],
    [{ text: 42 }, 'bad-text'],
    [{ text: '' }, 'bad-text'],
    [{ text: 'clear\u001b[2J' }, 'bad-text'],
    [{ text: 'x'.repeat(4001) }, 'bad-text'],
    [{ ts: -1 }, 'bad-time'],
    [{ ts: 1.5 }, 'bad-time'],
    [{ ts: '1' }, 'bad-time'],
    [{ lc: -1 }, 'bad-time'],
    [{ seq: 0 }, 'bad-seq'],
    [{ seq: 2 ** 60 }, 'bad-seq'],
    [{ sig: 'short' }, 'bad-signature'],
    [{ sig: 5 }, 'bad-signature'],
    [{ id: 5 }, 'bad-id']
  ]
  for (const [change, reason] of cases) assert.equal(reasonOf(tampered(m, change)), reason, JSON.stringify(change))
})

void test('altering any signed field without a new ID is bad-id', () => {
  const m = author.message()
  const other = author.message()
  const cases: Array<Record<string, unknown>> = [
    { room: 'other' },
    { from: other.from === m.from ? '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN' : other.from },
    { nick: 'mallory' },
    { text: 'changed' },
    { ts: m.ts + 1 },
    { lc: m.lc + 1 },
    { seq: m.seq + 1 },
    { id: other.id }
  ]
  for (const change of cases) assert.equal(reasonOf(tampered(m, change)), 'bad-id', JSON.stringify(change))
})

void test('checkShape accepts a parsed message and refuses a non-object', () => {
  const m = author.message()
  assert.deepEqual(checkShape(JSON.parse(JSON.stringify(m))), m)
  assert.throws(() => checkShape('x'), InvalidMessageError)
})

void test('messages are ordered by time, then logical counter, then ID', () => {
  const a = { ts: 1, lc: 0, id: 'b' }
  const b = { ts: 1, lc: 1, id: 'a' }
  const c = { ts: 2, lc: 0, id: 'a' }
  const d = { ts: 2, lc: 0, id: 'c' }
  assert.deepEqual([d, c, b, a].sort(compareMessages), [a, b, c, d])
  assert.equal(compareMessages(a, a), 0)
})
