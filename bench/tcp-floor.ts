/**
 * The floor for N=2: plain TCP between two namespaces, no libp2p. The benchmark drives it through
 * the same stdin → process → network → process → stdout path as the chat nodes, so the difference
 * between this and a chat node's latency is what the chat stack adds.
 *
 *   node dist/bench/tcp-floor.js server <port>   prints `listening`, then every line it receives;
 *                                                 answers `ping` lines with `pong` (round trips)
 *                                                 and sends `echo <text>` lines back as `<text>`
 *   node dist/bench/tcp-floor.js client <ip> <port>
 *                                                 sends every stdin line and prints every line
 *                                                 that comes back; `rtt <count>` measures
 *                                                 <count> sequential round trips and prints
 *                                                 `rtt <ms> <ms> …`
 */
import { createServer, connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'

const MAX_RTT_COUNT = 10_000
const [mode, a, b] = process.argv.slice(2)
const out = (line: string): void => {
  process.stdout.write(line + '\n')
}

function lines(socket: Socket, fn: (line: string) => void): void {
  socket.setNoDelay(true)
  createInterface({ input: socket }).on('line', fn)
}

if (mode === 'server') {
  const server = createServer(socket => {
    lines(socket, line => {
      if (line === 'ping') socket.write('pong\n')
      else if (line.startsWith('echo ')) socket.write(line.slice(5) + '\n')
      else out(line)
    })
  })
  server.listen(Number(a), '0.0.0.0', () => {
    out('listening')
  })
  process.on('SIGTERM', () => process.exit(0))
} else if (mode === 'client') {
  const socket = connect({ host: a, port: Number(b) }, () => {
    out('connected')
  })
  let pong: (() => void) | undefined
  lines(socket, line => {
    if (line === 'pong') pong?.()
    else out(line)
  })
  const roundTrips = async (count: number): Promise<number[]> => {
    const rtts: number[] = []
    for (let i = 0; i < Math.min(count, MAX_RTT_COUNT); i++) {
      const t0 = performance.now()
      await new Promise<void>(resolve => {
        pong = resolve
        socket.write('ping\n')
      })
      rtts.push(performance.now() - t0)
    }
    return rtts
  }
  let busy: Promise<void> = Promise.resolve()
  createInterface({ input: process.stdin }).on('line', line => {
    const m = /^rtt (\d+)$/.exec(line)
    if (m == null) {
      socket.write(line + '\n')
      return
    }
    busy = busy.then(async () => {
      const rtts = await roundTrips(Number(m[1]))
      out(`rtt ${rtts.map(r => r.toFixed(3)).join(' ')}`)
    })
  })
  process.on('SIGTERM', () => process.exit(0))
} else {
  process.stderr.write('usage: tcp-floor server <port> | client <ip> <port>\n')
  process.exit(2)
}
