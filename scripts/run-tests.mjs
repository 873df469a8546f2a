#!/usr/bin/env node
// Runs the test files under the given folders (default: all of test/) with node's test runner,
// TypeScript through tsx, and the Promise.withResolvers polyfill loaded before anything else.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test']
const files = []
const walk = p => {
  let st
  try {
    st = statSync(p)
  } catch {
    return
  }
  if (st.isFile()) {
    if (p.endsWith('.test.ts')) files.push(p)
    return
  }
  for (const name of readdirSync(p).sort()) walk(join(p, name))
}
roots.forEach(walk)
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ')}`)
  process.exit(1)
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--import', './src/polyfills.ts', '--test', '--test-reporter=spec', ...files],
  { stdio: 'inherit' }
)
process.exit(result.status ?? 1)
