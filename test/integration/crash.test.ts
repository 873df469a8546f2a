/**
 * chat.log under kill -9: the real program, killed without warning while it writes, 20 times in a
 * row on one data folder. Every message it acknowledged (printed as `[You] …`, which happens only
 * after the line is durably in chat.log) must be there after each restart, and it must always
 * restart. A torn last line is set aside and reported, never a reason to refuse to start.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startProgram, type Program } from '../helpers/program.js'
import { tempDataDir } from '../helpers/nodes.js'

const ROUNDS = 20
const MESSAGES_PER_ROUND = 40
const READY = /Type a message and press Enter/

function acknowledged(output: string): string[] {
  return [...output.matchAll(/\[You\] (crash r\d+ m\d+)/g)].map(m => m[1])
}

async function logTexts(dir: string): Promise<Set<string>> {
  const text = await readFile(join(dir, 'chat.log'), 'utf8')
  const texts = new Set<string>()
  for (const line of text.split('\n')) {
    try {
      texts.add((JSON.parse(line) as { text: string }).text)
    } catch {}
  }
  return texts
}

void test('kill -9 during writes, 20 times: every acknowledged message survives and the node always restarts', async t => {
  const dir = await tempDataDir(t)
  const args = ['--no-mdns', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--nick', 'crash']
  let current: Program | undefined
  t.after(async () => {
    await current?.stop('SIGKILL')
  })
  const acked: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const p = startProgram({ args })
    current = p
    await p.waitFor(READY, 30_000)
    assert.doesNotMatch(p.stderr(), /cannot start/)
    for (let i = 0; i < MESSAGES_PER_ROUND; i++) p.type(`crash r${round} m${i}`)
    // Kill at a different moment each round: after the first few acknowledgements, mid-stream.
    await p.waitFor(new RegExp(`\\[You\\] crash r${round} m${round % 8}\\b`), 30_000)
    p.proc.kill('SIGKILL')
    await p.exited
    acked.push(...acknowledged(p.output()))
    const stored = await logTexts(dir)
    const lost = acked.filter(text => !stored.has(text))
    assert.deepEqual(lost, [], `round ${round}: acknowledged but not in chat.log`)
  }
  t.diagnostic(`${acked.length} acknowledged messages over ${ROUNDS} kill -9 rounds, none lost`)

  // A write cut in the middle of a line (and of a character): set aside, reported, node starts.
  await appendFile(join(dir, 'chat.log'), Buffer.concat([Buffer.from('{"v":1,"id":"abc","text":"caf'), Buffer.from([0xc3])]))
  const p = startProgram({ args })
  current = p
  await p.waitFor(READY, 30_000)
  const report = await p.waitFor(/incomplete last line/, 10_000)
  assert.match(report, /chat\.log line \d+: .*saved to .*chat\.log\.torn-\d+/)
  assert.ok((await readdir(dir)).some(name => name.startsWith('chat.log.torn-')))
  p.type('after the torn line')
  await p.waitFor(/\[You\] after the torn line/, 30_000)
  assert.equal(await p.stop(), 0)
  const stored = await logTexts(dir)
  assert.ok(stored.has('after the torn line'))
  assert.deepEqual(
    acked.filter(text => !stored.has(text)),
    []
  )
  const lines = (await readFile(join(dir, 'chat.log'), 'utf8')).split('\n').filter(l => l !== '')
  for (const line of lines) JSON.parse(line)
})
