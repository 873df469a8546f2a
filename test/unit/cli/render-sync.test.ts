/** Terminal lines for history sync: the room states of /peers and the summary of a burst of history. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderHistorySummary, renderSyncStatus } from '../../../src/cli/render.js'

const style = { color: false, time: (ms: number) => `t${ms}` }

void test('each room shows in sync or catching up, with what it knows it misses', () => {
  assert.equal(
    renderSyncStatus([
      { room: 'main', state: 'in sync', missing: 0 },
      { room: 'lab', state: 'catching up', missing: 12 }
    ]),
    '  #main in sync\n  #lab catching up (12 messages missing)'
  )
})

void test('a burst of history is summarised in one line: how many, from when to when, how many follow', () => {
  const line = renderHistorySummary(style, { room: 'main', count: 480, from: 1, to: 2, shown: 10 })
  assert.equal(
    line,
    "* 480 earlier message(s) in #main arrived from history (t1–t2), placed in order among the room's messages; the last 10 follow"
  )
})
