/**
 * The terminal front end: reads lines (a TTY or a pipe), calls the chat service, and prints what
 * the service emits. Incoming lines are printed above the input line without disturbing what the
 * user is typing. The only module that writes to stdout.
 */
import { createInterface, clearScreenDown, cursorTo, moveCursor, type Interface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { compareMessages, type ChatMessage, type ChatService } from '../chat/index.js'
import { LanChatError } from '../errors.js'
import { MAX_TEXT_BYTES } from '../rules.js'
import { TypedEvents } from '../events.js'
import { parseInput, type Command } from './commands.js'
import { LineSplitter, type InputLine } from './line-splitter.js'
import {
  renderConnect,
  renderDisconnect,
  renderError,
  renderHelp,
  renderHistorySummary,
  renderSyncStatus,
  renderJoin,
  renderLeave,
  renderMessage,
  renderNotice,
  renderPeers,
  renderRooms,
  type Style
} from './render.js'

/** How long `/peers` waits for each ping. */
export const DEFAULT_PEERS_PING_TIMEOUT = 2_000
/** Messages from history are printed together once none arrived for this long. */
export const HISTORY_FLUSH_DELAY = 200
/** A burst of more history than this prints a summary line and only the newest ones. */
export const HISTORY_SHOWN = 10
/**
 * A message that history sync brought is printed like a live one when it is the newest of its
 * room and stamped at most this long ago: a sync round that runs while a message is sent can
 * fetch it before its live copy arrives (seen at 30 nodes under load), and it is part of the
 * conversation, not history.
 */
export const SYNC_LIVE_WINDOW = 10_000
/** Input lines waiting to be handled at which reading pauses (a large file piped in)... */
export const INPUT_HIGH_WATER = 256
/** ...and at which it resumes. */
export const INPUT_LOW_WATER = 32

export interface TerminalInit {
  input: Readable
  output: Writable
  /** Input and output are an interactive terminal: draw a prompt and keep it below new lines. */
  interactive: boolean
  style: Style
  peersPingTimeout?: number
  /** See SYNC_LIVE_WINDOW. */
  syncLiveWindow?: number
  /** The wall clock, for SYNC_LIVE_WINDOW; injectable for tests. */
  now?: () => number
}

export interface TerminalEvents extends Record<string, unknown> {
  /** The user asked to quit (/quit, or Ctrl-D on a terminal). */
  quit: Record<string, never>
}

export class Terminal extends TypedEvents<TerminalEvents> {
  private readonly chat: ChatService
  private readonly init: TerminalInit
  private rl?: Interface
  /** Pauses, resumes and detaches the input, whichever reader it has. */
  private input?: { pause: () => void; resume: () => void; detach: () => void }
  private current: string
  private queue: Promise<void> = Promise.resolve()
  /** Input lines queued and not yet handled. */
  private waiting = 0
  private paused = false
  private readonly offs: Array<() => void> = []
  private readonly history = new Map<string, ChatMessage[]>()
  private historyTimer?: ReturnType<typeof setTimeout>
  /** Lines for a non-interactive output, written together once the current burst is handled. */
  private pendingLines: string[] = []
  private pendingWrite?: ReturnType<typeof setImmediate>

  constructor(chat: ChatService, init: TerminalInit) {
    super()
    this.chat = chat
    this.init = init
    this.current = chat.rooms()[0] ?? 'main'
  }

  get currentRoom(): string {
    return this.current
  }

  start(): void {
    if (this.input != null) return
    if (this.init.interactive) this.readTerminal()
    else this.readPipe()
    const s = this.init.style
    const c = this.chat
    this.offs.push(
      c.on('message:new', e => {
        const { message, own, origin } = e.detail
        if (origin === 'sync' && !this.inConversation(message)) {
          this.queueHistory(message)
          return
        }
        this.print(renderMessage(message, { own, showRoom: c.rooms().length > 1 || message.room !== this.current }, s))
      }),
      c.on('room:join', e => {
        this.print(renderJoin(s, e.detail.nick ?? e.detail.peerId, e.detail.room))
      }),
      c.on('room:leave', e => {
        this.print(renderLeave(s, e.detail.nick ?? e.detail.peerId, e.detail.room))
      }),
      c.on('peer:connect', e => {
        this.print(renderConnect(s, e.detail.nick ?? e.detail.peerId, e.detail.via))
      }),
      c.on('peer:disconnect', e => {
        this.print(renderDisconnect(s, e.detail.nick ?? e.detail.peerId))
      }),
      c.on('peer:nick', e => {
        if (e.detail.previous != null) this.print(renderNotice(s, `${e.detail.previous} is now known as ${e.detail.nick}`))
      }),
      c.on('peer:banned', e => {
        this.print(renderError(s, `${e.detail.nick ?? e.detail.peerId} sent too many invalid messages and was disconnected for a while`))
      }),
      c.on('dial:error', e => {
        if (e.detail.attempt === 1 || e.detail.attempt % 10 === 0)
          this.print(
            renderError(s, `cannot reach ${e.detail.target} (${e.detail.error}); retrying in ${Math.round(e.detail.retryInMs / 1000)}s`)
          )
      }),
      c.on('store:problem', e => {
        this.print(renderError(s, e.detail.message))
      }),
      c.syncEvents.on('clock:skew', e => {
        const minutes = Math.round(e.detail.offsetMs / 60_000)
        this.print(
          renderNotice(
            s,
            `${e.detail.nick}'s clock is ${Math.abs(minutes)} min ${minutes > 0 ? 'ahead of' : 'behind'} yours; messages stay in order, their times may look off`
          )
        )
      })
    )
    this.prompt()
  }

  stop(): void {
    this.flushLines()
    clearTimeout(this.historyTimer)
    this.historyTimer = undefined
    for (const off of this.offs.splice(0)) off()
    const input = this.input
    this.input = undefined
    this.rl = undefined
    if (input == null) return
    input.detach()
    if (this.init.interactive) this.init.output.write('\n')
  }

  /** An interactive terminal: readline edits the line and keeps a history of it. */
  private readTerminal(): void {
    const rl = createInterface({ input: this.init.input, output: this.init.output, terminal: true, historySize: 200 })
    this.rl = rl
    this.input = {
      pause: () => rl.pause(),
      resume: () => rl.resume(),
      detach: () => {
        rl.removeAllListeners('close')
        rl.close()
      }
    }
    rl.on('line', line => {
      // Replace the echoed input (which may have wrapped over several rows) with what follows.
      this.eraseInput(this.rowsOf(line) + 1)
      this.enqueue({ kind: 'line', text: line })
    })
    // Ctrl-D quits.
    rl.on('close', () => this.emit('quit', {}))
    rl.on('SIGINT', () => {
      process.kill(process.pid, 'SIGINT')
    })
  }

  /**
   * A pipe or file: split into lines of bounded size (line-splitter.ts). The end of the input
   * does not stop the node, and a read error only ends the input.
   */
  private readPipe(): void {
    const stream = this.init.input
    const splitter = new LineSplitter()
    const onData = (chunk: Buffer | string): void => {
      for (const line of splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)) this.enqueue(line)
    }
    const onEnd = (): void => {
      for (const line of splitter.end()) this.enqueue(line)
    }
    const onError = (err: Error): void => {
      this.print(renderError(this.init.style, `cannot read input any more: ${err.message}`))
    }
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    this.input = {
      pause: () => stream.pause(),
      resume: () => stream.resume(),
      // The error listener stays: a stream error with no listener would throw and end the process.
      detach: () => {
        stream.off('data', onData)
        stream.off('end', onEnd)
        stream.pause()
      }
    }
  }

  /**
   * Queues a line behind the ones before it. Reading pauses while many wait, so a large piped
   * file is read as fast as it is sent, not into memory.
   */
  private enqueue(line: InputLine): void {
    this.waiting++
    if (!this.paused && this.waiting >= INPUT_HIGH_WATER) {
      this.paused = true
      this.input?.pause()
    }
    this.queue = this.queue.then(async () => {
      if (line.kind === 'line') await this.handle(parseInput(line.text))
      else
        this.print(
          renderError(this.init.style, `a line of ${line.bytes} bytes was not sent: a message may have at most ${MAX_TEXT_BYTES} bytes`)
        )
      this.waiting--
      if (this.paused && this.waiting <= INPUT_LOW_WATER) {
        this.paused = false
        this.input?.resume()
      }
    })
  }

  /** Prints the latest messages of the current room (at start, from chat.log). */
  showRecent(limit: number): void {
    const recent = this.chat.messages(this.current, { limit })
    if (recent.length === 0) return
    const s = this.init.style
    this.print(renderNotice(s, `last ${recent.length} message(s) in #${this.current}:`))
    for (const m of recent) this.print(renderMessage(m, { own: m.from === this.chat.peerId, showRoom: false }, s))
  }

  /** A message from history sync that continues the conversation (see SYNC_LIVE_WINDOW). */
  private inConversation(message: ChatMessage): boolean {
    const now = (this.init.now ?? Date.now)()
    if (now - message.ts > (this.init.syncLiveWindow ?? SYNC_LIVE_WINDOW)) return false
    return this.chat.messages(message.room, { limit: 1 })[0]?.id === message.id
  }

  /** Collects messages from history sync; they are printed together (see flushHistory). */
  private queueHistory(message: ChatMessage): void {
    const list = this.history.get(message.room) ?? []
    list.push(message)
    this.history.set(message.room, list)
    // One timer for the whole burst, pushed back by each message (a sync brings thousands).
    if (this.historyTimer != null) this.historyTimer.refresh()
    else
      this.historyTimer = setTimeout(() => {
        this.historyTimer = undefined
        this.flushHistory()
      }, HISTORY_FLUSH_DELAY)
  }

  /**
   * A terminal cannot insert lines above: history is printed in its room order, marked
   * `(history)`, after a summary line when there is a lot of it.
   */
  private flushHistory(): void {
    const s = this.init.style
    for (const [room, list] of this.history) {
      list.sort(compareMessages)
      if (list.length > HISTORY_SHOWN)
        this.print(
          renderHistorySummary(s, { room, count: list.length, from: list[0].ts, to: list[list.length - 1].ts, shown: HISTORY_SHOWN })
        )
      for (const m of list.slice(-HISTORY_SHOWN))
        this.print(
          renderMessage(
            m,
            { own: m.from === this.chat.peerId, showRoom: this.chat.rooms().length > 1 || room !== this.current, history: true },
            s
          )
        )
    }
    this.history.clear()
  }

  /** Prints a line above the input line. */
  print(text: string): void {
    const { output, interactive } = this.init
    const rl = this.rl
    if (interactive && rl != null) {
      // The input may span several rows and the cursor may sit on any of them: erase from the
      // prompt's first row down, print, and let readline redraw prompt and input below. Before
      // redrawing, readline moves up by the row it last recorded for the cursor (`prevRows`, not
      // always the current one: fast typing skips the update), so leave that many rows for it.
      this.eraseInput(rl.getCursorPos().rows)
      const recorded = (rl as unknown as { prevRows?: number }).prevRows ?? 0
      output.write(text + '\n' + '\n'.repeat(recorded))
      this.prompt()
    } else {
      // A pipe or file: one write per burst of lines instead of one system call per line.
      this.pendingLines.push(text + '\n')
      this.pendingWrite ??= setImmediate(() => {
        this.flushLines()
      })
    }
  }

  /** Writes the lines print() gathered for a non-interactive output. */
  private flushLines(): void {
    if (this.pendingWrite != null) clearImmediate(this.pendingWrite)
    this.pendingWrite = undefined
    if (this.pendingLines.length === 0) return
    const text = this.pendingLines.join('')
    this.pendingLines = []
    this.init.output.write(text)
  }

  /** Moves up `rows` rows to the left edge and clears everything below. */
  private eraseInput(rows: number): void {
    const output = this.init.output
    if (rows > 0) moveCursor(output, 0, -rows)
    cursorTo(output, 0)
    clearScreenDown(output)
  }

  /** The row (from 0) on which prompt + text ends, measured by readline itself. */
  private rowsOf(text: string): number {
    const rl = this.rl
    if (rl == null) return 0
    const prompt = rl.getPrompt()
    rl.setPrompt(prompt + text)
    const { rows } = rl.getCursorPos()
    rl.setPrompt(prompt)
    return rows
  }

  private prompt(): void {
    if (!this.init.interactive || this.rl == null) return
    this.rl.setPrompt(`#${this.current}> `)
    this.rl.prompt(true)
  }

  /** Runs one parsed command; errors become a line, never a crash. */
  async handle(cmd: Command): Promise<void> {
    const s = this.init.style
    try {
      switch (cmd.kind) {
        case 'empty':
          this.prompt()
          return
        case 'message':
          // Published is enough: the next line must not wait for a disk sync (service.ts).
          await this.chat.send(this.current, cmd.text, { durable: false })
          return
        case 'help':
          this.print(renderHelp())
          return
        case 'nick':
          this.print(renderNotice(s, `you are now known as ${this.chat.setNick(cmd.nick)}`))
          return
        case 'join': {
          const room = this.chat.join(cmd.room)
          this.current = room
          const peers = this.chat.roomPeers(room).length
          this.print(renderNotice(s, `you joined #${room} (${peers} peer${peers === 1 ? '' : 's'} here); you now type into #${room}`))
          return
        }
        case 'leave': {
          const target = cmd.room ?? this.current
          if (this.chat.rooms().length === 1 && this.chat.rooms()[0] === target.replace(/^#/, '').toLowerCase()) {
            this.print(renderError(s, 'you cannot leave your only room; /join another first'))
            return
          }
          const room = this.chat.leave(target)
          if (room === this.current) this.current = this.chat.rooms()[0]
          this.print(renderNotice(s, `you left #${room}; you now type into #${this.current}`))
          return
        }
        case 'room': {
          const room = cmd.room.replace(/^#/, '').toLowerCase()
          if (!this.chat.rooms().includes(room)) {
            this.print(renderError(s, `you are not in #${room} (use /join ${room})`))
            return
          }
          this.current = room
          this.print(renderNotice(s, `you now type into #${room}`))
          return
        }
        case 'rooms':
          this.print(
            renderRooms(this.chat.rooms().map(room => ({ room, peers: this.chat.roomPeers(room).length, current: room === this.current })))
          )
          return
        case 'peers': {
          const timeout = this.init.peersPingTimeout ?? DEFAULT_PEERS_PING_TIMEOUT
          const peers = this.chat.peers()
          const rtts = await Promise.all(
            peers.map(
              async p =>
                await Promise.race([
                  this.chat.ping(p.peerId).catch(() => undefined),
                  new Promise<undefined>(resolve =>
                    setTimeout(() => {
                      resolve(undefined)
                    }, timeout).unref()
                  )
                ])
            )
          )
          this.print(
            renderPeers(
              peers.map((p, i) => ({
                name: p.name,
                peerId: p.peerId,
                rtt: rtts[i],
                via: p.via === 'mdns' ? 'mDNS' : p.via,
                rooms: p.rooms
              }))
            )
          )
          this.print(renderSyncStatus(this.chat.rooms().map(room => ({ room, ...this.chat.syncStatus(room) }))))
          return
        }
        case 'quit':
          this.emit('quit', {})
          return
        case 'error':
          this.print(renderError(s, cmd.message))
      }
    } catch (err) {
      this.print(renderError(s, err instanceof LanChatError ? err.message : `unexpected error: ${(err as Error).message}`))
    }
  }
}
