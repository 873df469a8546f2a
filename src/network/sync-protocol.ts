/**
 * The history sync protocol (`/lan-chat/sync/1.0.0`) on the wire: one request and one response per
 * stream, each a length-prefixed JSON frame `{"v":1,"body":…}` (or `{"v":1,"error":"…"}`). Sizes
 * are capped on both sides (a reader refuses a longer frame before buffering it) and every
 * exchange has a timeout, so a slow or hostile peer costs at most one stream for a few seconds.
 *
 * The bodies belong to the chat layer (`chat/sync.ts`); this module only moves them. It is the
 * stream-handling half and, with network.ts, the only sync code that touches libp2p.
 */
import { lpStream } from '@libp2p/utils'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { SyncError } from '../errors.js'
import { SYNC_PROTOCOL } from './topics.js'

export const SYNC_FRAME_VERSION = 1
/** Largest request frame a node reads. */
export const DEFAULT_MAX_SYNC_REQUEST_BYTES = 64 * 1024
/** Largest response frame a node reads or writes: a 512 KiB batch plus its JSON envelope. */
export const DEFAULT_MAX_SYNC_RESPONSE_BYTES = 1024 * 1024
/** How long one request/response exchange may take. */
export const DEFAULT_SYNC_TIMEOUT = 10_000
/** Concurrent inbound sync streams per connection. */
export const DEFAULT_SYNC_MAX_INBOUND_STREAMS = 8

/** Answers one request body from a peer; throwing sends an error frame. */
export type SyncHandler = (peerId: string, body: unknown, signal: AbortSignal) => Promise<unknown>

export interface SyncProtocolInit {
  maxRequestBytes?: number
  maxResponseBytes?: number
  timeout?: number
  maxInboundStreams?: number
}

/** What the protocol needs from the libp2p node. */
export interface SyncProtocolComponents {
  handle: (
    protocol: string,
    handler: (stream: Stream, connection: Connection) => Promise<void>,
    options: { maxInboundStreams: number }
  ) => Promise<void>
  unhandle: (protocol: string) => Promise<void>
  dialProtocol: (peer: PeerId, protocol: string, options: { signal: AbortSignal }) => Promise<Stream>
  toPeerId: (peerId: string) => PeerId
}

/** `{"v":1,"body":…}` as bytes. Pure. */
export function encodeSyncFrame(frame: { body: unknown } | { error: string }): Uint8Array {
  return Buffer.from(JSON.stringify({ v: SYNC_FRAME_VERSION, ...frame }), 'utf8')
}

/** Parses a frame; throws SyncError for a bad or foreign-version frame and for an error reply. Pure. */
export function decodeSyncFrame(bytes: Uint8Array): unknown {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch {
    throw new SyncError('sync frame is not JSON')
  }
  if (typeof value !== 'object' || value === null) throw new SyncError('sync frame is not an object')
  const o = value as Record<string, unknown>
  if (o.v !== SYNC_FRAME_VERSION) throw new SyncError(`sync frame version ${String(o.v)} is not supported`)
  if (typeof o.error === 'string') throw new SyncError(`peer refused: ${o.error.slice(0, 200)}`)
  if (!('body' in o)) throw new SyncError('sync frame has no body')
  return o.body
}

/** Settles with the promise, or rejects when the signal aborts first (a handler that hangs). */
async function withSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let off = (): void => {}
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        const onAbort = (): void => {
          reject(new SyncError('timed out answering'))
        }
        signal.addEventListener('abort', onAbort, { once: true })
        off = () => {
          signal.removeEventListener('abort', onAbort)
        }
      })
    ])
  } finally {
    off()
  }
}

export class SyncProtocol {
  private readonly c: SyncProtocolComponents
  private readonly maxRequest: number
  private readonly maxResponse: number
  private readonly timeout: number
  private readonly maxInbound: number
  private handler?: SyncHandler
  private started = false

  constructor(components: SyncProtocolComponents, init: SyncProtocolInit = {}) {
    this.c = components
    this.maxRequest = init.maxRequestBytes ?? DEFAULT_MAX_SYNC_REQUEST_BYTES
    this.maxResponse = init.maxResponseBytes ?? DEFAULT_MAX_SYNC_RESPONSE_BYTES
    this.timeout = init.timeout ?? DEFAULT_SYNC_TIMEOUT
    this.maxInbound = init.maxInboundStreams ?? DEFAULT_SYNC_MAX_INBOUND_STREAMS
  }

  /** Sets the function that answers requests; without one, requests get an error frame. */
  handle(handler: SyncHandler): void {
    this.handler = handler
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    await this.c.handle(
      SYNC_PROTOCOL,
      async (stream, connection) => {
        await this.answer(stream, connection.remotePeer.toString())
      },
      { maxInboundStreams: this.maxInbound }
    )
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.c.unhandle(SYNC_PROTOCOL).catch(() => {})
  }

  /** Sends one request body to a peer and returns its response body. Throws SyncError. */
  async request(peerId: string, body: unknown, options: { signal?: AbortSignal } = {}): Promise<unknown> {
    const request = encodeSyncFrame({ body })
    if (request.byteLength > this.maxRequest)
      throw new SyncError(`sync request is ${request.byteLength} bytes; the limit is ${this.maxRequest}`)
    const signal =
      options.signal == null ? AbortSignal.timeout(this.timeout) : AbortSignal.any([options.signal, AbortSignal.timeout(this.timeout)])
    let stream: Stream | undefined
    try {
      stream = await this.c.dialProtocol(this.c.toPeerId(peerId), SYNC_PROTOCOL, { signal })
      const lp = lpStream(stream, { maxDataLength: this.maxResponse })
      await lp.write(request, { signal })
      const response = await lp.read({ signal })
      await stream.close({ signal }).catch(() => {})
      return decodeSyncFrame(response.subarray())
    } catch (err) {
      stream?.abort(err as Error)
      if (err instanceof SyncError) throw err
      throw new SyncError(`sync with ${peerId} failed: ${(err as Error).message}`, { cause: err })
    }
  }

  private async answer(stream: Stream, peerId: string): Promise<void> {
    const signal = AbortSignal.timeout(this.timeout)
    try {
      const lp = lpStream(stream, { maxDataLength: this.maxRequest })
      let reply: Uint8Array
      try {
        const body = decodeSyncFrame((await lp.read({ signal })).subarray())
        if (this.handler == null) throw new SyncError('not answering sync')
        reply = encodeSyncFrame({ body: await withSignal(this.handler(peerId, body, signal), signal) })
        if (reply.byteLength > this.maxResponse) throw new SyncError('response too large')
      } catch (err) {
        reply = encodeSyncFrame({
          error: err instanceof SyncError || (err as Error).name === 'InvalidMessageError' ? (err as Error).message : 'cannot answer'
        })
      }
      await lp.write(reply, { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}
