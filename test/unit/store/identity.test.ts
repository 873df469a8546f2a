/** The identity key file: private (0600), stable across restarts, refused when damaged. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stat, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity, KEY_FILE } from '../../../src/store/identity.js'
import { StorageError } from '../../../src/errors.js'
import { tempDir } from '../../helpers/temp-dir.js'

void test('a new key is created with mode 0600', async t => {
  const dir = await tempDir(t, 'lan-chat-id-')
  const id = await loadOrCreateIdentity(dir)
  assert.equal(id.created, true)
  assert.equal(id.path, join(dir, KEY_FILE))
  assert.equal(id.privateKey.type, 'Ed25519')
  assert.equal((await stat(id.path)).mode & 0o777, 0o600)
})

void test('loading again gives the same peer ID', async t => {
  const dir = await tempDir(t, 'lan-chat-id-')
  const first = await loadOrCreateIdentity(dir)
  const second = await loadOrCreateIdentity(dir)
  assert.equal(second.created, false)
  assert.equal(peerIdFromPrivateKey(second.privateKey).toString(), peerIdFromPrivateKey(first.privateKey).toString())
})

void test('a key file readable by others is made private again', async t => {
  const dir = await tempDir(t, 'lan-chat-id-')
  const { path } = await loadOrCreateIdentity(dir)
  await chmod(path, 0o644)
  await loadOrCreateIdentity(dir)
  assert.equal((await stat(path)).mode & 0o777, 0o600)
})

void test('a garbage key file is a StorageError, and is left in place', async t => {
  const dir = await tempDir(t, 'lan-chat-id-')
  await writeFile(join(dir, KEY_FILE), 'this is not a key')
  await assert.rejects(loadOrCreateIdentity(dir), StorageError)
  assert.equal((await stat(join(dir, KEY_FILE))).size, 'this is not a key'.length)
})
