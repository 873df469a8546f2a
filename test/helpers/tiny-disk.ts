/**
 * A real, tiny disk for full-disk tests: a tmpfs of a given size mounted on a new folder, which
 * can be filled to the last byte and freed again. Unmounted (lazily, so files a node still holds
 * open do not keep it) and removed after the test, also when it fails. Needs root to mount; where
 * it cannot, the test is skipped with the reason.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TinyDisk {
  dir: string
  /** Fills the disk to the last byte with another file. */
  fill: () => Promise<void>
  /** Removes that file again. */
  free: () => Promise<void>
}

export async function tinyDisk(
  t: { after: (fn: () => Promise<void>) => void; skip: (message: string) => void },
  size: string
): Promise<TinyDisk | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'lan-chat-disk-'))
  let mountError: string | undefined
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    mountError = (err as Error).message.split('\n')[0]
  }
  t.after(async () => {
    if (mountError == null) execFileSync('umount', ['-l', dir])
    await rm(dir, { recursive: true, force: true })
  })
  if (mountError != null) {
    t.skip(`cannot mount a tmpfs (needs root): ${mountError}`)
    return undefined
  }
  const filler = join(dir, 'filler')
  return {
    dir,
    async fill() {
      await writeFile(filler, '')
      try {
        execFileSync('sh', ['-c', `cat /dev/zero > '${filler}'`], { stdio: 'pipe' })
      } catch {
        // cat stops with "No space left on device": the disk is full.
      }
    },
    async free() {
      await rm(filler)
    }
  }
}
