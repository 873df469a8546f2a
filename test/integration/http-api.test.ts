/**
 * The HTTP API end to end: two real nodes over loopback, the API on a random port, real fetch.
 * Every endpoint, every error status, and the live stream (resume without gaps or repeats).
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startHttpNode, dialAddr, type HttpNode } from '../api/nodes.js'
import { openEvents, type SseEvent } from '../api/sse-client.js'
import { rawRequest, rawSocket } from '../api/raw.js'
import { waitUntil } from '../helpers/wait.js'
import { ListenError } from '../../src/errors.js'

const cleanups: Array<() => Promise<void> | void> = []
const ctx = { after: (fn: () => Promise<void> | void) => cleanups.push(fn) }
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

let a: HttpNode
let b: HttpNode

async function api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const headers = new Headers(init.headers)
  let body = init.body
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json')
    body = JSON.stringify(init.json)
  }
  const res = await fetch(a.base + path, { ...init, headers, body })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
}

function assertError(r: { status: number; body: any }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body))
  assert.deepEqual(Object.keys(r.body), ['error'])
  assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'message'])
  assert.equal(r.body.error.code, code)
  assert.equal(typeof r.body.error.message, 'string')
  assert.doesNotMatch(JSON.stringify(r.body), /at .*\.(ts|js):\d+/, 'no stack trace')
}

before(async () => {
  a = await startHttpNode(ctx, { nick: 'alice', rooms: ['main'], http: { heartbeatInterval: 50, rateLimit: { capacity: 10_000 } } })
  b = await startHttpNode(ctx, { nick: 'bob', rooms: ['main'], peers: [dialAddr(a)], noHttp: true })
  await waitUntil(() => a.app.chat.roomPeers('main').some(p => p.peerId === b.info.peerId), 'bob in #main at alice')
  await waitUntil(() => b.app.chat.roomPeers('main').some(p => p.peerId === a.info.peerId), 'alice in #main at bob')
})

void describe('status and identity', () => {
  void test('GET /api/status names the peer ID, nick, addresses, rooms and who is online', async () => {
    const r = await api('/api/status')
    assert.equal(r.status, 200)
    assert.equal(r.body.peerId, a.info.peerId)
    assert.equal(r.body.nick, 'alice')
    assert.ok(r.body.addresses.some((x: string) => x.startsWith('/ip4/127.0.0.1/tcp/')))
    assert.deepEqual(r.body.rooms, ['main'])
    assert.ok(r.body.online.some((p: any) => p.peerId === b.info.peerId && p.nick === 'bob'))
  })

  void test('a busy HTTP port stops the node from starting with a clear error', async t => {
    await assert.rejects(startHttpNode(t, { nick: 'carol', httpPort: a.app.http?.port }), (err: Error) => {
      assert.ok(err instanceof ListenError)
      assert.match(err.message, /in use/)
      return true
    })
  })

  void test('the server reports the port it really bound when asked for port 0', () => {
    assert.ok(a.app.http != null && a.app.http.port > 0)
    assert.equal(a.info.http, `http://127.0.0.1:${a.app.http.port}/`)
  })
})

void describe('messages', () => {
  void test('POST /api/messages answers 201 with the stored message only once it is in chat.log, and peers get it', async () => {
    const r = await api('/api/messages', { method: 'POST', json: { room: 'main', text: 'hello from http' } })
    assert.equal(r.status, 201)
    assert.equal(r.body.text, 'hello from http')
    assert.equal(r.body.room, 'main')
    assert.equal(r.body.from, a.info.peerId)
    assert.match(r.body.id, /^[0-9a-f]{32}$/)
    const log = await readFile(join(a.app.dataDir, 'chat.log'), 'utf8')
    assert.ok(
      log.split('\n').some(l => l.includes(r.body.id)),
      'in chat.log when the answer arrives'
    )
    await waitUntil(() => b.app.chat.history.has(r.body.id), 'bob receives it')
  })

  void test('GET /messages is an alias of GET /api/messages and lists oldest first', async () => {
    const sent = []
    for (const text of ['one', 'two', 'three']) sent.push((await api('/messages', { method: 'POST', json: { room: 'main', text } })).body)
    const alias = await api('/messages?room=main')
    const main = await api('/api/messages?room=main')
    assert.equal(alias.status, 200)
    assert.deepEqual(alias.body, main.body)
    const ids = alias.body.messages.map((m: any) => m.id)
    assert.deepEqual(
      ids.slice(-3),
      sent.map(m => m.id)
    )
  })

  void test('since returns only later messages; limit bounds the answer', async () => {
    const sent = []
    for (let i = 0; i < 5; i++) sent.push((await api('/api/messages', { method: 'POST', json: { room: 'main', text: `n${i}` } })).body)
    const after1 = await api(`/api/messages?room=main&since=${sent[1].id}`)
    assert.deepEqual(
      after1.body.messages.map((m: any) => m.text),
      ['n2', 'n3', 'n4']
    )
    const page = await api(`/api/messages?room=main&since=${sent[1].id}&limit=2`)
    assert.deepEqual(
      page.body.messages.map((m: any) => m.text),
      ['n2', 'n3']
    )
    const newest = await api('/api/messages?room=main&limit=2')
    assert.deepEqual(
      newest.body.messages.map((m: any) => m.text),
      ['n3', 'n4']
    )
  })

  void test('a message typed at another node shows up in GET /messages', async () => {
    const m = await b.app.chat.send('main', 'from bob')
    await waitUntil(() => a.app.chat.history.has(m.id), 'alice receives it')
    const r = await api('/messages?room=main&limit=5')
    assert.ok(r.body.messages.some((x: any) => x.id === m.id && x.nick === 'bob'))
  })

  void test('POST without a room sends to the first room', async () => {
    const r = await api('/api/messages', { method: 'POST', json: { text: 'default room' } })
    assert.equal(r.status, 201)
    assert.equal(r.body.room, 'main')
  })
})

void describe('rooms and nick', () => {
  void test('POST /api/rooms joins (201, then 200), peers of the room are listed, DELETE leaves', async () => {
    const joined = await api('/api/rooms', { method: 'POST', json: { room: 'lab' } })
    assert.equal(joined.status, 201)
    assert.deepEqual(joined.body, { room: 'lab', rooms: ['main', 'lab'] })
    assert.equal((await api('/api/rooms', { method: 'POST', json: { room: '#lab' } })).status, 200)
    b.app.chat.join('lab')
    await waitUntil(() => a.app.chat.roomPeers('lab').length > 0, 'bob in #lab at alice')
    const peers = await api('/api/rooms/lab/peers')
    assert.equal(peers.status, 200)
    assert.deepEqual(peers.body, { room: 'lab', peers: [{ peerId: b.info.peerId, nick: 'bob' }] })
    const list = await api('/api/rooms')
    assert.deepEqual(list.body.rooms, [
      { room: 'main', peers: 1 },
      { room: 'lab', peers: 1 }
    ])
    const left = await api('/api/rooms/lab', { method: 'DELETE' })
    assert.equal(left.status, 200)
    assert.deepEqual(left.body, { room: 'lab', rooms: ['main'] })
    assertError(await api('/api/rooms/lab', { method: 'DELETE' }), 404, 'not-in-room')
    assertError(await api('/api/rooms/lab/peers'), 404, 'not-in-room')
    b.app.chat.leave('lab')
  })

  void test('the only room cannot be left', async () => {
    assertError(await api('/api/rooms/main', { method: 'DELETE' }), 409, 'last-room')
    assert.deepEqual(a.app.chat.rooms(), ['main'])
  })

  void test('PUT /api/nick changes the nick everywhere', async () => {
    const r = await api('/api/nick', { method: 'PUT', json: { nick: 'alice2' } })
    assert.deepEqual(r, { status: 200, headers: r.headers, body: { nick: 'alice2' } })
    assert.equal((await api('/api/nick')).body.nick, 'alice2')
    await waitUntil(() => b.app.chat.nickFor(a.info.peerId) === 'alice2', 'bob learns the new nick')
    await api('/api/nick', { method: 'PUT', json: { nick: 'alice' } })
  })
})

void describe('errors', () => {
  void test('400 for bad JSON, bad fields, bad names, empty text and bad query values', async () => {
    const post = async (body: string): Promise<any> =>
      await api('/api/messages', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } })
    assertError(await post('{"room":'), 400, 'invalid-json')
    assertError(await post('[1,2]'), 400, 'invalid-body')
    assertError(await post('{"room":"main","text":42}'), 400, 'invalid-body')
    assertError(await post('{"room":"Bad Room!","text":"x"}'), 400, 'invalid-room')
    assertError(await post('{"room":"main","text":"   "}'), 400, 'invalid-text')
    assertError(await post(JSON.stringify({ room: 'main', text: 'x'.repeat(4001) })), 400, 'invalid-text')
    assertError(await api('/api/nick', { method: 'PUT', json: { nick: '' } }), 400, 'invalid-nick')
    assertError(await api('/api/messages?limit=0'), 400, 'invalid-query')
    assertError(await api('/api/messages?limit=abc'), 400, 'invalid-query')
    assertError(await api('/api/messages?since=not-an-id'), 400, 'invalid-query')
    assertError(await api('/api/rooms/%E0%A4%A/peers'), 400, 'invalid-path')
  })

  void test('errors never echo the raw input', async () => {
    const hostile = '<script>alert(1)</script>'
    for (const r of [
      await api('/api/messages', { method: 'POST', json: { room: hostile, text: 'x' } }),
      await api(`/api/messages?room=${encodeURIComponent(hostile)}`),
      await api(`/api/rooms/${encodeURIComponent(hostile)}`, { method: 'DELETE' }),
      await api('/api/nick', { method: 'PUT', json: { nick: `${hostile}\u0007` } })
    ]) {
      assert.equal(r.status, 400)
      assert.doesNotMatch(JSON.stringify(r.body), /script|alert/)
    }
  })

  void test('404 for unknown paths, unknown since IDs and rooms this node is not in', async () => {
    assertError(await api('/api/nope'), 404, 'not-found')
    assertError(await api('/api'), 404, 'not-found')
    assertError(await api('/no-such-file.html'), 404, 'not-found')
    assertError(await api(`/api/messages?room=main&since=${'0'.repeat(32)}`), 404, 'unknown-since')
    assertError(await api('/api/messages', { method: 'POST', json: { room: 'elsewhere', text: 'x' } }), 404, 'not-in-room')
  })

  void test('405 names the allowed methods', async () => {
    const r = await api('/api/messages', { method: 'PATCH' })
    assertError(r, 405, 'method-not-allowed')
    assert.equal(r.headers.get('allow'), 'GET, POST, OPTIONS')
    const s = await api('/api/status', { method: 'POST', json: {} })
    assertError(s, 405, 'method-not-allowed')
    assert.equal(s.headers.get('allow'), 'GET, OPTIONS')
    const st = await api('/index.html', { method: 'DELETE' })
    assertError(st, 405, 'method-not-allowed')
    assert.equal(st.headers.get('allow'), 'GET, HEAD, OPTIONS')
  })

  void test('415 for a body that is not application/json, and nothing is sent', async () => {
    const before = a.app.chat.messages('main').length
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await api('/api/messages', { method: 'POST', body: '{"room":"main","text":"form"}', headers: { 'Content-Type': type } })
      assertError(r, 415, 'unsupported-media-type')
    }
    assert.equal(a.app.chat.messages('main').length, before)
  })

  void test('413 for a body over the limit', async () => {
    const r = await api('/api/messages', { method: 'POST', json: { room: 'main', text: 'x'.repeat(70 * 1024) } })
    assertError(r, 413, 'body-too-large')
  })

  void test('429 with Retry-After once a client has used its tokens, while reads still work', async t => {
    const c = await startHttpNode(t, { nick: 'carol', http: { rateLimit: { capacity: 2, refillPerSecond: 0.001 } } })
    const post = async (): Promise<Response> =>
      await fetch(`${c.base}/api/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"hi"}' })
    assert.equal((await post()).status, 201)
    assert.equal((await post()).status, 201)
    const limited = await post()
    assert.equal(limited.status, 429)
    assert.equal(((await limited.json()) as any).error.code, 'rate-limited')
    assert.ok(Number(limited.headers.get('retry-after')) >= 1)
    assert.equal(c.app.chat.messages('main').length, 2)
    assert.equal((await fetch(`${c.base}/api/status`)).status, 200)
  })

  void test('an unexpected failure answers 500 without a stack', async t => {
    const errors: unknown[] = []
    const c = await startHttpNode(t, { nick: 'dave', http: { onError: err => errors.push(err) } })
    ;(c.app.chat as any).status = () => {
      throw new Error('secret internal detail /home/x/file.ts:12')
    }
    const res = await fetch(`${c.base}/api/status`)
    const body = await res.json()
    assert.equal(res.status, 500)
    assert.deepEqual(body, { error: { code: 'internal', message: 'internal error' } })
    assert.equal(errors.length, 1, 'reported to the node, not to the client')
  })
})

void describe('live stream', () => {
  const isMessage = (e: SseEvent): boolean => e.event === 'message'

  void test('sends every event as JSON with an id, starting with ready', async t => {
    const s = await openEvents(`${a.base}/api/events`)
    t.after(() => s.close())
    assert.equal(s.status, 200)
    assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/)
    const ready = await s.waitFor(e => e.event === 'ready', 'ready')
    assert.deepEqual(ready.data, { resumed: false, reason: 'new' })
    assert.match(ready.id ?? '', /^[a-z0-9]+-\d+$/)
    await api('/api/messages', { method: 'POST', json: { room: 'main', text: 'line one\nline two\n\nevent: forged' } })
    const m = await s.waitFor(isMessage, 'a message')
    assert.equal(m.data.message.text, 'line one\nline two\n\nevent: forged')
    assert.equal(m.data.own, true)
    assert.equal(m.data.origin, 'local')
    assert.ok(!s.events.some(e => e.event === 'forged'))
  })

  void test('carries joins, leaves, room and nick changes, and peer connects and disconnects', async t => {
    const s = await openEvents(`${a.base}/api/events`)
    t.after(() => s.close())
    await s.waitFor(e => e.event === 'ready', 'ready')
    await api('/api/rooms', { method: 'POST', json: { room: 'events' } })
    await s.waitFor(e => e.event === 'rooms:change' && e.data.rooms.includes('events'), 'rooms:change')
    b.app.chat.join('events')
    await s.waitFor(e => e.event === 'room:join' && e.data.room === 'events' && e.data.peerId === b.info.peerId, 'room:join')
    b.app.chat.leave('events')
    await s.waitFor(e => e.event === 'room:leave' && e.data.room === 'events', 'room:leave')
    await api('/api/rooms/events', { method: 'DELETE' })
    await api('/api/nick', { method: 'PUT', json: { nick: 'alicia' } })
    await s.waitFor(e => e.event === 'nick:change' && e.data.nick === 'alicia' && e.data.previous === 'alice', 'nick:change')
    await api('/api/nick', { method: 'PUT', json: { nick: 'alice' } })
    const c = await startHttpNode(t, { nick: 'carol', peers: [dialAddr(a)], noHttp: true })
    await s.waitFor(e => e.event === 'peer:connect' && e.data.peerId === c.info.peerId, 'peer:connect')
    await c.app.stop()
    await s.waitFor(e => e.event === 'peer:disconnect' && e.data.peerId === c.info.peerId, 'peer:disconnect')
    const seqs = s.events.filter(e => e.id != null).map(e => Number(e.id?.split('-')[1]))
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y)
    )
  })

  void test('resumes from Last-Event-ID without gaps or repeats', async t => {
    const first = await openEvents(`${a.base}/api/events`)
    t.after(() => first.close())
    await first.waitFor(e => e.event === 'ready', 'ready')
    const texts = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `resume ${from + i}`)
    for (const text of texts(0, 3)) await api('/api/messages', { method: 'POST', json: { room: 'main', text } })
    const seen = await first.waitForCount(isMessage, 3, 'three messages')
    first.close()
    await first.closed
    const lastId = seen[2].id ?? ''
    // Sent while the client is away: a message from here and one from a peer.
    for (const text of texts(3, 2)) await api('/api/messages', { method: 'POST', json: { room: 'main', text } })
    const fromBob = await b.app.chat.send('main', 'resume 5')
    await waitUntil(() => a.app.chat.history.has(fromBob.id), 'alice has it')

    const second = await openEvents(`${a.base}/api/events`, { 'Last-Event-ID': lastId })
    t.after(() => second.close())
    const ready = await second.waitFor(e => e.event === 'ready', 'ready')
    assert.equal(ready.data.resumed, true)
    await api('/api/messages', { method: 'POST', json: { room: 'main', text: 'resume 6' } })
    const resumed = await second.waitForCount(isMessage, 4, 'missed and new messages')
    assert.deepEqual(
      resumed.map(e => e.data.message.text),
      texts(3, 4)
    )
    const all = [...seen, ...resumed].map(e => e.id)
    assert.equal(new Set(all).size, all.length, 'no repeats')

    // The same through the query parameter (for clients that open a new EventSource).
    const third = await openEvents(`${a.base}/api/events?lastEventId=${encodeURIComponent(lastId)}`)
    t.after(() => third.close())
    const again = await third.waitForCount(isMessage, 4, 'missed messages via query')
    assert.deepEqual(
      again.map(e => e.id),
      resumed.map(e => e.id)
    )
  })

  void test('a client too far behind, or from an earlier run, is told to refetch', async t => {
    const c = await startHttpNode(t, { nick: 'carol', http: { live: { capacity: 2 } } })
    const s = await openEvents(`${c.base}/api/events`)
    t.after(() => s.close())
    const ready = await s.waitFor(e => e.event === 'ready', 'ready')
    s.close()
    for (let i = 0; i < 4; i++) await c.app.chat.send('main', `m${i}`)
    const late = await openEvents(`${c.base}/api/events`, { 'Last-Event-ID': ready.id ?? '' })
    t.after(() => late.close())
    const r = await late.waitFor(e => e.event === 'ready', 'ready')
    assert.deepEqual(r.data, { resumed: false, reason: 'too-far-behind' })
    assert.equal(r.id, c.app.http?.live.cursor)
    await c.app.chat.send('main', 'after the reset')
    const live = await late.waitFor(isMessage, 'the next live message')
    assert.equal(live.data.message.text, 'after the reset')
    assert.equal(late.events.filter(isMessage).length, 1, 'no partial replay')

    const other = await openEvents(`${c.base}/api/events`, { 'Last-Event-ID': 'zzzz-1' })
    t.after(() => other.close())
    assert.deepEqual((await other.waitFor(e => e.event === 'ready', 'ready')).data, { resumed: false, reason: 'unknown-cursor' })
  })

  void test('heartbeats keep an idle stream open', async () => {
    const sock = await rawSocket(a.app.http?.port ?? 0)
    try {
      sock.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
      await waitUntil(() => sock.received().includes(': ping'), 'a heartbeat')
    } finally {
      sock.destroy()
    }
  })

  void test('stopping the server ends open streams', async t => {
    const c = await startHttpNode(t, { nick: 'carol' })
    const s = await openEvents(`${c.base}/api/events`)
    await s.waitFor(e => e.event === 'ready', 'ready')
    await c.app.http?.stop()
    await s.closed
    const r = await rawRequest(a.app.http?.port ?? 0, { path: '/api/status' })
    assert.equal(r.status, 200)
  })
})
