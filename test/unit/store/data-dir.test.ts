/** One node per data folder: a second node gets instance-2, stale locks are taken over. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acquireDataDir } from '../../../src/store/data-dir.js'
import { DataDirLockedError } from '../../../src/errors.js'

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lan-chat-dir-'))
  t.after(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

const exists = async (p: string): Promise<boolean> =>
  await access(p).then(
    () => true,
    () => false
  )

void test('the first node takes the folder and writes its PID to the lock', async t => {
  const dir = await tempDir(t)
  const lock = await acquireDataDir(dir, { pid: 1111, isAlive: () => true })
  t.after(lock.release)
  assert.equal(lock.dir, dir)
  assert.equal(lock.fallback, false)
  assert.equal((await readFile(join(dir, 'lock'), 'utf8')).trim().split(' ')[0], '1111')
})

void test('a second node on the same folder gets instance-2, a third instance-3', async t => {
  const dir = await tempDir(t)
  const a = await acquireDataDir(dir, { pid: 1111, isAlive: () => true })
  t.after(a.release)
  const b = await acquireDataDir(dir, { pid: 2222, isAlive: () => true })
  t.after(b.release)
  const c = await acquireDataDir(dir, { pid: 3333, isAlive: () => true })
  t.after(c.release)
  assert.equal(b.dir, join(dir, 'instance-2'))
  assert.equal(b.fallback, true)
  assert.equal(c.dir, join(dir, 'instance-3'))
})

void test('a lock left by a process that no longer runs is taken over', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'lock'), '999999\n')
  const lock = await acquireDataDir(dir, { pid: 1111, isAlive: pid => pid !== 999999 })
  t.after(lock.release)
  assert.equal(lock.dir, dir)
  assert.equal((await readFile(join(dir, 'lock'), 'utf8')).trim().split(' ')[0], '1111')
})

void test('a stale lock of a dead PID is taken over with the real liveness check', async t => {
  const dir = await tempDir(t)
  // PIDs above the kernel's pid_max never run.
  await writeFile(join(dir, 'lock'), '2147483646\n')
  const lock = await acquireDataDir(dir)
  t.after(lock.release)
  assert.equal(lock.dir, dir)
  assert.equal((await readFile(join(dir, 'lock'), 'utf8')).trim().split(' ')[0], String(process.pid))
})

void test('an unreadable lock is treated as stale', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'lock'), 'garbage')
  const lock = await acquireDataDir(dir, { pid: 1111, isAlive: () => true })
  t.after(lock.release)
  assert.equal(lock.dir, dir)
})

void test('release removes the lock, so the folder can be taken again; release twice is harmless', async t => {
  const dir = await tempDir(t)
  const a = await acquireDataDir(dir, { pid: 1111, isAlive: () => true })
  await a.release()
  await a.release()
  assert.equal(await exists(join(dir, 'lock')), false)
  const b = await acquireDataDir(dir, { pid: 2222, isAlive: () => true })
  t.after(b.release)
  assert.equal(b.dir, dir)
})

void test('release leaves a lock that another node has since taken', async t => {
  const dir = await tempDir(t)
  const a = await acquireDataDir(dir, { pid: 1111, isAlive: () => true })
  await writeFile(join(dir, 'lock'), '2222\n')
  await a.release()
  assert.equal((await readFile(join(dir, 'lock'), 'utf8')).trim(), '2222')
})

void test('when every instance folder is busy the error says so', async t => {
  const dir = await tempDir(t)
  const a = await acquireDataDir(dir, { pid: 1111, isAlive: () => true, maxInstances: 2 })
  t.after(a.release)
  const b = await acquireDataDir(dir, { pid: 2222, isAlive: () => true, maxInstances: 2 })
  t.after(b.release)
  await assert.rejects(acquireDataDir(dir, { pid: 3333, isAlive: () => true, maxInstances: 2 }), DataDirLockedError)
})

void test('two nodes in one process (same PID) get different folders', async t => {
  const dir = await tempDir(t)
  const a = await acquireDataDir(dir)
  t.after(a.release)
  const b = await acquireDataDir(dir)
  t.after(b.release)
  assert.equal(a.dir, dir)
  assert.equal(b.dir, join(dir, 'instance-2'))
})

void test('a lock left by an earlier process that had the same PID is taken over', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'lock'), `${process.pid} earlier-process\n`)
  const lock = await acquireDataDir(dir, { isAlive: () => true })
  t.after(lock.release)
  assert.equal(lock.dir, dir)
})

void test('nodes starting at the same moment never share a folder', async t => {
  const dir = await tempDir(t)
  const locks = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => await acquireDataDir(dir, { pid: 1000 + i, isAlive: () => true }))
  )
  for (const l of locks) t.after(l.release)
  assert.equal(new Set(locks.map(l => l.dir)).size, 6)
})
