/**
 * chat.log recovery works on bytes: a line with bytes that are not UTF-8 (edited by hand) before a
 * torn tail must not shift where the file is cut.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChatLog } from '../../../src/store/chat-log.js'

void test('a torn tail after a line with invalid UTF-8 is cut exactly, and the bad line is kept and reported', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lan-chat-log-'))
  t.after(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  const path = join(dir, 'chat.log')
  const good = Buffer.from('{"n":1}\n')
  const bad = Buffer.concat([Buffer.from('{"n":'), Buffer.from([0xff, 0xfe]), Buffer.from('}\n')])
  const last = Buffer.from('{"n":3}\n')
  const torn = Buffer.concat([Buffer.from('{"n":"caf'), Buffer.from([0xc3])])
  await writeFile(path, Buffer.concat([good, bad, last, torn]))

  const log = createChatLog({ path, now: () => 42 })
  t.after(async () => {
    await log.close()
  })
  const { records, problems } = await log.load()
  assert.deepEqual(
    records.map(r => r.value),
    [{ n: 1 }, { n: 3 }]
  )
  assert.deepEqual(
    problems.map(p => [p.line, p.kind]),
    [
      [2, 'corrupt'],
      [4, 'torn']
    ]
  )
  assert.deepEqual(await readFile(path), Buffer.concat([good, bad, last]))
  assert.deepEqual(await readFile(`${path}.torn-42`), torn)
  await log.append({ n: 4 })
  assert.deepEqual(await readFile(path), Buffer.concat([good, bad, last, Buffer.from('{"n":4}\n')]))
})
