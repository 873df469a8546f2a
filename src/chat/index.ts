/**
 * The chat: the message format (pure), signatures, the hybrid logical clock, input rules, and the
 * chat service that every front end (terminal, HTTP, web) calls and listens to.
 *
 * @example
 * ```ts
 * const chat = new ChatService({ network, log, history, signer, verifier, clock }, { nick: 'ada', rooms: ['main'] })
 * chat.on('message:new', e => console.log(e.detail.message.text))
 * await chat.start()
 * await chat.send('main', 'hello')
 * ```
 */
export {
  ChatService,
  type ChatEvents,
  type ChatSyncEvents,
  type ChatNetwork,
  type ChatServiceComponents,
  type ChatServiceInit,
  type MessageOrigin,
  type RoomPeer,
  type SendOptions,
  type StartReport,
  type ChatStatus
} from './service.js'
export {
  canonicalBytes,
  checkShape,
  compareMessages,
  decodeMessage,
  encodeMessage,
  messageId,
  toRecord,
  MAX_MESSAGE_BYTES,
  MESSAGE_VERSION,
  type ChatMessage,
  type UnsignedMessage
} from './message.js'
export { createSigner, createVerifier, type MessageSigner, type MessageVerifier } from './signature.js'
export { createHybridClock, DEFAULT_MAX_CLOCK_AHEAD, type HybridClock, type HybridClockInit, type HlcTimestamp } from './clock.js'
export {
  HistorySync,
  DEFAULT_SYNC_INTERVAL,
  DEFAULT_SYNC_BATCH,
  type HistorySyncInit,
  type RoomSyncStatus,
  type SyncState
} from './history-sync.js'
export { summarize, wantsFrom, countGaps, type RoomSummary, type SeqRange, type Want } from './sync.js'
export {
  normalizeNick,
  normalizeRoom,
  normalizeText,
  checkText,
  isValidNick,
  isValidRoom,
  MAX_NICK_LENGTH,
  MAX_ROOM_LENGTH,
  MAX_TEXT_BYTES,
  MAX_TEXT_LENGTH
} from '../rules.js'
