/** Parsing what the user types: messages, every command and its aliases, and mistakes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseInput, COMMAND_HELP } from '../../../src/cli/commands.js'

void test('plain text is a message, kept as typed', () => {
  assert.deepEqual(parseInput('hello there '), { kind: 'message', text: 'hello there ' })
  assert.deepEqual(parseInput('  a/b'), { kind: 'message', text: '  a/b' })
})

void test('blank lines are empty', () => {
  assert.deepEqual(parseInput(''), { kind: 'empty' })
  assert.deepEqual(parseInput('   '), { kind: 'empty' })
})

void test('a double slash sends a message that starts with a slash', () => {
  assert.deepEqual(parseInput('//shrug'), { kind: 'message', text: '/shrug' })
})

void test('every command and its aliases parse, case-insensitively', () => {
  assert.deepEqual(parseInput('/help'), { kind: 'help' })
  assert.deepEqual(parseInput('/?'), { kind: 'help' })
  assert.deepEqual(parseInput('/NICK Ada L'), { kind: 'nick', nick: 'Ada L' })
  assert.deepEqual(parseInput('/join #lab'), { kind: 'join', room: '#lab' })
  assert.deepEqual(parseInput('/leave'), { kind: 'leave' })
  assert.deepEqual(parseInput('/leave lab'), { kind: 'leave', room: 'lab' })
  assert.deepEqual(parseInput('/part lab'), { kind: 'leave', room: 'lab' })
  assert.deepEqual(parseInput('/room lab'), { kind: 'room', room: 'lab' })
  assert.deepEqual(parseInput('/switch lab'), { kind: 'room', room: 'lab' })
  assert.deepEqual(parseInput('/rooms'), { kind: 'rooms' })
  assert.deepEqual(parseInput('/peers'), { kind: 'peers' })
  assert.deepEqual(parseInput('/who'), { kind: 'peers' })
  for (const q of ['/quit', '/exit', '/q', '  /quit  ']) assert.deepEqual(parseInput(q), { kind: 'quit' })
})

void test('commands that need an argument say so', () => {
  for (const line of ['/nick', '/join', '/room', '/nick   ']) {
    const cmd = parseInput(line)
    assert.equal(cmd.kind, 'error', line)
  }
})

void test('an unknown command is an error naming it', () => {
  const cmd = parseInput('/frob x')
  assert.equal(cmd.kind, 'error')
  assert.match((cmd as { message: string }).message, /\/frob/)
})

void test('the help table lists every command', () => {
  const names = COMMAND_HELP.map(([c]) => c.split(' ')[0])
  for (const c of ['/help', '/nick', '/join', '/leave', '/room', '/rooms', '/peers', '/quit']) assert.ok(names.includes(c), c)
})
