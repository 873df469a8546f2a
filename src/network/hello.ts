/**
 * The hello protocol (`/lan-chat/hello/1.0.0`): right after identify, each side pushes one small
 * JSON frame with its nick and how it found the other (mDNS, --peer, or not at all), and pushes it
 * again when its nick changes. The connection is already authenticated by noise, so the frame
 * needs no signature. Pure encode/decode here; the stream handling lives in network.ts.
 */
import { isValidNick } from '../rules.js'
import { InvalidMessageError } from '../errors.js'

/** Largest hello frame accepted. */
export const MAX_HELLO_BYTES = 1024

export type FoundBy = 'mdns' | 'dial' | 'inbound'

export interface Hello {
  nick: string
  found: FoundBy
}

export function encodeHello(hello: Hello): Uint8Array {
  return Buffer.from(JSON.stringify({ nick: hello.nick, found: hello.found }), 'utf8')
}

export function decodeHello(bytes: Uint8Array): Hello {
  if (bytes.byteLength > MAX_HELLO_BYTES) throw new InvalidMessageError('too-large', 'hello frame is too large')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw new InvalidMessageError('malformed', 'hello frame is not JSON')
  }
  const o = value as Partial<Hello> | null
  if (o == null || typeof o !== 'object' || typeof o.nick !== 'string' || !isValidNick(o.nick))
    throw new InvalidMessageError('bad-nick', 'hello frame has no valid nick')
  const found: FoundBy = o.found === 'mdns' || o.found === 'dial' ? o.found : 'inbound'
  return { nick: o.nick, found }
}
