/** The verification pool: real worker threads give exactly the verdicts node:crypto gives here. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import { createVerifyPool, packChunk, type VerifyJob } from '../../../src/chat/verify-pool.js'
import { InvalidOptionError, NotStartedError } from '../../../src/errors.js'
import { waitUntil } from '../../helpers/wait.js'

function keyPair(): { raw: Uint8Array; sign: (data: Uint8Array) => Uint8Array } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  // The raw key is the last 32 bytes of its SPKI encoding.
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  return { raw, sign: data => sign(null, data, privateKey) }
}

const alice = keyPair()
const bob = keyPair()

/** `count` jobs signed in turn by alice and bob; the ones at `spoiled` get another job's signature. */
function jobs(count: number, spoiled: number[] = []): VerifyJob[] {
  const out = Array.from({ length: count }, (_, i): VerifyJob => {
    const author = i % 2 === 0 ? alice : bob
    const data = Buffer.from(`message ${i}`)
    return { data, signature: author.sign(data), publicKey: author.raw }
  })
  for (const i of spoiled) out[i] = { ...out[i], signature: out[(i + 2) % count].signature }
  return out
}

function expected(count: number, spoiled: number[]): boolean[] {
  return Array.from({ length: count }, (_, i) => !spoiled.includes(i))
}

void test('worker threads verify a large batch in order: good signatures pass, swapped ones fail', async t => {
  const pool = createVerifyPool({ threads: 2, chunk: 16 })
  t.after(async () => {
    await pool.close()
  })
  const spoiled = [0, 17, 63, 199]
  assert.deepEqual(await pool.verify(jobs(200, spoiled)), expected(200, spoiled))
  assert.ok(pool.threads() > 0, 'the work went to worker threads')
  assert.ok(pool.threads() <= 2)
})

void test('several batches at once each get their own verdicts', async t => {
  const pool = createVerifyPool({ threads: 2, chunk: 8 })
  t.after(async () => {
    await pool.close()
  })
  const [a, b, c] = await Promise.all([pool.verify(jobs(40, [3])), pool.verify(jobs(41)), pool.verify(jobs(5, [4]))])
  assert.deepEqual(a, expected(40, [3]))
  assert.deepEqual(b, expected(41, []))
  assert.deepEqual(c, expected(5, [4]))
})

void test('without threads the same verdicts come from the calling thread', async () => {
  const pool = createVerifyPool({ threads: 0 })
  assert.deepEqual(await pool.verify(jobs(30, [5, 29])), expected(30, [5, 29]))
  assert.equal(pool.threads(), 0)
})

void test('a signature or key of the wrong length, or a key that is not a point, never verifies', async t => {
  const pool = createVerifyPool({ threads: 1 })
  t.after(async () => {
    await pool.close()
  })
  const [good] = jobs(1)
  const notAPoint = new Uint8Array(32).fill(0xff)
  const verdicts = await pool.verify([
    good,
    { ...good, signature: good.signature.subarray(0, 63) },
    { ...good, publicKey: new Uint8Array(31) },
    { ...good, publicKey: notAPoint },
    { ...good, data: Buffer.from('changed') }
  ])
  assert.deepEqual(verdicts, [true, false, false, false, false])
})

void test('idle workers exit by themselves, and come back for the next batch', async t => {
  const pool = createVerifyPool({ threads: 1, idleTimeout: 10 })
  t.after(async () => {
    await pool.close()
  })
  assert.deepEqual(await pool.verify(jobs(4, [1])), expected(4, [1]))
  await waitUntil(() => pool.threads() === 0, 'the idle worker to exit')
  assert.deepEqual(await pool.verify(jobs(4, [2])), expected(4, [2]))
})

void test('warm starts the workers before any batch; close ends them and refuses what was still waiting', async () => {
  const pool = createVerifyPool({ threads: 1, chunk: 1 })
  pool.warm()
  assert.equal(pool.threads(), 1)
  const refused = assert.rejects(pool.verify(jobs(20)), NotStartedError)
  await pool.close()
  await refused
  assert.equal(pool.threads(), 0)
  // A closed pool starts again when asked.
  assert.deepEqual(await pool.verify(jobs(3)), expected(3, []))
  await pool.close()
})

void test('a worker that does not answer in time is ended, and its work is checked here with the same verdicts', async t => {
  // 1 ms is less than a worker needs to start, so the first chunk always runs late.
  const pool = createVerifyPool({ threads: 1, chunk: 8, chunkTimeout: 1 })
  t.after(async () => {
    await pool.close()
  })
  assert.deepEqual(await pool.verify(jobs(20, [3, 11])), expected(20, [3, 11]))
  assert.equal(pool.threads(), 0)
  assert.deepEqual(await pool.verify(jobs(4, [0])), expected(4, [0]))
})

void test('a chunk is packed with each distinct key once', () => {
  const frame = packChunk(7, jobs(5))
  assert.equal(frame.id, 7)
  assert.equal(frame.keys.byteLength, 64)
  assert.deepEqual([...frame.keyIndex], [0, 1, 0, 1, 0])
  assert.equal(frame.signatures.byteLength, 5 * 64)
  assert.equal(frame.ends[4], frame.data.byteLength)
  assert.equal(Buffer.from(frame.data.subarray(frame.ends[0], frame.ends[1])).toString(), 'message 1')
})

void test('bad options are refused', () => {
  assert.throws(() => createVerifyPool({ threads: -1 }), InvalidOptionError)
  assert.throws(() => createVerifyPool({ chunk: 0 }), InvalidOptionError)
  assert.throws(() => createVerifyPool({ idleTimeout: Number.NaN }), InvalidOptionError)
  assert.throws(() => createVerifyPool({ chunkTimeout: 0 }), InvalidOptionError)
})
