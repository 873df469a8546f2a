/** chat.log on real temporary files: durable appends, torn-tail recovery, corrupt lines named. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createChatLog } from '../../../src/store/chat-log.js'
import { StorageError } from '../../../src/errors.js'
import { tempDir } from '../../helpers/temp-dir.js'
import { loadedLog } from '../../helpers/chat-log.js'

void test('an append is in the file when it resolves, and loads again', async t => {
  const dir = await tempDir(t, 'lan-chat-log-')
  const path = join(dir, 'chat.log')
  const log = createChatLog({ path })
  t.after(async () => {
    await log.close()
  })
  const first = await log.load()
  assert.deepEqual(first, { records: [], problems: [] })
  await log.append({ n: 1 })
  assert.equal(await readFile(path, 'utf8'), '{"n":1}\n')
  await log.close()
  const again = createChatLog({ path })
  const { records, problems } = await again.load()
  await again.close()
  assert.deepEqual(records, [{ line: 1, value: { n: 1 } }])
  assert.deepEqual(problems, [])
})

void test('many appends at once all land, in order, one line each', async t => {
  const { log, path } = await loadedLog(t)
  await Promise.all(Array.from({ length: 200 }, async (_, i) => await log.append({ i })))
  await log.flush()
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
  assert.deepEqual(
    lines.map(l => (JSON.parse(l) as { i: number }).i),
    Array.from({ length: 200 }, (_, i) => i)
  )
})

void test('a torn last line is set aside, reported, and cut from the file', async t => {
  const dir = await tempDir(t, 'lan-chat-log-')
  const path = join(dir, 'chat.log')
  await writeFile(path, '{"n":1}\n{"n":2}\n{"n":3,"te')
  const log = createChatLog({ path, now: () => 42 })
  t.after(async () => {
    await log.close()
  })
  const { records, problems } = await log.load()
  assert.deepEqual(
    records.map(r => r.value),
    [{ n: 1 }, { n: 2 }]
  )
  assert.equal(problems.length, 1)
  assert.equal(problems[0].kind, 'torn')
  assert.equal(problems[0].line, 3)
  assert.equal(problems[0].savedTo, `${path}.torn-42`)
  assert.equal(await readFile(`${path}.torn-42`, 'utf8'), '{"n":3,"te')
  assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n')
})

void test('after torn-tail recovery the next append starts on a clean line', async t => {
  const dir = await tempDir(t, 'lan-chat-log-')
  const path = join(dir, 'chat.log')
  await writeFile(path, '{"n":1}\n{"half')
  const log = createChatLog({ path })
  t.after(async () => {
    await log.close()
  })
  await log.load()
  await log.append({ n: 2 })
  await log.close()
  assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n')
  const again = createChatLog({ path })
  const { records, problems } = await again.load()
  await again.close()
  assert.equal(records.length, 2)
  assert.deepEqual(problems, [])
})

void test('a corrupt line in the middle is reported with its line number and the rest loads', async t => {
  const dir = await tempDir(t, 'lan-chat-log-')
  const path = join(dir, 'chat.log')
  const content = '{"n":1}\nhand-edited garbage\n\n{"n":4}\n'
  await writeFile(path, content)
  const log = createChatLog({ path })
  t.after(async () => {
    await log.close()
  })
  const { records, problems } = await log.load()
  assert.deepEqual(records, [
    { line: 1, value: { n: 1 } },
    { line: 4, value: { n: 4 } }
  ])
  assert.deepEqual(
    problems.map(p => [p.line, p.kind]),
    [[2, 'corrupt']]
  )
  assert.equal(await readFile(path, 'utf8'), content, 'the corrupt line stays in the file untouched')
})

void test('a log that cannot be opened rejects appends with StorageError, and works once it can be', async t => {
  const dir = await tempDir(t, 'lan-chat-log-')
  const path = join(dir, 'missing', 'chat.log')
  const log = createChatLog({ path, sync: false })
  t.after(async () => {
    await log.close()
  })
  await assert.rejects(log.append({ n: 1 }), StorageError)
  await mkdir(join(dir, 'missing'))
  await log.append({ n: 2 })
  await log.flush()
  const text = await readFile(path, 'utf8')
  assert.deepEqual(
    text
      .split('\n')
      .filter(l => l !== '')
      .map(l => JSON.parse(l)),
    [{ n: 2 }]
  )
})

void test('appending after close is refused, and close is idempotent', async t => {
  const dir = await tempDir(t, 'lan-chat-log-')
  const log = createChatLog({ path: join(dir, 'chat.log') })
  await log.load()
  await log.close()
  await log.close()
  await assert.rejects(log.append({ n: 1 }), StorageError)
})

void test('an append marked later waits for company: an urgent append writes it too, first, in one go', async t => {
  const dir = await tempDir(t, 'lan-chat-log-')
  const path = join(dir, 'chat.log')
  // A linger far longer than the test: only the urgent append can have written the first line.
  const log = createChatLog({ path, linger: 60_000 })
  t.after(async () => {
    await log.close()
  })
  await log.load()
  let laterDone = false
  const later = log.append({ n: 1 }, 'later').then(() => {
    laterDone = true
  })
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(laterDone, false)
  assert.equal(await readFile(path, 'utf8'), '')
  await log.append({ n: 2 })
  await later
  assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n')
})

void test('an append marked later is written once the linger time has passed, and by close', async t => {
  const { log, path } = await loadedLog(t, { linger: 5 })
  await log.append({ n: 1 }, 'later')
  assert.equal(await readFile(path, 'utf8'), '{"n":1}\n')
  const slow = createChatLog({ path, linger: 60_000 })
  await slow.load()
  const pending = slow.append({ n: 2 }, 'later')
  await slow.close()
  await pending
  assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n')
})
