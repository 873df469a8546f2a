/** What a nick, a room and message text may be: the rules shared by flags, terminal and network. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  normalizeNick,
  normalizeRoom,
  normalizeText,
  checkText,
  isValidNick,
  isValidRoom,
  MAX_NICK_LENGTH,
  MAX_ROOM_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_TEXT_BYTES
} from '../../src/rules.js'
import { InvalidNickError, InvalidRoomError, InvalidTextError } from '../../src/errors.js'

void test('a nick is trimmed and NFC-normalised', () => {
  assert.equal(normalizeNick('  ada  '), 'ada')
  assert.equal(normalizeNick('e\u0301'), '\u00e9')
})

void test('a nick may be up to the limit in characters, counting emoji as one', () => {
  assert.equal(normalizeNick('x'.repeat(MAX_NICK_LENGTH)), 'x'.repeat(MAX_NICK_LENGTH))
  assert.equal(normalizeNick('😀'.repeat(MAX_NICK_LENGTH)).length, MAX_NICK_LENGTH * 2)
  assert.throws(() => normalizeNick('x'.repeat(MAX_NICK_LENGTH + 1)), InvalidNickError)
})

void test('an empty nick or one with control or bidi characters is refused', () => {
  for (const bad of ['', '   ', 'a\u0000b', 'a\u001bb', 'a\u0007', 'a\u009bb', 'a\u202eb', 'a\u2066b', 'a\nb', 'a\u007f']) {
    assert.throws(() => normalizeNick(bad), InvalidNickError, JSON.stringify(bad))
    assert.equal(isValidNick(bad), false)
  }
  assert.equal(isValidNick('Ada Lovelace'), true)
  assert.equal(isValidNick(' padded '), false, 'a nick on the wire must already be normalised')
})

void test('a room name loses its # and is lower-cased', () => {
  assert.equal(normalizeRoom('#Lab'), 'lab')
  assert.equal(normalizeRoom(' main '), 'main')
  assert.equal(normalizeRoom('a-b_9'), 'a-b_9')
})

void test('bad room names are refused', () => {
  for (const bad of ['', '#', '-x', '_x', 'a b', 'a/b', 'ä', 'x'.repeat(MAX_ROOM_LENGTH + 1)]) {
    assert.throws(() => normalizeRoom(bad), InvalidRoomError, JSON.stringify(bad))
  }
  assert.equal(isValidRoom('Main'), false, 'a room on the wire must already be normalised')
  assert.equal(isValidRoom('x'.repeat(MAX_ROOM_LENGTH)), true)
})

void test('text keeps newlines, unifies line endings and trims the end', () => {
  assert.equal(normalizeText('a\r\nb\rc  \n'), 'a\nb\nc')
  assert.equal(normalizeText('  indented'), '  indented')
})

void test('text that is empty, too long, too many bytes or has control characters is refused', () => {
  assert.throws(() => normalizeText('  \n '), InvalidTextError)
  assert.throws(() => checkText('x'.repeat(MAX_TEXT_LENGTH + 1)), InvalidTextError)
  checkText('x'.repeat(MAX_TEXT_LENGTH))
  // The longest text of 4-byte characters still fits the byte limit (which is a backstop).
  const emoji = '😀'.repeat(MAX_TEXT_LENGTH)
  assert.ok(Buffer.byteLength(emoji) <= MAX_TEXT_BYTES)
  checkText(emoji)
  assert.throws(() => checkText(emoji + '😀'), InvalidTextError)
  for (const bad of ['a\u001b[2J', 'bell\u0007', 'tab\there', 'c1\u0085', 'bidi\u202e', 'del\u007f']) {
    assert.throws(() => checkText(bad), InvalidTextError, JSON.stringify(bad))
  }
  checkText('two\nlines')
})
