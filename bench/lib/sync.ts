/**
 * History sync: how long a new LAN Chat node takes to hold a room of 10,000 messages that a peer
 * already has. The peer's chat.log is written before it starts (signed messages of one author), the
 * new node starts on the LAN, and its chat.log is watched until every message is in it (durable,
 * not just shown). The baseline has no history, so this is measured for LAN Chat only.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Host } from '../../test/helpers/netns.js'
import { createSigner, toRecord } from '../../src/chat/index.js'
import { Fleet, now, sleep, type ChildRegistry, type System } from './fleet.js'
import { oursSystem } from './systems.js'
import { cpuMs, cpuMsByThread } from './proc.js'

export const SYNC_MESSAGES = 10_000

export interface SyncResult {
  messages: number
  /** ms from spawning the new node until its chat.log holds every message. */
  ms?: number
  /** ms from its first connection until then. */
  afterConnectMs?: number
  /** ms from spawning the new node until the first synced message was in its chat.log. */
  firstMs?: number
  /** CPU time (all threads) until then: the new node's since it started, the holder's since the new node started. */
  cpuMs?: { joiner?: number; holder?: number }
  /** The new node's CPU time by thread (main, worker threads, libuv pool, V8 helpers) until then. */
  joinerThreads?: Record<string, number>
  received: number
  reason?: string
}

/** Writes a chat.log holding `count` signed messages of one author in #main. */
export async function seedChatLog(dir: string, count: number): Promise<void> {
  const key = await generateKeyPair('Ed25519')
  const signer = createSigner(key, peerIdFromPrivateKey(key).toString())
  const start = Date.now() - count * 1_000
  const lines: string[] = []
  for (let i = 1; i <= count; i++) {
    const m = signer.sign({
      room: 'main',
      from: signer.author,
      nick: 'archive',
      text: `history message ${i}`,
      ts: start + i * 1_000,
      lc: 0,
      seq: i
    })
    lines.push(JSON.stringify(toRecord(m)))
  }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'chat.log'), lines.join('\n') + '\n', { mode: 0o600 })
}

function countLines(file: string): number {
  try {
    const text = readFileSync(file, 'utf8')
    let n = 0
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++
    return n
  } catch {
    return 0
  }
}

export async function measureSync(
  holder: Host,
  joiner: Host,
  dataRoot: string,
  timeoutMs: number,
  children: ChildRegistry,
  bin?: string,
  /** Changes how the nodes run (e.g. with CPU profiling flags). */
  wrap: (system: System) => System = s => s
): Promise<SyncResult> {
  await seedChatLog(join(dataRoot, `n${holder.index}`), SYNC_MESSAGES)
  const fleet = new Fleet(wrap(oursSystem(dataRoot, bin)), () => {}, children)
  const result: SyncResult = { messages: SYNC_MESSAGES, received: 0 }
  try {
    const a = fleet.add(holder)
    const deadline = now() + timeoutMs
    while (a.times.listening == null && now() < deadline) await sleep(20)
    if (a.times.listening == null) return { ...result, reason: 'the node holding the history did not start' }
    const holderCpu = cpuMs(a.pid) ?? 0
    const b = fleet.add(joiner)
    const log = join(dataRoot, `n${joiner.index}`, 'chat.log')
    while (now() < deadline) {
      result.received = countLines(log)
      if (result.received > 0) result.firstMs ??= now() - b.times.spawned
      if (result.received >= SYNC_MESSAGES) {
        const at = now()
        result.ms = at - b.times.spawned
        if (b.times.connected != null) result.afterConnectMs = at - b.times.connected
        const holderNow = cpuMs(a.pid)
        result.cpuMs = { joiner: cpuMs(b.pid), holder: holderNow == null ? undefined : holderNow - holderCpu }
        result.joinerThreads = cpuMsByThread(b.pid)
        return result
      }
      await sleep(25)
    }
    const connected =
      b.times.connected == null ? 'never connected' : `connected after ${(b.times.connected - b.times.spawned).toFixed(0)} ms`
    return {
      ...result,
      reason: `only ${result.received} of ${SYNC_MESSAGES} messages after ${timeoutMs} ms (${connected}; stderr: ${b.stderr.slice(-300) || 'none'})`
    }
  } finally {
    await fleet.stop()
  }
}
