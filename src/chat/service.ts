/**
 * The chat service: the one path in (send, join, leave, nick) for the terminal, the HTTP API and
 * the web UI, and the one path out (typed events) that they all listen to.
 *
 * Messages from peers (live or history sync) go through one `record()` path: history, then
 * chat.log, then the `message:new` event. A message sent here is written to chat.log first (it
 * then survives the process dying), then published and shown, and acknowledged (send resolves)
 * once it is durable there (see send()).
 */
import type { ChatLog, History, LogProblem } from '../store/index.js'
import type { ConnectVia, MessageHandler, PeerSummary, Verdict } from '../network/index.js'
import { shortPeerId } from '../network/index.js'
import { InvalidMessageError, NotInRoomError, StorageError } from '../errors.js'
import { TypedEvents } from '../events.js'
import { checkShape, decodeMessage, encodeMessage, toRecord, type ChatMessage } from './message.js'
import { normalizeNick, normalizeRoom, normalizeText } from '../rules.js'
import type { HybridClock } from './clock.js'
import type { MessageSigner, MessageVerifier } from './signature.js'
import { HistorySync, type HistorySyncInit, type RoomSyncStatus } from './history-sync.js'

/**
 * A message that history sync brings in at most this long after it was written (by the author's
 * clock, as the room orders it) may still have its live copy on the way (see `syncedFirst`).
 */
export const SYNC_BEFORE_LIVE_WINDOW = 60_000

export interface SendOptions {
  /**
   * Resolve only once the message is durably in chat.log (default true). The terminal passes false:
   * it shows nothing for the sync, and waiting for one per line capped piped input at one message
   * per disk sync.
   */
  durable?: boolean
}

/** Where a message came from. */
export type MessageOrigin = 'local' | 'live' | 'sync'

export interface ChatEvents extends Record<string, unknown> {
  /** A message was stored: sent here, received live, or fetched as history. */
  'message:new': { message: ChatMessage; origin: MessageOrigin; own: boolean }
  'message:rejected': { room: string; from: string; reason: string }
  'peer:connect': { peerId: string; nick?: string; via: ConnectVia }
  'peer:disconnect': { peerId: string; nick?: string }
  'peer:nick': { peerId: string; nick: string; previous?: string }
  'peer:banned': { peerId: string; nick?: string; reason: string }
  'room:join': { room: string; peerId: string; nick?: string }
  'room:leave': { room: string; peerId: string; nick?: string }
  /** This node's rooms changed. */
  'rooms:change': { rooms: string[] }
  /** This node's nick changed. */
  'nick:change': { nick: string; previous: string }
  'dial:error': { target: string; error: string; retryInMs: number; attempt: number }
  /** chat.log could not be written or had unreadable lines. */
  'store:problem': { message: string }
}

/**
 * History sync events, on `chat.syncEvents` (kept apart from ChatEvents so that map stays small
 * enough for TypeScript to infer event types through generic helpers).
 */
export interface ChatSyncEvents extends Record<string, unknown> {
  /** A room's history sync state changed ('catching up' while fetching from peers). */
  'sync:change': { room: string; state: RoomSyncStatus['state']; missing: number }
  /** A history sync round with a peer ended. */
  'sync:done': { room: string; peerId: string; fetched: number; rejected: number; error?: string }
  /** A peer's wall clock is far from ours (its messages may be stamped oddly). */
  'clock:skew': { peerId: string; nick: string; offsetMs: number }
}

/** What the chat service needs from the network (the Network class, or a fake in tests). */
export interface ChatNetwork {
  readonly peerId: string
  on: TypedEvents<any>['on']
  handleMessages: (handler: MessageHandler) => void
  joinRoom: (room: string) => void
  leaveRoom: (room: string) => void
  publish: (room: string, data: Uint8Array) => Promise<number>
  roomPeers: (room: string) => string[]
  nickOf: (peerId: string) => string | undefined
  peers: () => PeerSummary[]
  ping: (peerId: string) => Promise<number>
  setNick: (nick: string) => void
  addresses: () => string[]
  /** History sync (optional: without it, only live messages arrive). */
  handleSync?: (handler: (peerId: string, body: unknown) => Promise<unknown>) => void
  requestSync?: (peerId: string, body: unknown, options: { signal?: AbortSignal }) => Promise<unknown>
}

export interface ChatServiceComponents {
  network: ChatNetwork
  log: ChatLog
  history: History<ChatMessage>
  signer: MessageSigner
  verifier: MessageVerifier
  clock: HybridClock
}

export interface ChatServiceInit {
  nick: string
  rooms: string[]
  /** History sync timings and limits. */
  sync?: HistorySyncInit
}

export interface StartReport {
  /** Messages loaded from chat.log. */
  loaded: number
  problems: LogProblem[]
}

export interface RoomPeer {
  peerId: string
  nick: string
}

export interface ChatStatus {
  peerId: string
  nick: string
  addresses: string[]
  rooms: string[]
  peers: number
  /** Per room: 'in sync' or 'catching up', and how many messages it knows it misses. */
  sync: Record<string, RoomSyncStatus>
}

export class ChatService extends TypedEvents<ChatEvents> {
  private readonly c: ChatServiceComponents
  private nick: string
  private readonly joined: string[] = []
  private readonly nicks = new Map<string, string>()
  private readonly sync?: HistorySync
  /** History sync state and rounds; see ChatSyncEvents. */
  readonly syncEvents = new TypedEvents<ChatSyncEvents>()
  /** The last send's publish (it never rejects); stop() waits for it before chat.log closes. */
  private sending: Promise<unknown> = Promise.resolve()
  private unsaved: ChatMessage[] = []
  /** The batch of received messages chat.log is writing now, and the promise they share. */
  private writing?: { promise: Promise<void>; messages: ChatMessage[] }
  /** Messages taken on their connection's word (see receive()); their signature is checked before they are served. */
  private readonly unverified = new WeakSet<ChatMessage>()
  /** Messages whose author's signature turned out wrong: shown here, never served to anyone. */
  private readonly forged = new WeakSet<ChatMessage>()
  /**
   * New messages that history sync brought in before their live copy arrived (a round with a
   * peer can overtake gossipsub). The live copy is still relayed once, where the relay hint says a
   * mesh peer needs it: otherwise peers that reach the author only through this node (a chain, a
   * hub) got the message by their next sync round instead of live.
   */
  private readonly syncedFirst = new WeakSet<ChatMessage>()
  private readonly offs: Array<() => void> = []
  private started = false

  constructor(components: ChatServiceComponents, init: ChatServiceInit) {
    super()
    this.c = components
    this.nick = normalizeNick(init.nick)
    for (const r of init.rooms) {
      const room = normalizeRoom(r)
      if (!this.joined.includes(room)) this.joined.push(room)
    }
    const net = components.network
    const request = net.requestSync?.bind(net)
    if (request != null && net.handleSync != null) {
      this.sync = new HistorySync(
        {
          history: components.history,
          clock: components.clock,
          verify: async messages => await components.verifier.verifyMany(messages),
          prepareVerify: () => {
            components.verifier.warm()
          },
          store: m => this.joined.includes(m.room) && this.record(m, 'sync'),
          servable: async messages => await this.servable(messages),
          rooms: () => this.rooms(),
          roomPeers: room => net.roomPeers(room),
          request
        },
        init.sync
      )
    }
  }

  get peerId(): string {
    return this.c.network.peerId
  }

  /** Loads chat.log into history and wires the network. Call before the network starts. */
  async start(): Promise<StartReport> {
    if (this.started) return { loaded: 0, problems: [] }
    this.started = true
    const { records, problems } = await this.c.log.load()
    let loaded = 0
    for (const r of records) {
      try {
        const m = checkShape(r.value)
        if (this.c.history.add(m) >= 0 || this.c.history.has(m.id)) loaded++
        this.learnNick(m)
        this.c.clock.observe(m)
      } catch (err) {
        problems.push({ line: r.line, kind: 'corrupt', message: (err as Error).message })
      }
    }
    problems.sort((a, b) => a.line - b.line)
    const net = this.c.network
    net.handleMessages((room, data, from, relay) => this.receive(room, data, from, relay))
    this.startSync()
    this.offs.push(
      net.on('peer:connect', e => {
        this.emit('peer:connect', { ...e.detail, nick: this.nickFor(e.detail.peerId) })
      }),
      net.on('peer:disconnect', e => {
        this.emit('peer:disconnect', { peerId: e.detail.peerId, nick: this.nickFor(e.detail.peerId) })
      }),
      net.on('peer:nick', e => {
        this.emit('peer:nick', e.detail)
      }),
      net.on('peer:banned', e => {
        this.emit('peer:banned', { peerId: e.detail.peerId, nick: this.nickFor(e.detail.peerId), reason: e.detail.reason })
      }),
      net.on('room:peer-join', e => {
        this.emit('room:join', { ...e.detail, nick: this.nickFor(e.detail.peerId) })
        // A peer that shares a room connected (or joined it): catch up with each other.
        this.sync?.syncWith(e.detail.room, e.detail.peerId)
      }),
      net.on('room:peer-leave', e => {
        this.emit('room:leave', { ...e.detail, nick: this.nickFor(e.detail.peerId) })
        this.sync?.forget(e.detail.room, e.detail.peerId)
      }),
      net.on('dial:error', e => {
        this.emit('dial:error', {
          target: e.detail.target,
          error: e.detail.error,
          retryInMs: e.detail.retryInMs,
          attempt: e.detail.attempt
        })
      })
    )
    for (const room of this.joined) net.joinRoom(room)
    return { loaded, problems }
  }

  /** Waits for pending sends and chat.log writes, then closes chat.log. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.c.network.handleMessages(() => 'ignore')
    this.sync?.stop()
    for (const off of this.offs.splice(0)) off()
    await this.sending.catch(() => {})
    await this.c.verifier.close()
    await this.c.log.close()
  }

  getNick(): string {
    return this.nick
  }

  rooms(): string[] {
    return [...this.joined]
  }

  /**
   * Sends a message to a room: signs it, writes it to chat.log, publishes it, and resolves once it
   * is durably in chat.log (or, with `durable: false`, once it is published). Throws StorageError
   * (and sends nothing) if it cannot be written.
   *
   * Publishing waits for the write, not for fdatasync: a written line survives the process dying,
   * and the disk sync (p99 about 8 ms on the benchmark machine) was most of a message's latency at
   * N=2. Signing, the seq and the write happen in one synchronous step, so two sends never share
   * a seq. Only a power cut between the write and the sync can lose a message that peers got; its
   * ID is a hash of its content, so a seq used again after that is still a different message. A
   * failed sync is reported as a store problem either way.
   */
  async send(room: string, text: string, options: SendOptions = {}): Promise<ChatMessage> {
    const r = normalizeRoom(room)
    if (!this.joined.includes(r)) throw new NotInRoomError(`you are not in #${r} (use /join ${r})`)
    const body = normalizeText(text)
    const { ts, lc } = this.c.clock.tick()
    // seq counts this author's messages per room, so a gap in a room is visible to every reader.
    const seq = this.c.history.lastSeq(this.peerId, r) + 1
    const message = this.c.signer.sign({ room: r, from: this.peerId, nick: this.nick, text: body, ts, lc, seq })
    const { durable } = this.c.log.write(toRecord(message))
    this.c.history.add(message)
    // The disk took this line: received messages it refused before can be written now.
    if (this.unsaved.length > 0) this.persist()
    const published = this.c.network.publish(r, encodeMessage(message)).then(
      () => {},
      (err: unknown) => {
        // Stored and acknowledged: peers that missed it get it from history sync.
        this.emit('store:problem', { message: `message saved but not published: ${(err as Error).message}` })
      }
    )
    this.emit('message:new', { message, origin: 'local', own: true })
    const saved = durable.catch((err: unknown) => {
      // Written and sent, but the disk did not confirm it: it is in chat.log unless the power fails.
      this.emit('store:problem', { message: `message sent, but ${(err as Error).message}` })
    })
    // stop() waits for the publish; closing chat.log then runs the sync this line may still wait for.
    this.sending = published
    await (options.durable === false ? published : Promise.all([published, saved]))
    return message
  }

  /** Judges a message from the network: synchronous, so gossipsub can forward only what is valid. */
  receive(room: string, data: Uint8Array, from: string, relay = true): Verdict {
    let message: ChatMessage
    try {
      message = decodeMessage(data)
      if (message.room !== room) throw new InvalidMessageError('room-mismatch', `message for #${message.room} arrived on #${room}`)
      const known = this.c.history.get(message.id)
      // Its ID covers every field but the signature: relayed only with the one checked when it was synced.
      if (known != null) return relay && known.sig === message.sig && this.syncedFirst.delete(known) ? 'accept' : 'ignore'
      if (message.from === this.peerId) throw new InvalidMessageError('forged-self', 'message claims to be from this node')
      // Straight from its author, and not to be relayed: the connection has proved the author's key
      // (Noise), so the signature adds nothing for this node, and checking it was the largest item
      // of a delivery's CPU (bench/). It is checked before the message leaves this node in history
      // sync (servable()); a relayed or forwarded message is checked here.
      if (relay || from !== message.from) this.c.verifier.verify(message)
      else this.unverified.add(message)
    } catch (err) {
      const reason = err instanceof InvalidMessageError ? err.reason : 'malformed'
      this.emit('message:rejected', { room, from, reason })
      return 'reject'
    }
    // A sequence number past the next one: this node missed something; ask the author (history-sync.ts).
    const gap = message.seq > this.c.history.lastSeq(message.from, room) + 1
    this.record(message, 'live')
    if (gap) this.sync?.syncGap(room, message.from)
    return 'accept'
  }

  /**
   * Verifies and stores a message that arrived some other way (history sync). Returns false if it
   * was already known; throws InvalidMessageError if it is not genuine.
   */
  ingest(value: unknown, origin: Exclude<MessageOrigin, 'local'> = 'sync'): boolean {
    const message = checkShape(value)
    if (this.c.history.has(message.id)) return false
    if (!this.joined.includes(message.room)) return false
    this.c.verifier.verify(message)
    return this.record(message, origin)
  }

  /**
   * The one path every message takes: history, chat.log, then the event. A message from a peer is
   * written without waiting for its fdatasync: durability is promised for what this node sends, a
   * received one can be fetched again by history sync, and waiting put a disk sync between every
   * arrival and its display and made a sync of 10,000 messages take 10,000 syncs (bench/). The
   * writes still go out in order and in batches; stop() flushes them.
   */
  private record(message: ChatMessage, origin: Exclude<MessageOrigin, 'local'>): boolean {
    if (this.c.history.has(message.id)) return false
    this.c.clock.observe(message)
    // Older than everything a full room keeps (history limit): dropped at once, nothing to show.
    if (this.c.history.add(message) < 0) return false
    if (origin === 'sync' && this.c.clock.wall() - message.ts < SYNC_BEFORE_LIVE_WINDOW) this.syncedFirst.add(message)
    this.persist(message)
    this.learnNick(message)
    this.emit('message:new', { message, origin, own: message.from === this.peerId })
    return true
  }

  /**
   * Writes received messages: any a failed write left in memory, then `message`. Lines that wait
   * to be written together share one promise (chat-log.ts), and this watches each batch once, not
   * each message; a failed batch is kept to retry with the next write.
   */
  private persist(message?: ChatMessage): void {
    if (this.unsaved.length > 0) {
      const again = this.unsaved
      this.unsaved = []
      for (const m of again) this.persistOne(m)
    }
    if (message != null) this.persistOne(message)
  }

  private persistOne(message: ChatMessage): void {
    // Its peers hold it too: it may wait a moment to be written with others (chat-log.ts).
    const written = this.c.log.append(toRecord(message), 'later')
    if (written !== this.writing?.promise) {
      const batch = { promise: written, messages: [] as ChatMessage[] }
      this.writing = batch
      written.then(
        () => {
          if (this.writing === batch) this.writing = undefined
        },
        (reason: unknown) => {
          if (this.writing === batch) this.writing = undefined
          // A loop, not push(...): a long outage can leave more messages than a call takes arguments.
          for (const m of batch.messages) this.unsaved.push(m)
          this.emit('store:problem', {
            message: `${reason instanceof StorageError ? reason.message : String(reason)} (${this.unsaved.length} message(s) kept in memory, retried with the next write)`
          })
        }
      )
    }
    this.writing.messages.push(message)
  }

  /** Messages of a room, oldest first. */
  messages(room: string, options: { afterId?: string; limit?: number } = {}): ChatMessage[] {
    return this.c.history.list(normalizeRoom(room), options)
  }

  get history(): History<ChatMessage> {
    return this.c.history
  }

  join(room: string): string {
    const r = normalizeRoom(room)
    if (this.joined.includes(r)) return r
    this.joined.push(r)
    this.c.network.joinRoom(r)
    this.emit('rooms:change', { rooms: this.rooms() })
    this.sync?.syncRoom(r)
    return r
  }

  leave(room: string): string {
    const r = normalizeRoom(room)
    const i = this.joined.indexOf(r)
    if (i < 0) throw new NotInRoomError(`you are not in #${r}`)
    this.joined.splice(i, 1)
    this.c.network.leaveRoom(r)
    this.emit('rooms:change', { rooms: this.rooms() })
    return r
  }

  setNick(nick: string): string {
    const next = normalizeNick(nick)
    const previous = this.nick
    if (next === previous) return next
    this.nick = next
    this.c.network.setNick(next)
    this.emit('nick:change', { nick: next, previous })
    return next
  }

  /** The best name for a peer: its current nick, else the nick on its latest message, else a short ID. */
  nickFor(peerId: string): string {
    if (peerId === this.peerId) return this.nick
    return this.c.network.nickOf(peerId) ?? this.nicks.get(peerId) ?? shortPeerId(peerId)
  }

  roomPeers(room: string): RoomPeer[] {
    return this.c.network.roomPeers(normalizeRoom(room)).map(peerId => ({ peerId, nick: this.nickFor(peerId) }))
  }

  peers(): Array<PeerSummary & { name: string }> {
    return this.c.network.peers().map(p => ({ ...p, name: this.nickFor(p.peerId) }))
  }

  async ping(peerId: string): Promise<number> {
    return await this.c.network.ping(peerId)
  }

  status(): ChatStatus {
    return {
      peerId: this.peerId,
      nick: this.nick,
      addresses: this.c.network.addresses(),
      rooms: this.rooms(),
      peers: this.c.network.peers().length,
      sync: Object.fromEntries(this.rooms().map(room => [room, this.syncStatus(room)]))
    }
  }

  /** A room's history sync state: 'catching up' while fetching from peers. */
  syncStatus(room: string): RoomSyncStatus {
    return this.sync?.status(normalizeRoom(room)) ?? { state: 'in sync', missing: 0 }
  }

  /** Starts a history sync round with every connected peer of a room (normally automatic). */
  syncRoom(room: string): void {
    this.sync?.syncRoom(normalizeRoom(room))
  }

  private startSync(): void {
    const sync = this.sync
    const net = this.c.network
    if (sync == null || net.handleSync == null) return
    net.handleSync(async (_peerId, body) => await sync.answer(body))
    this.offs.push(
      sync.on('sync:change', e => {
        this.syncEvents.emit('sync:change', e.detail)
      }),
      sync.on('sync:done', e => {
        this.syncEvents.emit('sync:done', e.detail)
      }),
      sync.on('sync:rejected', e => {
        this.emit('message:rejected', { room: e.detail.room, from: e.detail.peerId, reason: e.detail.reason })
      }),
      sync.on('clock:skew', e => {
        this.syncEvents.emit('clock:skew', { ...e.detail, nick: this.nickFor(e.detail.peerId) })
      })
    )
    sync.start()
  }

  /**
   * The messages that may be handed to a peer: each one's signature checked (those taken on their
   * connection's word are checked now, on worker threads when many), forged ones left out and
   * reported once.
   */
  private async servable(messages: ChatMessage[]): Promise<ChatMessage[]> {
    const pending = messages.filter(m => this.unverified.has(m))
    if (pending.length > 0) {
      const verdicts = await this.c.verifier.verifyMany(pending)
      pending.forEach((m, i) => {
        this.unverified.delete(m)
        const error = verdicts[i]
        if (error == null) return
        this.forged.add(m)
        this.emit('message:rejected', { room: m.room, from: m.from, reason: error.reason })
      })
    }
    return messages.filter(m => !this.forged.has(m))
  }

  private learnNick(m: ChatMessage): void {
    if (m.from !== this.peerId) this.nicks.set(m.from, m.nick)
  }
}
