import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatCursor, formatSseFrame, newEpoch, parseCursor } from '../../../src/api/sse.js'
import { parseFrames } from '../../api/sse-client.js'

void test('a frame carries id, event and one line of JSON data, ending with a blank line', () => {
  assert.equal(formatSseFrame({ id: 'a-1', event: 'message', data: { text: 'hi' } }), 'id: a-1\nevent: message\ndata: {"text":"hi"}\n\n')
})

void test('text with newlines and a forged frame stays inside one data line', () => {
  const frame = formatSseFrame({ id: 'a-2', event: 'message', data: { text: 'x\n\nevent: evil\ndata: {}\r\n' } })
  assert.equal(frame.split('\n').filter(l => l.startsWith('data:')).length, 1)
  const { frames, rest } = parseFrames(frame)
  assert.equal(rest, '')
  assert.deepEqual(frames, [{ id: 'a-2', event: 'message', data: { text: 'x\n\nevent: evil\ndata: {}\r\n' } }])
})

void test('ids and event names cannot break lines; comments and retry are framed', () => {
  assert.equal(formatSseFrame({ id: 'a\n-1', event: 'x\r\ny', data: 1 }), 'id: a-1\nevent: xy\ndata: 1\n\n')
  assert.equal(formatSseFrame({ comment: 'ping\nid: 9' }), ': ping id: 9\n\n')
  assert.equal(formatSseFrame({ retry: 1500.7 }), 'retry: 1500\n\n')
})

void test('cursors round-trip and anything else is unknown', () => {
  assert.deepEqual(parseCursor(formatCursor({ epoch: 'abc123', seq: 42 })), { epoch: 'abc123', seq: 42 })
  for (const bad of [undefined, null, '', '42', 'abc-', 'ABC-1', 'a-b', 'a-1-2', 'a'.repeat(17) + '-1', 'a-' + '9'.repeat(16)]) {
    assert.equal(parseCursor(bad), undefined, String(bad))
  }
})

void test('epochs differ between runs started in the same millisecond', () => {
  let r = 0
  const random = (): number => (r += 0.3) % 1
  assert.notEqual(newEpoch(1000, random), newEpoch(1000, random))
  assert.match(newEpoch(), /^[a-z0-9]+$/)
})
