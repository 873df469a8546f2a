/**
 * Piped input into lines: split across chunks, CRLF, UTF-8 cut between chunks, and lines over the
 * limit counted and dropped without being held.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LineSplitter, MAX_INPUT_LINE_BYTES, type InputLine } from '../../../src/cli/line-splitter.js'
import { MAX_TEXT_BYTES } from '../../../src/rules.js'

const b = (s: string): Buffer => Buffer.from(s, 'utf8')
const texts = (lines: InputLine[]): Array<string | number> => lines.map(l => (l.kind === 'line' ? l.text : l.bytes))

void test('lines split at newlines, also across chunks; CRLF loses its CR; the last line without a newline comes at the end', () => {
  const s = new LineSplitter()
  assert.deepEqual(texts(s.push(b('one\ntw'))), ['one'])
  assert.deepEqual(texts(s.push(b('o\r\n\nthr'))), ['two', ''])
  assert.deepEqual(texts(s.push(b('ee'))), [])
  assert.deepEqual(texts(s.end()), ['three'])
  assert.deepEqual(s.end(), [], 'nothing left after the end')
})

void test('a UTF-8 character cut between two chunks is decoded whole', () => {
  const s = new LineSplitter()
  const bytes = b('héllo 👋\n')
  const lines = [...s.push(bytes.subarray(0, 2)), ...s.push(bytes.subarray(2, 8)), ...s.push(bytes.subarray(8))]
  assert.deepEqual(texts(lines), ['héllo 👋'])
})

void test('a line may have exactly the limit (and a CR); one byte more is overlong', () => {
  const s = new LineSplitter(10)
  assert.deepEqual(texts(s.push(b('a'.repeat(10) + '\n'))), ['a'.repeat(10)])
  assert.deepEqual(texts(s.push(b('a'.repeat(10) + '\r\n'))), ['a'.repeat(10)])
  assert.deepEqual(s.push(b('a'.repeat(11) + '\n')), [{ kind: 'overlong', bytes: 11 }])
  // The same, in pieces.
  assert.deepEqual(texts([...s.push(b('aaaaa')), ...s.push(b('aaaaa')), ...s.push(b('\r\n'))]), ['a'.repeat(10)])
  assert.deepEqual([...s.push(b('aaaaaa')), ...s.push(b('aaaaa')), ...s.push(b('\n'))], [{ kind: 'overlong', bytes: 11 }])
})

void test('a huge line without a newline is counted, not held, and the line after it arrives intact', () => {
  const s = new LineSplitter()
  const chunk = Buffer.alloc(64 * 1024, 0)
  let maxHeld = 0
  for (let i = 0; i < 160; i++) {
    assert.deepEqual(s.push(chunk), [])
    maxHeld = Math.max(maxHeld, s.held)
  }
  assert.ok(maxHeld <= MAX_INPUT_LINE_BYTES + 1, `held at most one line's limit (${maxHeld} bytes)`)
  assert.equal(s.held, 0, 'nothing held once the line is over the limit')
  assert.deepEqual(texts(s.push(b('\nhello\n'))), [160 * 64 * 1024, 'hello'])
  // And at the end of the input too.
  s.push(chunk)
  assert.deepEqual(s.end(), [{ kind: 'overlong', bytes: chunk.length }])
})

void test('the default limit leaves room for a command in front of a message at its limit', () => {
  assert.ok(MAX_INPUT_LINE_BYTES > MAX_TEXT_BYTES + '/msg '.length)
  assert.throws(() => new LineSplitter(0), /positive integer/)
})
