/**
 * A healed partition: eight real `lan-chat` programs on one virtual LAN (network namespaces, mDNS
 * on) are split in two halves by moving four bridge ports to a second bridge; each half posts
 * while the other cannot hear it; the ports go back; every node must end with every message of
 * both halves, in the same order (compared as a hash of the ordered IDs), with none twice.
 *
 * Needs root and iproute2; skipped loudly where namespaces cannot be made. Everything it starts
 * (programs, namespaces) is stopped in `after` hooks registered before it is started.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { compareMessages, type ChatMessage } from '../../src/chat/index.js'
import { createLan, netnsUnavailableReason, type Host, type Lan } from '../helpers/netns.js'
import { startProgram, type Program } from '../helpers/program.js'

const run = promisify(execFile)
const HOSTS = 8
const PER_NODE = 5
const READY = /Type a message and press Enter/
const CONNECTED = /✓ .*connected/
const CONVERGE_TIMEOUT_MS = 120_000

interface Node {
  host: Host
  dir: string
  program: Program
}

async function readLog(dir: string): Promise<ChatMessage[]> {
  const text = await readFile(join(dir, 'chat.log'), 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(l => l.trim() !== '')
    .map(l => JSON.parse(l) as ChatMessage)
}

function orderHash(messages: ChatMessage[]): string {
  const ids = [...messages].sort(compareMessages).map(m => m.id)
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16)
}

/** Moves hosts' bridge ports to a second bridge (a partition), or back to the first. */
async function moveTo(lan: Lan, hosts: Host[], bridge: 'br0' | 'br1'): Promise<void> {
  for (const h of hosts) await run('ip', ['-n', lan.bridgeNs, 'link', 'set', `p${h.index}`, 'master', bridge])
}

void test('after a partition heals, all 8 nodes hold every message of both halves in the same order', async t => {
  const reason = netnsUnavailableReason()
  if (reason != null) {
    t.skip(`network namespaces unavailable: ${reason}`)
    return
  }
  const made: { lan?: Lan } = {}
  const nodes: Node[] = []
  t.after(async () => {
    await Promise.all(nodes.map(async n => await n.program.stop('SIGTERM', 10_000)))
    await made.lan?.destroy()
    await Promise.all(nodes.map(async n => await rm(n.dir, { recursive: true, force: true })))
  })
  const lan = await createLan({ hosts: HOSTS })
  made.lan = lan
  await run('ip', ['-n', lan.bridgeNs, 'link', 'add', 'br1', 'type', 'bridge'])
  await run('ip', ['-n', lan.bridgeNs, 'link', 'set', 'br1', 'type', 'bridge', 'mcast_snooping', '0'])
  await run('ip', ['-n', lan.bridgeNs, 'link', 'set', 'br1', 'up'])

  const tag = `part${process.pid}`
  for (const host of lan.hosts) {
    const dir = await mkdtemp(join(tmpdir(), 'lan-chat-part-'))
    const args = [
      '--host',
      host.ip,
      '--port',
      '4300',
      '--data-dir',
      dir,
      '--nick',
      `n${host.index}`,
      '--rendezvous',
      tag,
      '--sync-interval',
      '2'
    ]
    nodes.push({ host, dir, program: startProgram({ args, ns: host.ns }) })
  }
  for (const n of nodes) await n.program.waitFor(READY, 60_000)
  for (const n of nodes) await n.program.waitFor(CONNECTED, 60_000)

  const left = nodes.slice(0, HOSTS / 2)
  const right = nodes.slice(HOSTS / 2)
  await moveTo(
    lan,
    right.map(n => n.host),
    'br1'
  )
  // Wait until the halves have given each other up (ping health), so nothing queued on an old
  // connection can cross later: only history sync can carry the other half's messages.
  for (const n of nodes) await n.program.waitFor(/✗ .* is gone/, 60_000)
  for (const [half, group] of [
    ['left', left],
    ['right', right]
  ] as const) {
    for (const n of group) for (let j = 0; j < PER_NODE; j++) n.program.type(`${half} n${n.host.index} m${j}`)
  }
  for (const n of nodes) await n.program.waitFor(new RegExp(`\\[You\\] (left|right) n${n.host.index} m${PER_NODE - 1}`), 60_000)
  await moveTo(
    lan,
    right.map(n => n.host),
    'br0'
  )

  const total = HOSTS * PER_NODE
  const started = Date.now()
  const counts = async (): Promise<number[]> => await Promise.all(nodes.map(async n => new Set((await readLog(n.dir)).map(m => m.id)).size))
  let seen = await counts()
  while (seen.some(c => c < total)) {
    if (Date.now() - started > CONVERGE_TIMEOUT_MS) throw new Error(`nodes did not converge; they hold ${seen.join(', ')} of ${total}`)
    await new Promise(resolve => setTimeout(resolve, 250))
    seen = await counts()
  }
  t.diagnostic(`partition healed: ${HOSTS} nodes converged on ${total} messages in ${Date.now() - started} ms`)

  const hashes = new Set<string>()
  for (const n of nodes) {
    const messages = await readLog(n.dir)
    const ids = messages.map(m => m.id)
    assert.equal(new Set(ids).size, ids.length, `n${n.host.index}: no message stored twice`)
    assert.equal(ids.length, total, `n${n.host.index}: every message`)
    hashes.add(orderHash(messages))
  }
  assert.equal(hashes.size, 1, 'identical ordered history on every node')
  assert.ok(
    nodes.some(n => n.program.output().includes('(history)')),
    'the other half arrived as history'
  )
})
