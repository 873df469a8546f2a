/**
 * The program's V8 flags live on its #! line (src/bin/lan-chat.ts explains why): the bundle must
 * keep them, and benchmark runs that start it through node must pass them on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { LAN_CHAT_BIN, ROOT, parseShebangNodeFlags, shebangNodeFlags } from '../../../bench/lib/systems.js'

void test('node flags are read from an env -S #! line, with or without variable assignments', () => {
  assert.deepEqual(parseShebangNodeFlags('#!/usr/bin/env -S node --max-semi-space-size=1'), ['--max-semi-space-size=1'])
  assert.deepEqual(parseShebangNodeFlags('#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --a --b=2'), ['--a', '--b=2'])
})

void test('a plain #! line, a non-flag argument or no #! line gives no flags', () => {
  assert.deepEqual(parseShebangNodeFlags('#!/usr/bin/env node'), [])
  assert.deepEqual(parseShebangNodeFlags('#!/usr/bin/env -S node script.js'), [])
  assert.deepEqual(parseShebangNodeFlags('import x from "y"'), [])
  assert.deepEqual(shebangNodeFlags(join(ROOT, 'no-such-file.mjs')), [])
})

void test('the installed program and its source carry the same #! flags, which cap the young generation', () => {
  const source = readFileSync(join(ROOT, 'src', 'bin', 'lan-chat.ts'), 'utf8').split('\n')[0]
  assert.ok(parseShebangNodeFlags(source).includes('--max-semi-space-size=1'))
  assert.deepEqual(shebangNodeFlags(LAN_CHAT_BIN), parseShebangNodeFlags(source))
})

void test('the bundle never calls localeCompare (it would map ICU collation data into every node)', () => {
  assert.ok(!readFileSync(LAN_CHAT_BIN, 'utf8').includes('localeCompare'))
})

void test('the bundle contains no WebAssembly (noise runs on node:crypto; its WebAssembly would cost every node 2 MB)', () => {
  assert.ok(!readFileSync(LAN_CHAT_BIN, 'utf8').includes('WebAssembly'))
})
