/** Names on the wire and the hello frame: pure formats. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { roomTopic, topicRoom, mdnsServiceTag, shortPeerId } from '../../../src/network/topics.js'
import { decodeHello, encodeHello, MAX_HELLO_BYTES } from '../../../src/network/hello.js'
import { InvalidMessageError } from '../../../src/errors.js'

void test('a room maps to its topic and back; other topics are not rooms', () => {
  assert.equal(roomTopic('main'), 'lan-chat/room/main/v2')
  assert.equal(topicRoom(roomTopic('lab-2')), 'lab-2')
  assert.equal(topicRoom('other/topic'), undefined)
  assert.equal(topicRoom('lan-chat/room//v2'), undefined)
})

void test('the mDNS service name is per rendezvous tag', () => {
  assert.equal(mdnsServiceTag('Lab'), '_lanchat-lab._udp.local')
  assert.notEqual(mdnsServiceTag('a'), mdnsServiceTag('b'))
})

void test('a short peer ID keeps the last 8 characters', () => {
  assert.equal(shortPeerId('12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'), '…4kx6nXTN')
  assert.equal(shortPeerId('short'), 'short')
})

void test('a hello frame round-trips; an unknown "found" becomes inbound', () => {
  assert.deepEqual(decodeHello(encodeHello({ nick: 'ada', found: 'mdns' })), { nick: 'ada', found: 'mdns' })
  assert.deepEqual(decodeHello(Buffer.from('{"nick":"ada","found":"x"}')), { nick: 'ada', found: 'inbound' })
})

void test('bad hello frames are refused', () => {
  for (const bad of ['nope', '{}', '{"nick":"a\\u001b"}', 'null'])
    assert.throws(() => decodeHello(Buffer.from(bad)), InvalidMessageError, bad)
  assert.throws(() => decodeHello(Buffer.alloc(MAX_HELLO_BYTES + 1, 0x20)), InvalidMessageError)
})
