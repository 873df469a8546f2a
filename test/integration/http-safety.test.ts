/**
 * The localhost safety rules, each as a test that fails if the rule is removed: Origin and CORS,
 * Host (DNS rebinding), body limits before reading, timeouts for slow clients, static files that
 * never leave their folder, CSP and nosniff, and loopback-only binding unless explicitly allowed.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { App } from '../../src/app.js'
import { HttpApi } from '../../src/api/index.js'
import { InvalidOptionError, UsageError } from '../../src/errors.js'
import { parseArgs } from '../../src/config.js'
import { startHttpNode, testConfig, FAST_NETWORK, type HttpNode } from '../api/nodes.js'
import { rawRequest, rawSocket } from '../api/raw.js'
import { waitUntil } from '../helpers/wait.js'

const cleanups: Array<() => Promise<void> | void> = []
const ctx = { after: (fn: () => Promise<void> | void) => cleanups.push(fn) }
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

let a: HttpNode
let port: number

before(async () => {
  a = await startHttpNode(ctx, { nick: 'alice', http: { rateLimit: { capacity: 10_000 } } })
  port = a.app.http?.port ?? 0
})

const send = (headers: Record<string, string>, text = 'x'): Promise<Response> =>
  fetch(`${a.base}/api/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ room: 'main', text })
  })

void describe('cross-origin requests', () => {
  void test('a foreign Origin creates nothing (403) and gets no CORS headers', async () => {
    const logBefore = await readFile(join(a.app.dataDir, 'chat.log'), 'utf8').catch(() => '')
    const count = a.app.chat.messages('main').length
    for (const origin of ['http://evil.example', 'https://attacker.test:3001', 'null', 'http://127.0.0.1.evil.example:3001']) {
      const res = await send({ Origin: origin }, 'csrf')
      assert.equal(res.status, 403, origin)
      assert.equal(((await res.json()) as any).error.code, 'forbidden-origin')
      assert.equal(res.headers.get('access-control-allow-origin'), null)
      const pre = await fetch(`${a.base}/api/messages`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' }
      })
      assert.equal(pre.status, 403)
      assert.equal(pre.headers.get('access-control-allow-origin'), null)
      assert.equal(pre.headers.get('access-control-allow-methods'), null)
      const nick = await fetch(`${a.base}/api/nick`, {
        method: 'PUT',
        headers: { Origin: origin, 'Content-Type': 'application/json' },
        body: '{"nick":"pwned"}'
      })
      assert.equal(nick.status, 403)
    }
    assert.equal(a.app.chat.messages('main').length, count)
    assert.equal(a.app.chat.getNick(), 'alice')
    assert.equal(await readFile(join(a.app.dataDir, 'chat.log'), 'utf8').catch(() => ''), logBefore)
  })

  void test('a foreign Origin cannot read the live stream either', async () => {
    const res = await fetch(`${a.base}/api/events`, { headers: { Origin: 'http://evil.example' } })
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    await res.body?.cancel()
  })

  void test('loopback origins (a static server on another port) get CORS for exactly their origin, never *', async () => {
    for (const origin of ['http://localhost:8080', 'http://127.0.0.1:5173', 'http://[::1]:8000']) {
      const pre = await fetch(`${a.base}/api/messages`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' }
      })
      assert.equal(pre.status, 204)
      assert.equal(pre.headers.get('access-control-allow-origin'), origin)
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/)
      assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Content-Type/i)
      const res = await send({ Origin: origin }, `from ${origin}`)
      assert.equal(res.status, 201)
      assert.equal(res.headers.get('access-control-allow-origin'), origin)
      assert.match(res.headers.get('vary') ?? '', /Origin/)
    }
  })

  void test('requests without an Origin (curl, same-origin GETs) get no CORS headers', async () => {
    const res = await fetch(`${a.base}/api/status`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
  })
})

void describe('DNS rebinding', () => {
  void test('a Host that is not localhost or loopback gets 403, on the API and the page', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `192.168.1.20:${port}`, `localhost.evil.example:${port}`]) {
      for (const path of ['/api/status', '/', '/api/messages?room=main']) {
        const r = await rawRequest(port, { path, headers: { Host: host } })
        assert.equal(r.status, 403, `${host} ${path}`)
        assert.equal(JSON.parse(r.body).error.code, 'forbidden-host')
        assert.doesNotMatch(r.body, /alice|main/)
      }
    }
    const post = await rawRequest(port, {
      method: 'POST',
      path: '/api/messages',
      headers: { Host: `evil.example:${port}`, 'Content-Type': 'application/json' },
      body: '{"room":"main","text":"rebound"}'
    })
    assert.equal(post.status, 403)
    assert.ok(!a.app.chat.messages('main').some(m => m.text === 'rebound'))
  })

  void test('localhost, 127.0.0.1 and [::1] hosts are served', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      assert.equal((await rawRequest(port, { path: '/api/status', headers: { Host: host } })).status, 200, host)
    }
  })
})

void describe('request bodies and slow clients', () => {
  void test('a declared Content-Length over the limit gets 413 before any body is sent', async t => {
    const sock = await rawSocket(port)
    t.after(() => sock.destroy())
    sock.write(
      `POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{"room":"main","text":"`
    )
    await waitUntil(() => sock.received().includes('\r\n\r\n'), 'an answer')
    assert.match(sock.received(), /^HTTP\/1\.1 413 /)
    assert.match(sock.received(), /body-too-large/)
    await sock.ended
  })

  void test('a chunked body that grows past the limit gets 413 while it is still being sent', async t => {
    const sock = await rawSocket(port)
    t.after(() => sock.destroy())
    sock.write(
      `POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`
    )
    const chunk = 'a'.repeat(16 * 1024)
    for (let i = 0; i < 8 && !sock.received().includes('HTTP/1.1'); i++) {
      sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    // Never sends the final chunk: the answer must not wait for it.
    await waitUntil(() => sock.received().includes('\r\n\r\n'), 'an answer')
    assert.match(sock.received(), /^HTTP\/1\.1 413 /)
    await sock.ended
  })

  // The deadline only catches a missing timeout (node's own defaults are minutes); it asserts no speed.
  void test('a client that stalls in its headers or body is timed out', { timeout: 15_000 }, async t => {
    const c = await startHttpNode(t, {
      nick: 'carol',
      http: { requestTimeout: 300, headersTimeout: 200, connectionsCheckingInterval: 25 }
    })
    const cport = c.app.http?.port ?? 0
    const headers = await rawSocket(cport)
    t.after(() => headers.destroy())
    headers.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    const body = await rawSocket(cport)
    t.after(() => body.destroy())
    body.write(`POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"room":`)
    assert.match(await headers.ended, /^HTTP\/1\.1 408 /)
    assert.match(await body.ended, /^HTTP\/1\.1 408 /)
    assert.equal(c.app.chat.messages('main').length, 0)
  })
})

void describe('static files', () => {
  let root: string
  let base: string
  let sport: number

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lan-chat-static-'))
    ctx.after(async () => await rm(dir, { recursive: true, force: true }))
    root = join(dir, 'frontend')
    await mkdir(join(root, 'sub'), { recursive: true })
    await writeFile(join(root, 'index.html'), '<!doctype html><title>ok</title>')
    await writeFile(join(root, 'sub', 'a.css'), 'body{}')
    await writeFile(join(root, '.hidden'), 'SECRET-HIDDEN')
    await writeFile(join(dir, 'secret.txt'), 'SECRET-OUTSIDE')
    await mkdir(join(dir, 'frontend-evil'))
    await writeFile(join(dir, 'frontend-evil', 'x.txt'), 'SECRET-SIBLING')
    await symlink(join(dir, 'secret.txt'), join(root, 'link.txt'))
    await symlink(dir, join(root, 'dirlink'))
    const api = new HttpApi({ chat: a.app.chat }, { port: 0, staticDir: root })
    ctx.after(async () => await api.stop())
    base = await api.start()
    sport = api.port
  })

  void test('serves the files inside the folder, with their type', async () => {
    const index = await fetch(base)
    assert.equal(index.status, 200)
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/)
    assert.equal(await index.text(), '<!doctype html><title>ok</title>')
    const css = await fetch(`${base}sub/a.css`)
    assert.equal(css.status, 200)
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/)
    const head = await fetch(`${base}index.html`, { method: 'HEAD' })
    assert.equal(head.status, 200)
  })

  void test('never leaves the folder: .., encoded dots, NUL, backslashes, hidden files, symlinks out', async () => {
    const cases: Array<[string, number]> = [
      ['/../secret.txt', 404],
      ['/sub/../../secret.txt', 404],
      ['/%2e%2e/secret.txt', 404],
      ['/%2E%2E%2Fsecret.txt', 404],
      ['/..%2fsecret.txt', 404],
      ['/sub/%2e%2e/%2e%2e/secret.txt', 404],
      ['/..%5csecret.txt', 404],
      ['/../frontend-evil/x.txt', 404],
      ['/.hidden', 404],
      ['/%2ehidden', 404],
      ['/link.txt', 404],
      ['/dirlink/secret.txt', 404],
      ['/index.html%00.css', 400],
      ['/%00', 400],
      ['/%E0%A4%A', 400],
      ['/sub', 404]
    ]
    for (const [path, status] of cases) {
      const r = await rawRequest(sport, { path, headers: { Host: `127.0.0.1:${sport}` } })
      assert.equal(r.status, status, path)
      assert.doesNotMatch(r.body, /SECRET/, path)
      assert.equal(JSON.parse(r.body).error.code, status === 400 ? 'invalid-path' : 'not-found', path)
    }
  })
})

void describe('headers on every answer', () => {
  void test('the page and the API carry a strict CSP (no inline script) and nosniff', async () => {
    for (const path of ['/', '/app.js', '/api/status', '/api/nope']) {
      const res = await fetch(a.base + path)
      const csp = res.headers.get('content-security-policy') ?? ''
      assert.match(csp, /default-src 'none'/, path)
      assert.match(csp, /script-src 'self'(;|$)/, path)
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|(^|\s)\*(\s|;|$)/, path)
      assert.match(csp, /frame-ancestors 'none'/, path)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path)
      await res.arrayBuffer()
    }
  })

  void test('the node serves the web UI from frontend/ at /', async () => {
    const res = await fetch(`${a.base}/`)
    assert.equal(res.status, 200)
    const html = await res.text()
    assert.match(html, /<script src="app\.js" type="module"><\/script>/)
    assert.doesNotMatch(html, /<script>|\son[a-z]+=/i, 'no inline script or handlers')
  })
})

void describe('binding', () => {
  void test('a non-loopback HTTP address is refused without the explicit flag', () => {
    assert.throws(() => parseArgs(['--enable-http', '--http-host', '0.0.0.0']), UsageError)
    assert.equal(parseArgs(['--enable-http', '--http-host', '0.0.0.0', '--http-allow-remote']).kind, 'run')
    assert.throws(() => new HttpApi({ chat: a.app.chat }, { host: '0.0.0.0' }), InvalidOptionError)
  })

  /** Starts a node with an HTTP API and a (non-interactive) terminal; resolves once its banner names the web UI. */
  async function startWithBanner(
    t: { after: (fn: () => Promise<void>) => void },
    nick: string,
    http: { httpHost?: string; httpAllowRemote?: boolean } = {}
  ): Promise<{ app: App; printed: () => string }> {
    const dataDir = await mkdtemp(join(tmpdir(), `lan-chat-${nick}-`))
    const output = new PassThrough()
    let printed = ''
    output.setEncoding('utf8').on('data', (d: string) => (printed += d))
    const input = new PassThrough()
    const config = { ...testConfig({ nick }, dataDir), ...http }
    const app = await App.create({ config, network: FAST_NETWORK, terminal: { input, output, interactive: false, color: false } })
    t.after(async () => {
      await app.stop()
      input.end()
      await rm(dataDir, { recursive: true, force: true })
    })
    await app.start()
    await waitUntil(() => printed.includes('web UI'), 'the banner')
    return { app, printed: () => printed }
  }

  void test('binding to a non-loopback address prints a warning', async t => {
    const { app, printed: out } = await startWithBanner(t, 'remote', { httpHost: '0.0.0.0', httpAllowRemote: true })
    const printed = out()
    assert.match(printed, /web UI\s+http:\/\/0\.0\.0\.0:\d+\//)
    assert.match(printed, /reachable from the network/)
    // An IP-literal Host is accepted in this mode (remote users reach it by address); names are not.
    const p = app.http?.port ?? 0
    assert.equal((await rawRequest(p, { path: '/api/status', headers: { Host: `10.1.2.3:${p}` } })).status, 200)
    assert.equal((await rawRequest(p, { path: '/api/status', headers: { Host: `evil.example:${p}` } })).status, 403)
  })

  void test('a loopback node prints its web UI address and no warning', async t => {
    const printed = (await startWithBanner(t, 'local')).printed()
    assert.match(printed, /web UI\s+http:\/\/127\.0\.0\.1:\d+\//)
    assert.doesNotMatch(printed, /reachable from the network/)
  })
})
