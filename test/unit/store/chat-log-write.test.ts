/**
 * chat.log's two steps on real files: a written line is in the file before `write()` returns (so it
 * survives the process dying) and becomes durable later; a full disk (a real, tiny tmpfs) refuses
 * the write with StorageError, loses nothing already written, and the log works again once there
 * is room. The tmpfs part needs root (mount) and is skipped loudly without it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChatLog } from '../../../src/store/chat-log.js'
import { StorageError } from '../../../src/errors.js'

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lan-chat-log-'))
  t.after(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

void test('a written line is in the file before write returns, and becomes durable', async t => {
  const dir = await tempDir(t)
  const path = join(dir, 'chat.log')
  const log = createChatLog({ path })
  t.after(async () => {
    await log.close()
  })
  await log.load()
  const first = log.write({ n: 1 })
  // Read synchronously, before anything else runs: the line must already be there.
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n')
  const second = log.write({ n: 2 })
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n{"n":2}\n')
  await Promise.all([first.durable, second.durable])
})

void test('a write takes the lingering lines with it, before its own', async t => {
  const dir = await tempDir(t)
  const path = join(dir, 'chat.log')
  const log = createChatLog({ path, linger: 60_000 })
  t.after(async () => {
    await log.close()
  })
  await log.load()
  const later = log.append({ n: 1 }, 'later')
  assert.equal(readFileSync(path, 'utf8'), '')
  const { durable } = log.write({ n: 2 })
  assert.equal(readFileSync(path, 'utf8'), '{"n":1}\n{"n":2}\n')
  await Promise.all([later, durable])
})

function mountTinyDisk(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { stdio: 'pipe' })
    return undefined
  } catch (err) {
    return (err as Error).message.split('\n')[0]
  }
}

void test('a full disk refuses the write with StorageError, keeps what was written, and the log works again', async t => {
  const disk = await mkdtemp(join(tmpdir(), 'lan-chat-disk-'))
  const reason = mountTinyDisk(disk)
  // One hook, in this order: unmount (also when the test fails), then remove the mount point.
  t.after(async () => {
    if (reason == null) execFileSync('umount', [disk])
    await rm(disk, { recursive: true, force: true })
  })
  if (reason != null) {
    t.skip(`cannot mount a tmpfs (needs root): ${reason}`)
    return
  }
  const path = join(disk, 'chat.log')
  const log = createChatLog({ path })
  t.after(async () => {
    await log.close()
  })
  await log.load()
  await log.write({ n: 1, text: 'before the disk filled up' }).durable
  // Fill the disk to the last byte with another file.
  const filler = join(disk, 'filler')
  await writeFile(filler, '')
  try {
    execFileSync('sh', ['-c', `cat /dev/zero > '${filler}'`], { stdio: 'pipe' })
  } catch {
    // cat stops with "No space left on device": the disk is full.
  }
  assert.throws(() => log.write({ n: 2, text: 'x'.repeat(20_000) }), StorageError)
  await assert.rejects(log.append({ n: 3, text: 'y'.repeat(20_000) }, 'later'), StorageError)
  await rm(filler)
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
