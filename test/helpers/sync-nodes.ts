/**
 * Nodes for the history sync tests: the in-process nodes of nodes.ts with sync timings of
 * milliseconds, an injectable clock, and helpers to compare rooms (a hash of the ordered IDs).
 */
import { createHash } from 'node:crypto'
import { App } from '../../src/app.js'
import type { HistorySyncInit, HybridClockInit } from '../../src/chat/index.js'
import { FAST_TUNING, nodeConfig, startApp, tempDataDir, type NodeOptions, type TestContext, type TestNode } from './nodes.js'
import { waitUntil } from './wait.js'

/** Sync timings for loopback tests: rounds start at once, and a periodic round every 300 ms. */
export const FAST_SYNC: Omit<HistorySyncInit, 'roomLimit'> = { interval: 300, debounce: 5 }

export interface SyncNodeOptions extends NodeOptions {
  sync?: Omit<HistorySyncInit, 'roomLimit'>
  clock?: HybridClockInit
  historyLimit?: number
}

export async function startSyncNode(t: TestContext, options: SyncNodeOptions = {}): Promise<TestNode> {
  const dataDir = options.dataDir ?? (await tempDataDir(t))
  const config = nodeConfig({ ...options, dataDir })
  if (options.historyLimit != null) config.historyLimit = options.historyLimit
  const app = await App.create({
    config,
    terminal: false,
    syncLog: false,
    network: { ...FAST_TUNING, ...options.tuning },
    sync: { ...FAST_SYNC, ...options.sync },
    clock: options.clock
  })
  t.after(async () => {
    await app.stop()
  })
  return await startApp(app)
}

/** The IDs of a room in the node's order. */
export function orderedIds(node: TestNode, room = 'main'): string[] {
  return node.app.chat.messages(room).map(m => m.id)
}

/** A hash of a room's ordered IDs: equal on two nodes iff they hold the same messages in the same order. */
export function historyHash(node: TestNode, room = 'main'): string {
  return createHash('sha256').update(orderedIds(node, room).join('\n')).digest('hex').slice(0, 16)
}

export async function waitForCount(node: TestNode, count: number, what: string, room = 'main', timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    () => node.app.chat.messages(room).length >= count,
    `${what} (${node.app.chat.messages(room).length}/${count})`,
    timeoutMs
  )
}

/** Waits until both nodes see each other in the room. */
export async function inRoom(a: TestNode, b: TestNode, room = 'main'): Promise<void> {
  await waitUntil(
    () => a.app.network.roomPeers(room).includes(b.peerId) && b.app.network.roomPeers(room).includes(a.peerId),
    `${room} membership`
  )
}
