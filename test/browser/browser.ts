/**
 * Real Chromium for the browser tests: Debian's `chromium` driven by playwright-core, headless,
 * with a fresh profile each time. If Chromium is missing the tests fail loudly under CI=true and
 * skip loudly elsewhere.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** Why the browser tests cannot run here, or undefined if they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install chromium)`
}

export interface TestContextLike {
  after: (fn: () => Promise<void> | void) => void
}

export async function launchBrowser(t: TestContextLike): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), 'lan-chat-chromium-'))
  const open: { context?: BrowserContext } = {}
  t.after(async () => {
    await open.context?.close()
    await rm(profile, { recursive: true, force: true })
  })
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 }
  })
  open.context = context
  return context
}
