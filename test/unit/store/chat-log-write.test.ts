/**
 * chat.log's two steps on real files: a written line is in the file before `write()` returns (so it
 * survives the process dying) and becomes durable later; a full disk (a real, tiny tmpfs) refuses
 * the write with StorageError, loses nothing already written, and the log works again once there
 * is room. The tmpfs part needs root (mount) and is skipped loudly without it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createChatLog } from '../../../src/store/chat-log.js'
import { StorageError } from '../../../src/errors.js'
import { loadedLog } from '../../helpers/chat-log.js'
import { tinyDisk } from '../../helpers/tiny-disk.js'

void test('a written line is in the file before write returns, and becomes durable', async t => {
  const { log, path } = await loadedLog(t)
  const first = log.write({ n: 1 })
  // Read synchronously, before anything else runs: the line must already be there.
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n')
  const second = log.write({ n: 2 })
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n{"n":2}\n')
  await Promise.all([first.durable, second.durable])
})

void test('a write takes the lingering lines with it, before its own', async t => {
  const { log, path } = await loadedLog(t, { linger: 60_000 })
  const later = log.append({ n: 1 }, 'later')
  assert.equal(readFileSync(path, 'utf8'), '')
  const { durable } = log.write({ n: 2 })
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n{"n":2}\n')
  await Promise.all([later, durable])
})

void test('lines that linger together share one promise; the next batch gets its own', async t => {
  const { log, path } = await loadedLog(t, { linger: 60_000 })
  const first = log.append({ n: 1 }, 'later')
  const second = log.append({ n: 2 }, 'later')
  assert.equal(first, second, 'one promise for the lines waiting together')
  await log.flush()
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n{"n":2}\n')
  await first
  const third = log.append({ n: 3 }, 'later')
  assert.notEqual(third, first, 'a line after the write starts a new batch')
  await log.flush()
  await third
})

/** Whether a promise has settled, after everything already queued has run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(
    () => (done = true),
    () => (done = true)
  )
  await new Promise(resolve => setImmediate(resolve))
  return done
}

void test('lines written within the sync delay wait for one sync together, and flush starts it at once', async t => {
  const { log, path } = await loadedLog(t, { syncDelay: 60_000 })
  const first = log.write({ n: 1 }).durable
  const second = log.write({ n: 2 }).durable
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n{"n":2}\n', 'written at once, whatever the sync delay')
  assert.equal(await settled(first), false, 'the first line waits out the delay')
  assert.equal(await settled(second), false)
  await log.flush()
  assert.equal(await settled(first), true, 'flush did not wait out the delay')
  assert.equal(await settled(second), true)
})

void test('with a short sync delay, a written line becomes durable without a flush', async t => {
  const { log } = await loadedLog(t, { syncDelay: 5 })
  await Promise.all([log.write({ n: 1 }).durable, log.write({ n: 2 }).durable])
  await log.write({ n: 3 }).durable
})

void test('a full disk refuses the write with StorageError, keeps what was written, and the log works again', async t => {
  const disk = await tinyDisk(t, '16k')
  if (disk == null) return
  const path = join(disk.dir, 'chat.log')
  const log = createChatLog({ path })
  t.after(async () => {
    await log.close()
  })
  await log.load()
  await log.write({ n: 1, text: 'before the disk filled up' }).durable
  await disk.fill()
  assert.throws(() => log.write({ n: 2, text: 'x'.repeat(20_000) }), StorageError)
  await assert.rejects(log.append({ n: 3, text: 'y'.repeat(20_000) }, 'later'), StorageError)
  // A batch nobody watches fails quietly (no unhandled rejection, which would end the process).
  void log.append({ n: 3, text: 'w'.repeat(20_000) }, 'later')
  await log.flush().catch(() => {})
  await disk.free()
  await log.write({ n: 4 }).durable
  await log.close()
  const lines = (await readFile(path, 'utf8')).split('\n').filter(l => l !== '')
  const parsed = lines.flatMap(l => {
    try {
      return [JSON.parse(l) as { n: number }]
    } catch {
      return []
    }
  })
  assert.deepEqual(
    parsed.map(v => v.n),
    [1, 4],
    'the first line survives, the refused ones are not half-kept as valid lines, the next one lands'
  )
  const again = createChatLog({ path })
  const { records, problems } = await again.load()
  await again.close()
  assert.deepEqual(problems, [], 'no half-written line is left in the file')
  assert.deepEqual(
    records.map(r => (r.value as { n: number }).n),
    [1, 4]
  )
})
