import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LiveStream, type LiveEvent } from '../../../src/api/live.js'
import { TypedEvents } from '../../../src/events.js'
import type { ChatEvents } from '../../../src/chat/index.js'
import { InvalidOptionError } from '../../../src/errors.js'

function setup(capacity = 3): { chat: TypedEvents<ChatEvents>; live: LiveStream } {
  const chat = new TypedEvents<ChatEvents>()
  const live = new LiveStream({ chat }, { capacity, epoch: 'ep' })
  live.start()
  return { chat, live }
}

const rooms = (chat: TypedEvents<ChatEvents>, n: number): void => {
  chat.emit('rooms:change', { rooms: [`r${n}`] })
}

void test('numbers chat events from 1 under the stream names', () => {
  const { chat, live } = setup()
  const got: LiveEvent[] = []
  live.subscribe(undefined, e => got.push(e))
  chat.emit('nick:change', { nick: 'b', previous: 'a' })
  chat.emit('room:join', { room: 'main', peerId: 'p' })
  assert.deepEqual(
    got.map(e => [e.id, e.event]),
    [
      ['ep-1', 'nick:change'],
      ['ep-2', 'room:join']
    ]
  )
  assert.equal(live.cursor, 'ep-2')
})

void test('a new client starts fresh at the current cursor', () => {
  const { chat, live } = setup()
  rooms(chat, 1)
  assert.deepEqual(live.resumeFrom(undefined), { resumed: false, reason: 'new', cursor: 'ep-1' })
  assert.deepEqual(live.resumeFrom(''), { resumed: false, reason: 'new', cursor: 'ep-1' })
})

void test('resuming replays exactly the events after the last one seen', () => {
  const { chat, live } = setup()
  for (let i = 1; i <= 3; i++) rooms(chat, i)
  const r = live.resumeFrom('ep-1')
  assert.ok(r.resumed)
  assert.deepEqual(
    r.events.map(e => e.seq),
    [2, 3]
  )
  const upToDate = live.resumeFrom('ep-3')
  assert.ok(upToDate.resumed)
  assert.equal(upToDate.events.length, 0)
})

void test('a client behind the ring, from another run or from the future must refetch', () => {
  const { chat, live } = setup(3)
  for (let i = 1; i <= 5; i++) rooms(chat, i) // ring holds 3..5
  assert.ok(live.resumeFrom('ep-2').resumed, 'just behind the ring is complete')
  assert.deepEqual(live.resumeFrom('ep-1'), { resumed: false, reason: 'too-far-behind', cursor: 'ep-5' })
  assert.deepEqual(live.resumeFrom('other-4'), { resumed: false, reason: 'unknown-cursor', cursor: 'ep-5' })
  assert.deepEqual(live.resumeFrom('ep-9'), { resumed: false, reason: 'unknown-cursor', cursor: 'ep-5' })
  assert.deepEqual(live.resumeFrom('garbage'), { resumed: false, reason: 'unknown-cursor', cursor: 'ep-5' })
})

void test('subscribing resumes and listens in one step; unsubscribe and stop end delivery', () => {
  const { chat, live } = setup()
  rooms(chat, 1)
  const got: number[] = []
  const sub = live.subscribe('ep-0', e => got.push(e.seq))
  assert.ok(sub.resume.resumed)
  assert.deepEqual(
    sub.resume.events.map(e => e.seq),
    [1]
  )
  rooms(chat, 2)
  sub.unsubscribe()
  rooms(chat, 3)
  assert.deepEqual(got, [2])
  live.stop()
  rooms(chat, 4)
  assert.equal(live.cursor, 'ep-3', 'no longer listens to the chat')
})

void test('a throwing subscriber does not stop the others', () => {
  const { chat, live } = setup()
  const got: number[] = []
  live.subscribe(undefined, () => {
    throw new Error('broken')
  })
  live.subscribe(undefined, e => got.push(e.seq))
  rooms(chat, 1)
  assert.deepEqual(got, [1])
})

void test('capacity must be a positive integer', () => {
  const chat = new TypedEvents<ChatEvents>()
  assert.throws(() => new LiveStream({ chat }, { capacity: 0 }), InvalidOptionError)
})
