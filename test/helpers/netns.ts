/**
 * A virtual LAN made of Linux network namespaces: one namespace per host, each with a veth link to
 * a bridge that lives in a namespace of its own, so nothing can reach the machine's real network.
 * Multicast (mDNS) works between hosts; `cut()`/`heal()` take a host's bridge port down and up;
 * `muteMulticast()` makes a host's own multicast go nowhere while it still hears the LAN's (a
 * one-way fault: others never discover it, it discovers them).
 *
 * Needs root and iproute2 (nothing else: no iptables, no tc actions). Every namespace is removed
 * by `destroy()`, on process exit or SIGINT/SIGTERM, and by the next run if a crashed run left it
 * behind; processes still inside a namespace being removed are killed first, so no program started
 * in a test LAN outlives it.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)
const PREFIX = 'lanchat-'

export interface Host {
  /** Index from 0. */
  index: number
  ns: string
  ip: string
}

export interface Lan {
  hosts: Host[]
  bridgeNs: string
  /** Takes a host off the LAN (its bridge port goes down). */
  cut: (host: Host) => Promise<void>
  /** Puts a host back on the LAN. */
  heal: (host: Host) => Promise<void>
  /**
   * Sends the host's multicast (mDNS queries and answers) into a dead-end link inside its own
   * namespace: it still receives the LAN's multicast, but nobody receives its own.
   */
  muteMulticast: (host: Host) => Promise<void>
  /** Runs a command inside the host's namespace; resolves with its stdout. */
  exec: (host: Host, command: string, args: string[]) => Promise<string>
  destroy: () => Promise<void>
}

export interface LanOptions {
  hosts: number
  /** Third octet of 10.231.X.0/24; unique per LAN in one process. */
  subnet?: number
}

let counter = 0
const live = new Set<string>()

function ip(...args: string[]): Promise<unknown> {
  return run('ip', args)
}

/** Why namespaces cannot be made here, or undefined if they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not running as root'
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  if (probe.error != null || probe.status !== 0) return `iproute2 is not usable: ${probe.error?.message ?? probe.stderr}`
  const name = `${PREFIX}probe-${process.pid}`
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' })
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`
  spawnSync('ip', ['netns', 'del', name])
  return undefined
}

/** Removes namespaces left by runs whose process is gone. */
export function sweepStale(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? ''
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0]
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)
    if (m == null) continue
    const pid = Number(m[1])
    let alive = true
    try {
      process.kill(pid, 0)
    } catch {
      alive = false
    }
    if (!alive || pid === process.pid) {
      if (pid !== process.pid || !live.has(name)) deleteNamespaceSync(name)
    }
  }
}

/** PIDs of the processes inside a namespace. */
function pidsIn(name: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? ''
  return out
    .split('\n')
    .map(Number)
    .filter(pid => Number.isInteger(pid) && pid > 0 && pid !== process.pid)
}

/** Kills what a test left running inside a namespace, then removes it. */
function deleteNamespaceSync(name: string): void {
  for (const pid of pidsIn(name)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
  } catch {}
}

function deleteSync(names: Iterable<string>): void {
  for (const name of [...names]) {
    deleteNamespaceSync(name)
    live.delete(name)
  }
}

process.once('exit', () => {
  deleteSync(live)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    deleteSync(live)
    process.kill(process.pid, signal)
  })
}

/**
 * Whether a LAN of `hosts` needs fixed neighbour entries instead of ARP. The kernel keeps one ARP
 * table for all namespaces: past `gc_thresh2` entries (512 by default) it evicts entries in use,
 * and past `gc_thresh3` (1,024) it refuses new ones (`neighbour: arp_cache: neighbor table
 * overflow!`). A LAN where every host talks to every other needs hosts × (hosts − 1) entries: at
 * 41 hosts (the benchmark's N=40) 1,640, and there dials failed with EHOSTUNREACH, nodes stayed
 * unconnected for minutes and a node joining later waited 7–20 s, or for ever. Permanent entries do
 * not count against either limit. Leaves room for other LANs running at the same time. Pure.
 */
export function staticNeighboursNeeded(hosts: number, gcThresh2: number): boolean {
  return hosts * (hosts - 1) > gcThresh2 / 2
}

function gcThreshold2(): number {
  try {
    const value = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh2', 'utf8').trim())
    return Number.isFinite(value) && value > 0 ? value : 512
  } catch {
    return 512
  }
}

/** The MAC address of a host's LAN interface (eth0 in its namespace). */
export async function macAddress(ns: string): Promise<string> {
  const { stdout } = await run('ip', ['-n', ns, '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' })
  return (JSON.parse(stdout) as Array<{ address: string }>)[0].address
}

/** Every host gets a permanent neighbour entry for every other host's address and MAC. */
async function addStaticNeighbours(hosts: Host[]): Promise<void> {
  const macs = await Promise.all(hosts.map(async h => await macAddress(h.ns)))
  for (const h of hosts) {
    const lines = hosts.filter(o => o !== h).map(o => `neigh replace ${o.ip} lladdr ${macs[o.index]} dev eth0 nud permanent`)
    const result = spawnSync('ip', ['-n', h.ns, '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`cannot add neighbour entries in ${h.ns}: ${result.stderr.trim()}`)
  }
}

export async function createLan(options: LanOptions): Promise<Lan> {
  sweepStale()
  const id = `${process.pid}-${counter++}`
  const subnet = options.subnet ?? counter % 250
  const bridgeNs = `${PREFIX}${id}-br`
  const made: string[] = []
  const destroy = async (): Promise<void> => {
    for (const ns of made.splice(0).reverse()) {
      deleteNamespaceSync(ns)
      live.delete(ns)
    }
    await Promise.resolve()
  }
  try {
    await ip('netns', 'add', bridgeNs)
    made.push(bridgeNs)
    live.add(bridgeNs)
    await ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge')
    // Forward multicast at once (no snooping), so mDNS works from the first packet.
    await ip('-n', bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
    await ip('-n', bridgeNs, 'link', 'set', 'br0', 'up')
    const hosts: Host[] = []
    for (let i = 0; i < options.hosts; i++) {
      const ns = `${PREFIX}${id}-h${i}`
      await ip('netns', 'add', ns)
      made.push(ns)
      live.add(ns)
      const port = `p${i}`
      await ip('-n', bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await ip('-n', bridgeNs, 'link', 'set', port, 'master', 'br0')
      await ip('-n', bridgeNs, 'link', 'set', port, 'up')
      const addr = `10.231.${subnet}.${i + 10}`
      await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
      await ip('-n', ns, 'link', 'set', 'eth0', 'up')
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
      // No default route in these namespaces: multicast needs a route of its own.
      await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
      hosts.push({ index: i, ns, ip: addr })
    }
    if (staticNeighboursNeeded(hosts.length, gcThreshold2())) await addStaticNeighbours(hosts)
    return {
      hosts,
      bridgeNs,
      cut: async host => {
        await ip('-n', bridgeNs, 'link', 'set', `p${host.index}`, 'down')
      },
      heal: async host => {
        await ip('-n', bridgeNs, 'link', 'set', `p${host.index}`, 'up')
      },
      muteMulticast: async host => {
        // A veth pair needs no kernel module beyond what the LAN itself uses; its far end has no
        // address and nobody listens on it.
        await ip('-n', host.ns, 'link', 'add', 'mute0', 'type', 'veth', 'peer', 'name', 'mute1')
        await ip('-n', host.ns, 'link', 'set', 'mute0', 'up')
        await ip('-n', host.ns, 'link', 'set', 'mute1', 'up')
        await ip('-n', host.ns, 'route', 'replace', '224.0.0.0/4', 'dev', 'mute0')
      },
      exec: async (host, command, args) => {
        const { stdout } = await run('ip', ['netns', 'exec', host.ns, command, ...args], { encoding: 'utf8' })
        return stdout
      },
      destroy
    }
  } catch (err) {
    await destroy()
    throw err
  }
}
