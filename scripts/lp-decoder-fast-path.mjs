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
import { sourcePatch } from './source-patch.mjs'

export function lpDecoderFastPath() {
  return sourcePatch({
    name: 'lp-decoder-fast-path',
    file: /[\\/]node_modules[\\/]@libp2p[\\/]utils[\\/]dist[\\/]src[\\/]length-prefixed-decoder\.js$/,
    pattern: /while \(true\) \{(\s*)let dataLength;/,
    replacement: 'while (this.buffer.byteLength > 0) {$1let dataLength;'
  })
}
