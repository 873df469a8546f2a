import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TypedEventEmitter, type ComponentLogger, type Libp2pEvents, type Logger } from '@libp2p/interface'
import { lanDiscovery } from '../../../src/network/discovery.js'
import { InvalidOptionError } from '../../../src/errors.js'

const silent = Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {}, newScope: () => silent }) as unknown as Logger
const logger: ComponentLogger = { forComponent: () => silent }

// Only constructs the service: its socket opens once the node listens, which never happens here (no
// multicast outside a test namespace).
const components = (): Parameters<ReturnType<typeof lanDiscovery>>[0] => ({
  addressManager: { getAddresses: () => [] },
  events: new TypedEventEmitter<Libp2pEvents>(),
  logger
})

void test('mDNS discovery rejects timings that are not positive numbers', () => {
  for (const bad of [
    { interval: 0 },
    { minInterval: -1 },
    { announceInterval: Number.NaN },
    { recordTtl: 0 },
    { maxQueryBytes: Infinity }
  ]) {
    assert.throws(
      () => lanDiscovery({ serviceTag: '_lanchat-lab._udp.local', ...bad })(components()),
      InvalidOptionError,
      JSON.stringify(bad)
    )
  }
})
