/** Terminal lines: remote text can never carry escapes; colours only when asked; layout of messages. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  sanitize,
  renderMessage,
  renderBanner,
  renderPeers,
  renderRooms,
  renderHelp,
  renderJoin,
  renderLeave,
  renderConnect,
  renderDisconnect,
  renderError,
  colorIndex,
  localTime
} from '../../../src/cli/render.js'
import type { ChatMessage } from '../../../src/chat/index.js'

const PLAIN = { color: false, time: () => '12:34' }
const COLOR = { color: true, time: () => '12:34' }
const ESC = '\u001b'

function msg(fields: Partial<ChatMessage> = {}): ChatMessage {
  return {
    v: 1,
    id: '0'.repeat(32),
    room: 'main',
    from: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN',
    nick: 'bob',
    text: 'hi',
    ts: 0,
    lc: 0,
    seq: 1,
    sig: 'x',
    ...fields
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u

void test('sanitize replaces ESC, CSI, BEL, C1 controls and bidi overrides, and keeps newlines', () => {
  const hostile = `a${ESC}[2J${ESC}]0;title\u0007b\u009b31mc\u0085d\u202eevil\u2066e\r\nf`
  const out = sanitize(hostile)
  assert.ok(!CONTROL.test(out), JSON.stringify(out))
  assert.ok(out.includes('\n'))
  assert.ok(out.includes('\uFFFD'))
  assert.equal(sanitize('plain ✓ 😀'), 'plain ✓ 😀')
})

void test('a message renders as [HH:MM] nick: text without colours when colour is off', () => {
  assert.equal(renderMessage(msg(), { own: false, showRoom: false }, PLAIN), '[12:34] bob: hi')
  assert.equal(renderMessage(msg(), { own: false, showRoom: true }, PLAIN), '[12:34] #main bob: hi')
  assert.ok(!renderMessage(msg(), { own: false, showRoom: false }, PLAIN).includes(ESC))
})

void test('own messages are marked [You]', () => {
  assert.equal(renderMessage(msg({ text: 'mine' }), { own: true, showRoom: false }, PLAIN), '[12:34] [You] mine')
})

void test('history messages are marked', () => {
  assert.match(renderMessage(msg(), { own: false, showRoom: false, history: true }, PLAIN), /\(history\)/)
})

void test('continuation lines of a multi-line message are indented under the text', () => {
  const out = renderMessage(msg({ text: 'one\ntwo\nthree' }), { own: false, showRoom: false }, PLAIN).split('\n')
  assert.equal(out.length, 3)
  assert.equal(out[0], '[12:34] bob: one')
  assert.match(out[1], /^ +two$/)
  assert.match(out[2], /^ +three$/)
  assert.equal(out[1].indexOf('two'), out[2].indexOf('three'))
  assert.ok(out[1].indexOf('two') >= '[12:34] '.length)
})

void test('escape sequences in a remote nick or text never reach the output', () => {
  const out = renderMessage(msg({ nick: `x${ESC}[31m`, text: `a${ESC}[2Jb\u0007` }), { own: false, showRoom: false }, COLOR)
  // The only escapes left are our own colour codes: ESC [ digits m.
  assert.equal(out.replace(new RegExp(`${ESC}\\[\\d+m`, 'g'), '').includes(ESC), false, JSON.stringify(out))
  assert.ok(!out.includes('\u0007'))
  assert.ok(!out.includes(`${ESC}[2J`))
})

void test('with colour on, a nick gets a colour that is stable per peer', () => {
  const a = renderMessage(msg(), { own: false, showRoom: false }, COLOR)
  assert.ok(a.includes(`${ESC}[`))
  assert.equal(a, renderMessage(msg(), { own: false, showRoom: false }, COLOR))
  assert.equal(colorIndex('peer-a'), colorIndex('peer-a'))
  const distinct = new Set(Array.from({ length: 50 }, (_, i) => colorIndex(`peer-${i}`)))
  assert.ok(distinct.size > 1)
})

void test('no line renderer adds colour when colour is off', () => {
  const lines = [
    renderJoin(PLAIN, 'bob', 'main'),
    renderLeave(PLAIN, 'bob', 'main'),
    renderConnect(PLAIN, 'bob', 'mdns'),
    renderConnect(PLAIN, 'bob', 'dial'),
    renderConnect(PLAIN, 'bob', 'inbound'),
    renderDisconnect(PLAIN, 'bob'),
    renderError(PLAIN, 'oops')
  ]
  for (const l of lines) assert.ok(!l.includes(ESC), l)
  assert.equal(renderJoin(PLAIN, 'Bob', 'main'), '* Bob joined #main')
  assert.equal(renderLeave(PLAIN, 'Bob', 'main'), '* Bob left #main')
  assert.equal(renderConnect(PLAIN, 'bob', 'mdns'), '✓ mDNS connected to bob')
})

void test('notices sanitise nicks they show', () => {
  assert.ok(!renderJoin(PLAIN, `e${ESC}[2J`, 'main').includes(ESC))
  assert.ok(!renderConnect(PLAIN, `e${ESC}[2J`, 'dial').includes(ESC))
})

void test('the banner shows peer ID, every address, chat.log and the connect command', () => {
  const out = renderBanner(
    {
      version: '1.2.3',
      peerId: '12D3KooWX',
      nick: 'ada',
      addresses: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWX', '/ip4/10.0.0.1/tcp/1/p2p/12D3KooWX'],
      logPath: '/d/chat.log',
      rooms: ['main', 'lab'],
      connectCommand: 'lan-chat --peer /ip4/10.0.0.1/tcp/1/p2p/12D3KooWX'
    },
    PLAIN
  )
  for (const s of [
    '1.2.3',
    '12D3KooWX',
    '/ip4/127.0.0.1/tcp/1',
    '/ip4/10.0.0.1/tcp/1',
    '/d/chat.log',
    '#main #lab',
    'lan-chat --peer ',
    '--no-mdns'
  ])
    assert.ok(out.includes(s), s)
})

void test('peers, rooms and help render as readable lists', () => {
  assert.equal(renderPeers([]), 'No peers connected.')
  const peers = renderPeers([{ name: 'bob', peerId: '12D3KooWabcdefghijkl', rtt: 3, via: 'dial', rooms: ['main'] }])
  assert.match(peers, /1 peer/)
  assert.match(peers, /bob/)
  assert.match(peers, /3 ms/)
  assert.match(peers, /#main/)
  assert.match(renderPeers([{ name: 'x', peerId: 'p', via: 'mDNS', rooms: [] }]), /no reply/)
  const rooms = renderRooms([
    { room: 'main', peers: 1, current: true },
    { room: 'lab', peers: 2, current: false }
  ])
  assert.match(rooms, /> #main \(1 peer\)/)
  assert.match(rooms, /#lab \(2 peers\)/)
  assert.match(renderHelp(), /\/quit/)
})

void test('local time is HH:MM', () => {
  assert.match(localTime(Date.now()), /^\d\d:\d\d$/)
})
