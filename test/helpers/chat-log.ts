/** A chat.log in a temporary folder for one test: loaded, and closed after the test. */
import { join } from 'node:path'
import { createChatLog, type ChatLog, type ChatLogInit } from '../../src/store/chat-log.js'
import { tempDir } from './temp-dir.js'

export async function loadedLog(
  t: { after: (fn: () => Promise<void>) => void },
  init: Omit<ChatLogInit, 'path'> = {}
): Promise<{ log: ChatLog; path: string }> {
  const path = join(await tempDir(t, 'lan-chat-log-'), 'chat.log')
  const log = createChatLog({ path, ...init })
  t.after(async () => {
    await log.close()
  })
  await log.load()
  return { log, path }
}
