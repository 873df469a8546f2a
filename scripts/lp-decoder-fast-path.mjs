// An esbuild plugin for scripts/bundle.mjs: @libp2p/utils' LengthPrefixedDecoder stops reading
// frames when its buffer is empty, instead of asking the length decoder to fail on it.
//
// Why: the decoder loops `while (true)` and learns that the buffer is used up when the length
// decoder throws a RangeError on it. That happens once per chunk a connection reads (Noise frames
// come through it), and building and unwinding the error is not cheap: in a profile of ten nodes
// exchanging 2,700 messages (in-process, 10 nodes), `uint16BEDecode` throwing on an empty buffer was
// 109 ms of 2,035 ms of CPU (5 %). Lodestar found the same pattern in libp2p-mplex in 2021
// (ChainSafe/lodestar#3467). A length decoder cannot read a length from zero bytes, so stopping
// on an empty buffer is what the RangeError did, without the error.
//
// The build fails if the package changes so that the rewrite no longer matches.
import { readFile } from 'node:fs/promises'

const FILE = /[\\/]node_modules[\\/]@libp2p[\\/]utils[\\/]dist[\\/]src[\\/]length-prefixed-decoder\.js$/
const LOOP = /while \(true\) \{(\s*)let dataLength;/

export function lpDecoderFastPath() {
  return {
    name: 'lp-decoder-fast-path',
    setup(build) {
      let rewritten = 0
      build.onStart(() => {
        rewritten = 0
      })
      build.onLoad({ filter: FILE }, async args => {
        const source = await readFile(args.path, 'utf8')
        if (!LOOP.test(source)) return undefined
        rewritten++
        return { contents: source.replace(LOOP, 'while (this.buffer.byteLength > 0) {$1let dataLength;'), loader: 'js' }
      })
      build.onEnd(result => {
        if (result.errors.length > 0) return
        if (rewritten !== 1)
          throw new Error(`lp-decoder-fast-path: rewrote ${rewritten} decoder loops (expected 1); see scripts/lp-decoder-fast-path.mjs`)
      })
    }
  }
}
