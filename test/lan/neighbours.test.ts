/**
 * The test LAN's neighbour entries: a LAN too large for the kernel's one ARP table gets a
 * permanent entry for every other host, so ARP cannot overflow it (netns.ts).
 *
 * Needs root and iproute2 for the second test; skipped loudly where namespaces cannot be made.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createLan, macAddress, netnsUnavailableReason, staticNeighboursNeeded, type Lan } from '../helpers/netns.js'

const run = promisify(execFile)

void test('fixed neighbour entries only where ARP would fill half of the eviction threshold', () => {
  assert.equal(staticNeighboursNeeded(2, 512), false)
  assert.equal(staticNeighboursNeeded(10, 512), false, 'the test LANs keep ARP')
  assert.equal(staticNeighboursNeeded(16, 512), false, '240 entries')
  assert.equal(staticNeighboursNeeded(17, 512), true, '272 entries')
  assert.equal(staticNeighboursNeeded(41, 512), true, "the benchmark's N=40: 1,640 entries")
  assert.equal(staticNeighboursNeeded(41, 4096), false, 'a machine with a larger table keeps ARP')
})

void test('a 17-host LAN: every host has a permanent entry for each of the 16 others, with its MAC', async t => {
  const reason = netnsUnavailableReason()
  if (reason != null) {
    t.skip(`network namespaces unavailable: ${reason}`)
    return
  }
  const made: { lan?: Lan } = {}
  t.after(async () => {
    await made.lan?.destroy()
  })
  const lan = await createLan({ hosts: 17 })
  made.lan = lan
  const last = lan.hosts[16]
  const { stdout } = await run('ip', ['-n', lan.hosts[0].ns, '-j', 'neigh', 'show', 'dev', 'eth0'], { encoding: 'utf8' })
  const entries = JSON.parse(stdout) as Array<{ dst: string; lladdr: string; state: string[] }>
  const permanent = entries.filter(e => e.state.includes('PERMANENT'))
  assert.equal(permanent.length, 16)
  assert.deepEqual(
    permanent.map(e => e.dst).sort(),
    lan.hosts
      .slice(1)
      .map(h => h.ip)
      .sort()
  )
  assert.equal(permanent.find(e => e.dst === last.ip)?.lladdr, await macAddress(last.ns))
  assert.ok(
    permanent.every(e => e.dst !== lan.hosts[0].ip),
    'no entry for itself'
  )
})
