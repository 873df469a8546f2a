/**
 * The real `lan-chat` program (built dist/) over loopback with mDNS off: the banner, two programs
 * chatting through piped stdin, end of input, /quit, SIGTERM and SIGINT, bad flags, --help, --version.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { startProgram, BIN, ROOT, type Program } from '../helpers/program.js'
import { shebangNodeFlags } from '../../bench/lib/systems.js'
import { tempDataDir, type TestContext } from '../helpers/nodes.js'
import { FLAGS } from '../../src/config.js'

const START_MS = 30_000

function run(t: TestContext, args: string[]): Program {
  const p = startProgram({ args })
  t.after(async () => {
    await p.stop('SIGKILL')
  })
  return p
}

async function node(t: TestContext, nick: string, extra: string[] = []): Promise<{ p: Program; dir: string }> {
  const dir = await tempDataDir(t)
  const p = run(t, ['--no-mdns', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--nick', nick, ...extra])
  await p.waitFor(/Type a message/, START_MS)
  return { p, dir }
}

async function logTexts(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'chat.log'), 'utf8')
  return text
    .split('\n')
    .filter(l => l !== '')
    .map(l => (JSON.parse(l) as { text: string }).text)
}

void test('two programs: the banner tells how to connect, piped lines become messages, the end of input does not stop a node, /quit and SIGTERM exit 0 with chat.log written', async t => {
  const alice = await node(t, 'alice')
  const out = alice.p.output()
  const peerId = /peer ID\s+(12D3KooW\w+)/.exec(out)?.[1]
  assert.ok(peerId != null, out)
  assert.match(out, new RegExp(`listening\\s+/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${peerId}`))
  assert.match(out, new RegExp(`chat\\.log\\s+${alice.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/chat\\.log`))
  const command = out.split('\n').find(l => l.includes('--peer /ip4/'))
  assert.ok(command != null, out)
  const addr = /--peer (\/ip4\/\S+)/.exec(command)?.[1] ?? ''
  assert.match(addr, new RegExp(`/p2p/${peerId}$`))
  assert.ok(!out.includes('\u001b'), 'no colours or escapes when stdout is not a terminal')

  const bob = await node(t, 'bob', ['--peer', addr])
  await bob.p.waitFor(/\* alice joined #main/, START_MS)
  await alice.p.waitFor(/\* bob joined #main/, START_MS)

  bob.p.type('hello from bob')
  bob.p.type('second line from bob')
  await alice.p.waitFor(/bob: hello from bob$/, START_MS)
  await alice.p.waitFor(/bob: second line from bob$/, START_MS)
  await bob.p.waitFor(/\[You\] hello from bob$/, START_MS)

  // End of piped input: bob keeps running and still receives.
  bob.p.proc.stdin.end()
  alice.p.type('are you still there?')
  await bob.p.waitFor(/alice: are you still there\?$/, START_MS)
  assert.equal(bob.p.proc.exitCode, null)

  alice.p.type('/quit')
  assert.equal(await alice.p.exited, 0)
  await bob.p.waitFor(/alice is gone/, START_MS)
  assert.equal(await bob.p.stop('SIGTERM'), 0)

  const expected = ['hello from bob', 'second line from bob', 'are you still there?']
  assert.deepEqual(await logTexts(alice.dir), expected)
  assert.deepEqual(await logTexts(bob.dir), expected)
  assert.equal(alice.p.stderr(), '')
  assert.equal(bob.p.stderr(), '')
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  void test(`${signal} stops the program with exit code 0 and chat.log flushed`, async t => {
    const { p, dir } = await node(t, 'solo')
    p.type('written before the signal')
    await p.waitFor(/\[You\] written before the signal$/, START_MS)
    assert.equal(await p.stop(signal), 0)
    assert.deepEqual(await logTexts(dir), ['written before the signal'])
  })
}

void test('piped input with an endless line (8 MB, no newline): one error line, nothing sent of it, and the next line is sent', async t => {
  const { p, dir } = await node(t, 'piper')
  const chunk = Buffer.alloc(1024 * 1024, 0)
  for (let i = 0; i < 8; i++) p.proc.stdin.write(chunk)
  p.type('\nafter the garbage')
  await p.waitFor(/\[You\] after the garbage$/, START_MS)
  assert.match(p.output(), new RegExp(`a line of ${8 * 1024 * 1024} bytes was not sent`))
  assert.equal(p.proc.exitCode, null)
  assert.equal(await p.stop('SIGTERM'), 0)
  assert.deepEqual(await logTexts(dir), ['after the garbage'])
})

const BAD_FLAGS = [
  ['--port', '70000'],
  ['--frobnicate'],
  ['--peer', 'not-a-multiaddr'],
  ['--nick', ''],
  ['-port', 'abc'],
  ['--http-host', '0.0.0.0']
]

void test('bad flags exit with code 2 and one line on stderr, never a stack trace', async t => {
  for (const args of BAD_FLAGS) {
    const p = run(t, args)
    const code = await p.exited
    assert.equal(code, 2, args.join(' '))
    const err = p.stderr()
    assert.equal(err.trimEnd().split('\n').length, 1, `${args.join(' ')}: ${err}`)
    assert.match(err, /^lan-chat: /)
    assert.doesNotMatch(err, /\n\s+at /)
    assert.equal(p.output(), '')
  }
})

void test('--help lists every flag with its default, and -help works too', async t => {
  for (const flag of ['--help', '-help']) {
    const p = run(t, [flag])
    assert.equal(await p.exited, 0)
    const out = p.output()
    for (const [name, spec] of Object.entries(FLAGS)) {
      assert.match(out, new RegExp(`--${name}\\b`), name)
      if (spec.default != null) assert.ok(out.includes(`(default: ${spec.default})`), `default of --${name}`)
    }
  }
})

void test('--version prints the package version', async t => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const p = run(t, ['--version'])
  assert.equal(await p.exited, 0)
  assert.equal(p.output().trim(), `lan-chat ${pkg.version}`)
})

void test('the installed command runs through its own #! line, with the node flags on it', async t => {
  const flags = shebangNodeFlags(BIN)
  assert.ok(flags.length > 0, 'the bundle names its node flags on its #! line')
  const dir = await tempDataDir(t)
  const p = startProgram({
    args: ['--no-mdns', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--nick', 'installed'],
    asInstalled: true
  })
  t.after(async () => {
    await p.stop('SIGKILL')
  })
  await p.waitFor(/Type a message/, START_MS)
  // env -S has exec'd node with the flags: they are on the running process's command line.
  const cmdline = (await readFile(`/proc/${p.pid}/cmdline`, 'utf8')).split('\0')
  for (const flag of flags) assert.ok(cmdline.includes(flag), `${flag} in ${cmdline.join(' ')}`)
  assert.equal(await p.stop('SIGTERM'), 0)
})

/** PIDs of running processes whose command line contains `needle`. */
async function processesWith(needle: string): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if ((await readFile(`/proc/${entry}/cmdline`, 'utf8')).includes(needle)) pids.push(Number(entry))
    } catch {}
  }
  return pids
}

void test('npm start: SIGTERM to the shell npm runs the script in stops the node itself (the script execs it)', async t => {
  const start = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  // npm runs `sh -c "<script> <args>"`; the build step is left out here (the test runs the built bundle).
  const afterBuild = start.replace(/^npm run build --silent && /, '')
  assert.notEqual(afterBuild, start, `the start script builds first: ${start}`)
  const dir = await tempDataDir(t)
  const p = startProgram({
    shell: afterBuild,
    args: ['--no-mdns', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--nick', 'npm']
  })
  t.after(async () => {
    await p.stop('SIGKILL')
    for (const pid of await processesWith(dir)) process.kill(pid, 'SIGKILL')
  })
  await p.waitFor(/Type a message/, START_MS)
  assert.equal(await p.stop('SIGTERM'), 0, 'the shell exits 0: it has become the node, which stopped cleanly')
  assert.deepEqual(await processesWith(dir), [], 'no node is left running with this data dir')
})
