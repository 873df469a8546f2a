/**
 * livenessPing: a yamux PING frame on the open connection when the connection has a muxer that can
 * ping (checked against real libp2p nodes on loopback, since it relies on js-libp2p's `muxer`
 * field), the libp2p ping protocol otherwise.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { bytesReceived, livenessPing } from '../../../src/network/liveness.js'
import { createChatLibp2p } from '../../../src/network/node.js'

function fakeConnection(muxer: unknown, status = 'open'): Connection {
  return { status, muxer } as unknown as Connection
}

const noProtocol = async (): Promise<number> => await Promise.reject(new Error('the ping protocol was used'))

void test('a connection whose muxer can ping is pinged through the muxer, not the ping protocol', async () => {
  let pings = 0
  const conn = fakeConnection({
    ping: async () => {
      pings++
      return await Promise.resolve(3)
    }
  })
  const rtt = await livenessPing({ connections: () => [conn], pingProtocol: noProtocol }, AbortSignal.timeout(5_000))
  assert.equal(rtt, 3)
  assert.equal(pings, 1)
})

void test('without a muxer that can ping, the ping protocol answers', async () => {
  const rtt = await livenessPing(
    { connections: () => [fakeConnection(undefined), fakeConnection({ ping: 'no' })], pingProtocol: async () => await Promise.resolve(9) },
    AbortSignal.timeout(5_000)
  )
  assert.equal(rtt, 9)
})

void test('a closed connection is not pinged', async () => {
  const conn = fakeConnection({ ping: async () => await Promise.resolve(1) }, 'closed')
  const rtt = await livenessPing(
    { connections: () => [conn], pingProtocol: async () => await Promise.resolve(5) },
    AbortSignal.timeout(5_000)
  )
  assert.equal(rtt, 5)
})

void test('an abort rejects while the muxer ping is still outstanding, and the muxer is not handed the signal', async () => {
  let handedSignal: unknown = 'not called'
  let answer: (rtt: number) => void = () => {}
  const conn = fakeConnection({
    ping: async (options?: { signal?: AbortSignal }) => {
      handedSignal = options?.signal
      return await new Promise<number>(resolve => {
        answer = resolve
      })
    }
  })
  const controller = new AbortController()
  const pending = livenessPing({ connections: () => [conn], pingProtocol: noProtocol }, controller.signal)
  controller.abort(new Error('timed out'))
  await assert.rejects(pending, /timed out/)
  assert.equal(handedSignal, undefined)
  answer(4) // a late reply completes the muxer's ping quietly
})

void test('two real libp2p nodes on loopback measure a round trip through the yamux muxer', async t => {
  const make = async () =>
    await createChatLibp2p({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', port: 0, sharedHost: true })
  const a = await make()
  const b = await make()
  t.after(async () => {
    await a.stop()
    await b.stop()
  })
  await a.start()
  await b.start()
  await a.dial(b.getMultiaddrs())
  const before = bytesReceived(a.getConnections(b.peerId))
  assert.equal(typeof before, 'number', 'a TCP connection exposes the bytes read from its socket')
  const rtt = await livenessPing({ connections: () => a.getConnections(b.peerId), pingProtocol: noProtocol }, AbortSignal.timeout(10_000))
  assert.equal(typeof rtt, 'number')
  assert.ok(rtt >= 0)
  assert.ok((bytesReceived(a.getConnections(b.peerId)) ?? 0) > (before ?? 0), 'the answer to the ping counts as bytes received')
})

void test('bytes received add up over open connections; none known gives undefined', () => {
  const counting = (bytesRead: unknown, status = 'open'): Connection =>
    ({ status, maConn: { socket: { bytesRead } } }) as unknown as Connection
  assert.equal(bytesReceived([counting(10), counting(5), counting(100, 'closed')]), 15)
  assert.equal(bytesReceived([counting(undefined), fakeConnection(undefined)]), undefined)
  assert.equal(bytesReceived([]), undefined)
})
