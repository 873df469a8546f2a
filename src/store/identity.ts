/**
 * The node's identity key, kept in `<data dir>/peer.key` (mode 0600) so its peer ID survives a
 * restart. Written atomically: a crash while creating it never leaves a half key behind.
 */
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { StorageError } from '../errors.js'

export const KEY_FILE = 'peer.key'

export interface LoadedIdentity {
  privateKey: PrivateKey
  /** True if the key was made now. */
  created: boolean
  path: string
}

export async function loadOrCreateIdentity(dir: string): Promise<LoadedIdentity> {
  const path = join(dir, KEY_FILE)
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new StorageError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  if (bytes != null) {
    let privateKey: PrivateKey
    try {
      privateKey = privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new StorageError(`${path} is not a valid key file (move it away to create a new identity)`, { cause: err })
    }
    if (privateKey.type !== 'Ed25519') throw new StorageError(`${path} holds a ${privateKey.type} key; LAN Chat needs Ed25519`)
    const mode = (await stat(path)).mode & 0o777
    if ((mode & 0o077) !== 0) await chmod(path, 0o600)
    return { privateKey, created: false, path }
  }
  const privateKey = await generateKeyPair('Ed25519')
  const tmp = `${path}.tmp-${process.pid}`
  try {
    await writeFile(tmp, privateKeyToProtobuf(privateKey), { mode: 0o600, flag: 'wx' })
    await rename(tmp, path)
  } catch (err) {
    throw new StorageError(`cannot write ${path}: ${(err as Error).message}`, { cause: err })
  }
  return { privateKey, created: true, path }
}
