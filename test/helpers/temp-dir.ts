/** A temporary folder for one test, removed after it (also when the test fails). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }, prefix = 'lan-chat-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}
