/**
 * The interactive terminal, replayed on a small emulated screen: incoming lines appear above the
 * prompt and never break what the user is typing, also when the input wraps over several rows.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { SYNC_LIVE_WINDOW, Terminal } from '../../../src/cli/terminal.js'
import { TypedEvents } from '../../../src/events.js'
import type { ChatEvents, ChatMessage, ChatService } from '../../../src/chat/index.js'
import { Screen } from '../../helpers/screen.js'
import { waitUntil } from '../../helpers/wait.js'

const COLUMNS = 40
const BOB = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const ME = '12D3KooWNHCUKWNpbxkxo8tLgdHzZzGJ2cwsfNP2WWqHemkGJpAG'

/** Just what the terminal uses of the chat service; send() echoes like the real one. */
class FakeChat extends TypedEvents<ChatEvents> {
  readonly peerId = ME
  /** History sync's events (clock skew notices); none in these tests. */
  readonly syncEvents = new TypedEvents<Record<string, unknown>>()
  readonly sent: string[] = []
  /** The room's messages in order, as the real service holds them when it emits. */
  private readonly held: ChatMessage[] = []
  private seq = 0
  rooms(): string[] {
    return ['main']
  }

  messages(_room: string, options: { limit?: number } = {}): ChatMessage[] {
    return this.held.slice(-(options.limit ?? this.held.length))
  }

  deliver(from: string, nick: string, text: string, arrival: { origin?: 'live' | 'sync'; ts?: number } = {}): void {
    this.seq++
    const message: ChatMessage = {
      v: 1,
      id: String(this.seq).padStart(32, '0'),
      room: 'main',
      from,
      nick,
      text,
      ts: arrival.ts ?? 0,
      lc: 0,
      seq: this.seq,
      sig: ''
    }
    this.held.push(message)
    this.held.sort((a, b) => a.ts - b.ts)
    this.emit('message:new', { message, origin: from === ME ? 'local' : (arrival.origin ?? 'live'), own: from === ME })
  }

  async send(_room: string, text: string): Promise<void> {
    this.sent.push(text)
    await Promise.resolve()
    this.deliver(ME, 'me', text)
  }
}

function setup(t: { after: (fn: () => void) => void }, now?: () => number): { chat: FakeChat; screen: Screen; input: PassThrough } {
  const chat = new FakeChat()
  const screen = new Screen(COLUMNS)
  const input = new PassThrough()
  const terminal = new Terminal(chat as unknown as ChatService, {
    input,
    output: screen,
    interactive: true,
    style: { color: false, time: () => '12:34' },
    now
  })
  t.after(() => {
    terminal.stop()
  })
  terminal.start()
  return { chat, screen, input }
}

const A33 = 'a'.repeat(33)
const A27 = 'a'.repeat(27)

void test('an incoming line is printed above a short input without changing it', async t => {
  const { chat, screen, input } = setup(t)
  input.write('hel')
  await waitUntil(() => screen.lines().at(-1) === '#main> hel', 'the typed text')
  chat.deliver(BOB, 'bob', 'hi there')
  assert.deepEqual(screen.lines(), ['[12:34] bob: hi there', '#main> hel'])
  assert.deepEqual(screen.cursor(), { row: 1, col: 10 })
})

void test('an incoming line is printed above an input that wraps over two rows, leaving no stale row', async t => {
  const { chat, screen, input } = setup(t)
  input.write('a'.repeat(60))
  await waitUntil(() => screen.lines().length === 2, 'the wrapped input')
  assert.deepEqual(screen.lines(), [`#main> ${A33}`, A27])
  chat.deliver(BOB, 'bob', 'first')
  assert.deepEqual(screen.lines(), ['[12:34] bob: first', `#main> ${A33}`, A27])
  assert.deepEqual(screen.cursor(), { row: 2, col: 27 })

  // With the cursor moved back onto the first row of the input.
  input.write('\u001b[D'.repeat(30))
  await waitUntil(() => screen.cursor().row === 1, 'the cursor on the first input row')
  chat.deliver(BOB, 'bob', 'second')
  assert.deepEqual(screen.lines(), ['[12:34] bob: first', '[12:34] bob: second', `#main> ${A33}`, A27])
  assert.equal(screen.cursor().row, 2, 'the cursor stays on the first row of the input')
})

void test('a message that history sync brought seconds after it was sent, newest of its room, is printed as live; an old or out-of-order one as history', async t => {
  const NOW = 1_800_000_000_000
  const { chat, screen } = setup(t, () => NOW)
  // The newest of the room, but older than the window: history.
  chat.deliver(BOB, 'bob', 'from yesterday', { origin: 'sync', ts: NOW - SYNC_LIVE_WINDOW - 1 })
  chat.deliver(BOB, 'bob', 'live one', { ts: NOW - 3_000 })
  // Sync won the race with the live copy: the conversation goes on, no "(history)".
  chat.deliver(BOB, 'bob', 'raced', { origin: 'sync', ts: NOW - 400 })
  assert.deepEqual(screen.lines(), ['[12:34] bob: live one', '[12:34] bob: raced', '#main>'])
  // Recent, but earlier than what is on screen: history.
  chat.deliver(BOB, 'bob', 'missed earlier', { origin: 'sync', ts: NOW - 2_000 })
  await waitUntil(() => screen.lines().length === 5, 'the history burst')
  assert.deepEqual(screen.lines().slice(2), ['[12:34] (history) bob: from yesterday', '[12:34] (history) bob: missed earlier', '#main>'])
})

void test('sending a wrapped input replaces its echo with the message, and the prompt is empty again', async t => {
  const { chat, screen, input } = setup(t)
  input.write('a'.repeat(60) + '\r')
  await waitUntil(() => chat.sent.length === 1 && screen.lines().at(-1) === '#main>', 'the sent message')
  assert.deepEqual(screen.lines(), [`[12:34] [You] ${'a'.repeat(26)}`, 'a'.repeat(34), '#main>'])
  assert.deepEqual(chat.sent, ['a'.repeat(60)])
})

/** A piped terminal (no prompt, no echo): its input, its writes as they came, and what it printed as lines. */
function setupPipe(
  t: { after: (fn: () => void) => void },
  chat: FakeChat
): { input: PassThrough; terminal: Terminal; writes: string[]; printed: () => string[] } {
  const input = new PassThrough()
  const output = new PassThrough()
  const writes: string[] = []
  output.on('data', (chunk: Buffer) => writes.push(chunk.toString('utf8')))
  const terminal = new Terminal(chat as unknown as ChatService, {
    input,
    output,
    interactive: false,
    style: { color: false, time: () => '12:34' }
  })
  t.after(() => {
    terminal.stop()
  })
  terminal.start()
  return {
    input,
    terminal,
    writes,
    printed: () =>
      writes
        .join('')
        .split('\n')
        .filter(l => l !== '')
  }
}

void test('on a pipe, lines that arrive together are written together, in order, and none is lost at stop', async t => {
  const chat = new FakeChat()
  const { terminal, writes } = setupPipe(t, chat)
  chat.deliver(BOB, 'bob', 'one')
  chat.deliver(BOB, 'bob', 'two')
  chat.deliver(BOB, 'bob', 'three')
  await waitUntil(() => writes.length > 0, 'the first write')
  assert.deepEqual(writes, ['[12:34] bob: one\n[12:34] bob: two\n[12:34] bob: three\n'])
  chat.deliver(BOB, 'bob', 'last words')
  terminal.stop()
  await waitUntil(() => writes.length > 1, 'the write at stop')
  assert.equal(writes[1], '[12:34] bob: last words\n')
})

void test('on a pipe, a line over the limit is reported and dropped, and the lines around it are sent', async t => {
  const chat = new FakeChat()
  const { input, printed } = setupPipe(t, chat)
  input.write('before\n')
  for (let i = 0; i < 64; i++) input.write(Buffer.alloc(64 * 1024, 0x61))
  input.write('\nafter\r\nlast without newline')
  input.end()
  await waitUntil(() => chat.sent.length === 3, 'three messages sent')
  assert.deepEqual(chat.sent, ['before', 'after', 'last without newline'])
  await waitUntil(() => printed().some(l => l.includes('not sent')), 'the error line')
  assert.ok(
    printed().includes(`! a line of ${64 * 64 * 1024} bytes was not sent: a message may have at most 16384 bytes`),
    printed().join('\n')
  )
})

void test('on a pipe, reading pauses while many lines wait to be sent and resumes as they go, losing none', async t => {
  let open: () => void = () => {}
  let gate = new Promise<void>(resolve => (open = resolve))
  class SlowChat extends FakeChat {
    override async send(room: string, text: string): Promise<void> {
      await gate
      await super.send(room, text)
    }
  }
  const chat = new SlowChat()
  const { input } = setupPipe(t, chat)
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`)
  input.write(lines.slice(0, 1000).join('\n') + '\n')
  await waitUntil(() => input.isPaused(), 'input paused')
  assert.equal(chat.sent.length, 0)
  input.write(lines.slice(1000).join('\n') + '\n')
  open()
  gate = Promise.resolve()
  await waitUntil(() => chat.sent.length === lines.length, 'every line sent')
  assert.deepEqual(chat.sent, lines)
  assert.equal(input.isPaused(), false, 'reading again once the queue drained')
})
