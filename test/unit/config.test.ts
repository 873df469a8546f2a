/**
 * Flags → config: every flag, Go-style spellings, defaults from the environment, and every kind of
 * bad value stopping with a UsageError (the entry point turns that into exit code 2).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  parseArgs,
  normalizeGoFlags,
  defaultDataDir,
  helpText,
  FLAGS,
  DEFAULT_HTTP_PORT,
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_RENDEZVOUS,
  DEFAULT_NICK,
  type Config,
  type Environment
} from '../../src/config.js'
import { UsageError } from '../../src/errors.js'

const ENV = { user: 'ada', home: '/home/ada' }

function run(argv: string[], env: Environment = ENV): Config {
  const result = parseArgs(argv, env)
  if (result.kind !== 'run') assert.fail(`expected a config, got ${result.kind}`)
  return result.config
}

const PEER = '/ip4/127.0.0.1/tcp/9000/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const PEER2 = '/ip4/10.0.0.2/tcp/9001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

void test('no flags gives the documented defaults', () => {
  const c = run([])
  assert.equal(c.port, 0)
  assert.equal(c.host, '0.0.0.0')
  assert.deepEqual(c.peers, [])
  assert.equal(c.rendezvous, DEFAULT_RENDEZVOUS)
  assert.equal(c.mdns, true)
  assert.equal(c.nick, 'ada')
  assert.deepEqual(c.rooms, ['main'])
  assert.equal(c.dataDir, join('/home/ada', '.local', 'share', 'lan-chat'))
  assert.equal(c.http, false)
  assert.equal(c.httpPort, DEFAULT_HTTP_PORT)
  assert.equal(c.httpHost, '127.0.0.1')
  assert.equal(c.httpAllowRemote, false)
  assert.equal(c.historyLimit, DEFAULT_HISTORY_LIMIT)
  assert.equal(c.verbose, false)
})

void test('the nick defaults to the OS user, and to a safe fallback when that user name is unusable', () => {
  assert.equal(run([], { user: 'grace', home: '/h' }).nick, 'grace')
  assert.equal(run([], { home: '/h' }).nick, DEFAULT_NICK)
  assert.equal(run([], { user: '', home: '/h' }).nick, DEFAULT_NICK)
  assert.equal(run([], { user: 'bad\u0007user', home: '/h' }).nick, DEFAULT_NICK)
})

void test('the data dir comes from XDG_DATA_HOME when set, else from the home directory', () => {
  assert.equal(run([], { ...ENV, xdgDataHome: '/xdg' }).dataDir, join('/xdg', 'lan-chat'))
  assert.equal(run([], { ...ENV, xdgDataHome: '' }).dataDir, join('/home/ada', '.local', 'share', 'lan-chat'))
  assert.equal(defaultDataDir({ xdgDataHome: '/x' }), join('/x', 'lan-chat'))
  assert.equal(run(['--data-dir', '/tmp/here']).dataDir, '/tmp/here')
})

void test('every flag is read into the config', () => {
  const c = run([
    '--port',
    '9000',
    '--host',
    '127.0.0.1',
    '--peer',
    PEER,
    '--rendezvous',
    'lab-2',
    '--no-mdns',
    '--nick',
    'Bob',
    '--room',
    'lab',
    '--data-dir',
    '/d',
    '--history-limit',
    '100',
    '--enable-http',
    '--http-port',
    '8080',
    '--http-host',
    '0.0.0.0',
    '--http-allow-remote',
    '--verbose'
  ])
  assert.equal(c.port, 9000)
  assert.equal(c.host, '127.0.0.1')
  assert.deepEqual(
    c.peers.map(p => p.toString()),
    [PEER]
  )
  assert.equal(c.rendezvous, 'lab-2')
  assert.equal(c.mdns, false)
  assert.equal(c.nick, 'Bob')
  assert.deepEqual(c.rooms, ['lab'])
  assert.equal(c.dataDir, '/d')
  assert.equal(c.historyLimit, 100)
  assert.equal(c.http, true)
  assert.equal(c.httpPort, 8080)
  assert.equal(c.httpHost, '0.0.0.0')
  assert.equal(c.httpAllowRemote, true)
  assert.equal(c.verbose, true)
})

void test('Go-style single-dash flags work with a space or an equals sign', () => {
  assert.equal(run(['-port', '9000']).port, 9000)
  assert.equal(run(['-port=9001']).port, 9001)
  assert.equal(run(['--port=9002']).port, 9002)
  assert.equal(run(['-no-mdns']).mdns, false)
  assert.deepEqual(
    run(['-peer', PEER]).peers.map(p => p.toString()),
    [PEER]
  )
  assert.equal(run(['-nick=Zoe', '-room', 'x']).nick, 'Zoe')
  assert.deepEqual(normalizeGoFlags(['-port', '1', '--', '-port']), ['--port', '1', '--', '-port'])
  // Unknown single-dash words are left alone, so they fail as unknown flags.
  assert.deepEqual(normalizeGoFlags(['-bogus']), ['-bogus'])
})

void test('--peer and --room may repeat; repeated rooms are kept once, in order', () => {
  const c = run(['--peer', PEER, '--peer', PEER2, '--room', 'b', '--room', '#A', '--room', 'b'])
  assert.deepEqual(
    c.peers.map(p => p.toString()),
    [PEER, PEER2]
  )
  assert.deepEqual(c.rooms, ['b', 'a'])
})

void test('--help and --version are recognised', () => {
  assert.equal(parseArgs(['--help'], ENV).kind, 'help')
  assert.equal(parseArgs(['-help'], ENV).kind, 'help')
  assert.equal(parseArgs(['--version'], ENV).kind, 'version')
})

void test('the help text lists every flag with its default', () => {
  const text = helpText('9.9.9')
  assert.match(text, /9\.9\.9/)
  for (const [name, spec] of Object.entries(FLAGS)) {
    assert.match(text, new RegExp(`--${name}\\b`), `--${name} missing from help`)
    if (spec.default != null) assert.ok(text.includes(`(default: ${spec.default})`), `default of --${name} missing`)
  }
})

const BAD: Array<[string, string[]]> = [
  ['port 70000', ['--port', '70000']],
  ['a negative port', ['--port=-1']],
  ['a port that is not a number', ['--port', 'abc']],
  ['an http port out of range', ['--http-port', '65536']],
  ['an unparsable multiaddr', ['--peer', 'not-a-multiaddr']],
  ['a multiaddr without tcp', ['--peer', '/ip4/127.0.0.1/udp/9000']],
  ['an empty nick', ['--nick', '']],
  ['a blank nick', ['--nick', '   ']],
  ['a nick with control characters', ['--nick', 'a\u001b[31mb']],
  ['a nick that is too long', ['--nick', 'x'.repeat(33)]],
  ['an invalid room', ['--room', 'Bad Room!']],
  ['an empty room', ['--room', '']],
  ['a bad rendezvous tag', ['--rendezvous', 'a b']],
  ['an empty data dir', ['--data-dir', '']],
  ['a zero history limit', ['--history-limit', '0']],
  ['an unknown flag', ['--frobnicate']],
  ['an unknown Go-style flag', ['-frobnicate']],
  ['a positional argument', ['hello']],
  ['a missing value', ['--port']],
  ['a value given to a boolean flag', ['--no-mdns=yes']],
  ['a non-loopback --http-host without --http-allow-remote', ['--http-host', '0.0.0.0']],
  ['a LAN --http-host without --http-allow-remote', ['--http-host', '192.168.1.5']]
]

for (const [what, argv] of BAD) {
  void test(`${what} is a UsageError with a one-line message`, () => {
    assert.throws(
      () => parseArgs(argv, ENV),
      (err: unknown) => {
        assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`)
        assert.ok(!err.message.includes('\n'), `message has several lines: ${err.message}`)
        assert.ok(err.message.length > 0)
        return true
      }
    )
  })
}

void test('loopback --http-host values need no extra flag', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.equal(run(['--http-host', host]).httpHost, host)
})
