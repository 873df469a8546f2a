// An esbuild plugin for scripts/bundle.mjs: @libp2p/tcp sends the chunks of one frame with one
// system call instead of one per chunk.
//
// Why: its `sendData` calls `socket.write()` for each chunk it is given, and every Noise frame
// arrives as two chunks (the 2-byte length, then the ciphertext). With TCP_NODELAY each write is a
// system call and a packet of its own: every message and every ping cost two writes at the sender,
// and the receiver woke up for a 2-byte packet it could not use yet. Corking the socket around the
// loop makes Node hand all chunks to one writev(); the bytes and their order are unchanged.
//
// The build fails if the package changes so that the rewrite no longer matches.
import { sourcePatch } from './source-patch.mjs'

export function tcpOneWrite() {
  return sourcePatch({
    name: 'tcp-one-write',
    file: /[\\/]node_modules[\\/]@libp2p[\\/]tcp[\\/]dist[\\/]src[\\/]socket-to-conn\.js$/,
    pattern: /(sendData\(data\) \{\s*let sentBytes = 0;\s*let canSendMore = true;)(\s*for \(const buf of data\) \{[^}]*\}\s*\})/,
    replacement: '$1\n        this.socket.cork();$2\n        this.socket.uncork();'
  })
}
