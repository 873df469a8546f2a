/**
 * The web UI end to end in real Chromium: node 1 in process with the UI, node 2 the real program
 * (its stdin and stdout) over loopback, mDNS off. Sends from the browser and from the terminal,
 * hostile nicks and text, a node restart, and the page served by a plain static server. Saves
 * screenshots (desktop, phone, dark) under test-results/browser/.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { startHttpNode, dialAddr, p2pPort, type HttpNode } from '../api/nodes.js'
import { startProgram, BIN, ROOT, type Program } from '../helpers/program.js'
import { waitUntil } from '../helpers/wait.js'
import { chromiumMissing, launchBrowser } from './browser.js'

// Functions handed to page.evaluate run in the page; these names are the page's globals there.
declare const window: any
declare const document: any
declare const getComputedStyle: any

const SHOTS = join(ROOT, 'test-results', 'browser')
const HOSTILE_TEXT = '<img src=x onerror=window.__pwned=1>'
const HOSTILE_NICK = '<img src=x onerror=__pwned=2>'

const missing = chromiumMissing()
if (missing != null && process.env.CI === 'true') {
  void test('Chromium is installed for the browser tests', () => {
    throw new Error(`${missing}: browser tests cannot run under CI`)
  })
} else if (missing != null) {
  console.warn(`\n!!! SKIPPING the browser tests: ${missing}. Under CI=true this fails. !!!\n`)
}

const cleanups: Array<() => Promise<void> | void> = []
const ctx = { after: (fn: () => Promise<void> | void) => cleanups.push(fn) }
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

void describe('web UI in Chromium', { skip: missing }, () => {
  let a: HttpNode
  let bob: Program
  let browser: BrowserContext
  let page: Page
  const pageProblems: string[] = []

  const ownText = (text: string): string => `#messages .msg.own .text >> text="${text}"`
  const otherText = (text: string): string => `#messages .msg:not(.own) .text >> text="${text}"`

  async function shot(p: Page, name: string): Promise<void> {
    await p.evaluate(async () => await new Promise(resolve => window.setTimeout(resolve, 300))) // let transitions end
    await p.screenshot({ path: join(SHOTS, name) })
  }

  before(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`)
    await mkdir(SHOTS, { recursive: true })
    a = await startHttpNode(ctx, { nick: 'alice', rooms: ['main', 'lab'] })
    const bobDir = await mkdtemp(join(tmpdir(), 'lan-chat-bob-'))
    ctx.after(async () => {
      await bob?.stop()
      await rm(bobDir, { recursive: true, force: true })
    })
    bob = startProgram({
      args: [
        ...['--no-mdns', '--host', '127.0.0.1', '--port', '0', '--nick', 'bob', '--data-dir', bobDir, '--peer', dialAddr(a)],
        ...['--enable-http', '--http-port', '0']
      ]
    })
    await bob.waitFor(/connected to alice/, 30_000)
    await waitUntil(() => a.app.chat.roomPeers('main').length === 1, 'bob in #main at alice')
    browser = await launchBrowser(ctx)
    page = await browser.newPage()
    page.on('console', m => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) pageProblems.push(m.text())
    })
    page.on('pageerror', e => pageProblems.push(e.message))
    await page.goto(`${a.base}/`)
    await page.waitForSelector('#app[data-state="live"]')
  })

  void test('the program prints the address of its own web UI and serves it', async () => {
    const line = await bob.waitFor(/web UI\s+http:\/\/127\.0\.0\.1:\d+\//)
    const url = /http:\/\/\S+/.exec(line)?.[0] ?? ''
    const res = await fetch(new URL('/api/status', url))
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as any).nick, 'bob')
    assert.doesNotMatch(bob.output(), /reachable from the network/)
  })

  void test('shows the rooms, the people of the room and who is online', async () => {
    await page.waitForSelector('#rooms .room[aria-current="true"] >> text=main')
    await page.waitForSelector('#rooms .room >> text=lab')
    await page.waitForSelector('#room-peers .person-name >> text=bob')
    await page.waitForSelector('#online .person-name >> text=bob')
    assert.equal(await page.textContent('#me-nick'), 'alice')
    assert.equal(await page.textContent('#room-title'), '#main')
  })

  void test('a message sent from the browser shows as [You], in the other terminal, in chat.log and in GET /messages', async () => {
    await page.focus('#input')
    await page.keyboard.type('hello from the browser')
    await page.keyboard.press('Enter')
    const item = page.locator('#messages .msg.own', { hasText: 'hello from the browser' })
    await item.waitFor()
    assert.equal(await item.locator('.who').textContent(), '[You]')
    assert.equal(await page.inputValue('#input'), '', 'the send box is cleared')
    await bob.waitFor(/alice: hello from the browser$/)
    const log = await readFile(join(a.app.dataDir, 'chat.log'), 'utf8')
    assert.ok(log.includes('"text":"hello from the browser"'))
    const res = await fetch(`${a.base}/messages?room=main`)
    const body = (await res.json()) as any
    assert.ok(body.messages.some((m: any) => m.text === 'hello from the browser' && m.from === a.info.peerId))
  })

  void test('Shift+Enter makes a new line and Enter sends both lines as one message', async () => {
    await page.focus('#input')
    await page.keyboard.type('first line')
    await page.keyboard.press('Shift+Enter')
    await page.keyboard.type('second line')
    assert.equal(await page.inputValue('#input'), 'first line\nsecond line')
    await page.keyboard.press('Enter')
    await page.locator('#messages .msg.own .text', { hasText: 'second line' }).waitFor()
    await waitUntil(() => a.app.chat.messages('main').some(m => m.text === 'first line\nsecond line'), 'the two-line message')
  })

  void test('a line typed in the other terminal appears live, without a reload', async () => {
    await page.evaluate(() => (window.__sameDocument = true))
    bob.type('hi from the terminal')
    await page.waitForSelector(otherText('hi from the terminal'))
    assert.equal(await page.evaluate(() => window.__sameDocument), true)
    const item = page.locator('#messages .msg:not(.own)', { hasText: 'hi from the terminal' })
    assert.equal(await item.locator('.who').textContent(), 'bob')
  })

  void test('hostile nicks and messages show as text and run nothing', async () => {
    // From the browser: the hostile nick (through the UI) and text.
    await page.click('#nick-edit')
    await page.fill('#nick-input', HOSTILE_NICK)
    await page.press('#nick-input', 'Enter')
    await page.waitForFunction(nick => document.getElementById('me-nick')?.textContent === nick, HOSTILE_NICK)
    await page.focus('#input')
    await page.keyboard.type(HOSTILE_TEXT)
    await page.keyboard.press('Enter')
    await page.waitForSelector(ownText(HOSTILE_TEXT))
    await bob.waitFor(/onerror=window\.__pwned=1>$/)
    // From the terminal: the same.
    bob.type(`/nick ${HOSTILE_NICK}`)
    bob.type(HOSTILE_TEXT)
    const theirs = page.locator('#messages .msg:not(.own)', { hasText: HOSTILE_TEXT })
    await theirs.waitFor()
    assert.equal(await theirs.locator('.who').textContent(), HOSTILE_NICK)
    await page.waitForSelector(`#room-peers .person-name >> text="${HOSTILE_NICK}"`)
    assert.equal(await page.evaluate(() => document.querySelectorAll('#messages img, #room-peers img, #online img, #me img').length), 0)
    assert.equal(await page.evaluate(() => window.__pwned), undefined)
    await shot(page, 'desktop-light.png')
    await page.fill('#input', '')
    await page.evaluate(() => {
      document.getElementById('input').value = '/nick alice'
    })
    await page.focus('#input')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.getElementById('me-nick')?.textContent === 'alice')
    bob.type('/nick bob')
  })

  void test('looks right in dark mode and at phone width', async t => {
    await page.emulateMedia({ colorScheme: 'dark' })
    t.after(async () => {
      await page.emulateMedia({ colorScheme: 'light' })
      await page.setViewportSize({ width: 1280, height: 800 })
    })
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(15, 17, 23)')
    await shot(page, 'desktop-dark.png')
    await page.setViewportSize({ width: 390, height: 844 })
    await shot(page, 'phone-dark.png')
    await page.emulateMedia({ colorScheme: 'light' })
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scrolling')
    assert.equal(await page.isVisible('#sidebar .brand-name'), false, 'the sidebar is a drawer on phones')
    await shot(page, 'phone-light.png')
    await page.click('#menu')
    await page.waitForSelector('#app.drawer-open')
    await shot(page, 'phone-drawer.png')
    await page.keyboard.press('Escape')
    await page.waitForSelector('#app:not(.drawer-open)')
  })

  void test('joins, switches and leaves rooms from the keyboard', async () => {
    await page.fill('#join-input', 'kitchen')
    await page.press('#join-input', 'Enter')
    await page.waitForSelector('#room-title >> text=#kitchen')
    assert.ok(a.app.chat.rooms().includes('kitchen'))
    await page.keyboard.press('Alt+ArrowUp')
    await page.waitForSelector('#room-title >> text=#lab')
    await page.keyboard.press('Alt+ArrowDown')
    await page.waitForSelector('#room-title >> text=#kitchen')
    await page.click('#leave')
    await page.waitForFunction(() => !document.querySelector('#rooms [data-room="kitchen"]'))
    assert.ok(!a.app.chat.rooms().includes('kitchen'))
    await page.click('#rooms [data-room="main"]')
    await page.waitForSelector('#room-title >> text=#main')
  })

  void test('works from a plain static server against the API (python3 -m http.server)', async t => {
    const py = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', join(ROOT, 'frontend')], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    t.after(() => {
      py.kill('SIGTERM')
    })
    let out = ''
    py.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    await waitUntil(() => /port (\d+)/.test(out), 'python http.server to listen')
    const port = Number(/port (\d+)/.exec(out)?.[1])
    const other = await browser.newPage()
    t.after(async () => await other.close())
    await other.goto(`http://127.0.0.1:${port}/index.html?api=${encodeURIComponent(a.base)}`)
    await other.waitForSelector('#app[data-state="live"]')
    await other.waitForSelector(otherText('hi from the terminal'))
    await other.focus('#input')
    await other.keyboard.type('from a static page')
    await other.keyboard.press('Enter')
    await other.waitForSelector(ownText('from a static page'))
    await bob.waitFor(/alice: from a static page$/)
    // The page the node serves gets it live too.
    await page.waitForSelector(ownText('from a static page'))
  })

  void test('reconnects by itself after the node restarts and catches up on what it missed', async t => {
    const before = await page.locator('#messages .msg').count()
    const seenId = await page.getAttribute('#messages .msg.own >> nth=0', 'data-id')
    const httpPort = a.app.http?.port ?? 0
    const port = p2pPort(a)
    await a.app.stop()
    await page.waitForSelector('#app[data-state="reconnecting"]')
    await page.waitForSelector('#banner:not([hidden])')
    await shot(page, 'reconnecting.png')
    a = await startHttpNode(t, { nick: 'alice', rooms: ['main', 'lab'], dataDir: a.dataDir, httpPort, port })
    await a.app.chat.send('main', 'sent while the page was away')
    await page.waitForSelector('#app[data-state="live"]')
    await page.waitForSelector(ownText('sent while the page was away'))
    await waitUntil(() => a.app.chat.roomPeers('main').length === 1, 'bob back in #main')
    bob.type('welcome back')
    await page.waitForSelector(otherText('welcome back'))
    assert.equal(await page.locator(`#messages .msg[data-id="${seenId}"]`).count(), 1, 'nothing shown twice')
    assert.equal(await page.locator('#messages .msg').count(), before + 2)
    await page.waitForSelector('#banner[hidden]', { state: 'attached' })
  })

  void test('the page ran under its Content-Security-Policy without violations or errors', () => {
    assert.deepEqual(pageProblems, [])
  })
})
