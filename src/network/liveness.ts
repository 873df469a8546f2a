/**
 * The cheapest way to ask "are you still there?" over a libp2p connection: a yamux PING frame.
 *
 * The libp2p ping protocol opens a new stream for every ping: a stream open, protocol negotiation,
 * 32 bytes each way, a close, and a peer-store update of the peer's protocols at both ends. The
 * health monitor pings every peer every few seconds, so on a LAN of N nodes that is O(N) streams per
 * node per interval, and the benchmark showed it among the largest idle costs. A yamux PING is one
 * 12-byte frame each way on the connection that already exists, answered by the remote muxer
 * without involving its application at all.
 *
 * js-libp2p keeps the muxer of a connection in its `muxer` field (not part of the typed interface);
 * when it is missing or has no `ping()`, the libp2p ping protocol is used as before.
 *
 * The health monitor does not ping a peer it has heard from since its previous round. What it has
 * heard is the byte count of the peer's TCP sockets (js-libp2p's `maConn.socket`, again outside
 * the typed interface): a counter the kernel-facing side of Node keeps anyway, so nothing is added
 * to the receive path.
 */
import type { Connection } from '@libp2p/interface'

interface PingingMuxer {
  ping: (options?: { signal?: AbortSignal }) => Promise<number>
}

export interface LivenessComponents {
  /** Open connections to the peer. */
  connections: () => Connection[]
  /** The libp2p ping protocol, the fallback. */
  pingProtocol: (signal: AbortSignal) => Promise<number>
}

function muxerOf(conn: Connection): PingingMuxer | undefined {
  const muxer = (conn as unknown as { muxer?: Partial<PingingMuxer> }).muxer
  return typeof muxer?.ping === 'function' ? (muxer as PingingMuxer) : undefined
}

/**
 * Round-trip time to a peer in ms. Rejects when `signal` aborts first.
 *
 * The yamux ping is not given the signal: a reply that arrives after an aborted ping would count
 * as unrequested and make yamux close the whole connection. Left running, a late reply just
 * completes it, and a ping to a peer that is gone is dropped with its connection.
 */
export async function livenessPing(c: LivenessComponents, signal: AbortSignal): Promise<number> {
  const conn = c.connections().find(x => x.status === 'open' && muxerOf(x) != null)
  const muxer = conn == null ? undefined : muxerOf(conn)
  if (muxer == null) return await c.pingProtocol(signal)
  signal.throwIfAborted()
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      reject(signal.reason instanceof Error ? signal.reason : new Error('liveness ping aborted'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([muxer.ping(), aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

interface CountingConnection {
  maConn?: { socket?: { bytesRead?: unknown } }
}

/**
 * Bytes read so far on the open connections that expose their socket, or undefined when none
 * does (another transport, or another js-libp2p layout): then the peer is simply pinged.
 */
export function bytesReceived(connections: Connection[]): number | undefined {
  let total: number | undefined
  for (const conn of connections) {
    if (conn.status !== 'open') continue
    const read = (conn as unknown as CountingConnection).maConn?.socket?.bytesRead
    if (typeof read === 'number') total = (total ?? 0) + read
  }
  return total
}
