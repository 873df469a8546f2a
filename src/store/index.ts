/**
 * Storage: the data directory lock, the identity key, chat.log and in-memory history.
 *
 * @example
 * ```ts
 * const lock = await acquireDataDir('/tmp/chat')
 * const { privateKey } = await loadOrCreateIdentity(lock.dir)
 * const log = createChatLog({ path: join(lock.dir, 'chat.log') })
 * const { records, problems } = await log.load()
 * ```
 */
export { createChatLog, type ChatLog, type ChatLogInit, type LoadResult, type LogProblem, type LogRecord } from './chat-log.js'
export { createHistory, type History, type HistoryEntry, type HistoryInit, type QueryOptions } from './history.js'
export { acquireDataDir, type DataDirLock, type AcquireOptions, MAX_INSTANCES } from './data-dir.js'
export { loadOrCreateIdentity, type LoadedIdentity, KEY_FILE } from './identity.js'
