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
import { readFile } from 'node:fs/promises'

const FILE = /[\\/]node_modules[\\/]@libp2p[\\/]tcp[\\/]dist[\\/]src[\\/]socket-to-conn\.js$/
const LOOP = /(sendData\(data\) \{\s*let sentBytes = 0;\s*let canSendMore = true;)(\s*for \(const buf of data\) \{[^}]*\}\s*\})/

export function tcpOneWrite() {
  return {
    name: 'tcp-one-write',
    setup(build) {
      let rewritten = 0
      build.onStart(() => {
        rewritten = 0
      })
      build.onLoad({ filter: FILE }, async args => {
        const source = await readFile(args.path, 'utf8')
        if (!LOOP.test(source)) return undefined
        rewritten++
        return { contents: source.replace(LOOP, '$1\n        this.socket.cork();$2\n        this.socket.uncork();'), loader: 'js' }
      })
      build.onEnd(result => {
        if (result.errors.length > 0) return
        if (rewritten !== 1)
          throw new Error(`tcp-one-write: rewrote ${rewritten} sendData loops (expected 1); see scripts/tcp-one-write.mjs`)
      })
    }
  }
}
