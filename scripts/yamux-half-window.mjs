// An esbuild plugin for scripts/bundle.mjs: @libp2p/yamux gives a stream's window back when half
// of it is used, as go-yamux and rust-yamux do, instead of after every data frame.
//
// Why: its `sendWindowUpdate` runs after each data frame a stream receives and sends a
// WINDOW_UPDATE frame whenever any of the window is used, so every chat message a peer got cost it
// a second frame back: a Noise encryption and a socket write there, a read and a decryption at the
// sender. In a burst of ten senders at N=10 that was about a tenth of all CPU (bench/, --profile).
// The window is 256 KB or more and a chat message under 1 KB, so the sender never runs short of
// window while the receiver waits for half of it to be used (go-yamux's `GrowTo`). Frames with
// flags (SYN, ACK, FIN) still go at once; the window auto-tuning is unchanged.
//
// The build fails if the package changes so that the rewrite no longer matches.
import { sourcePatch } from './source-patch.mjs'

export function yamuxHalfWindow() {
  return sourcePatch({
    name: 'yamux-half-window',
    file: /[\\/]node_modules[\\/]@libp2p[\\/]yamux[\\/]dist[\\/]src[\\/]stream\.js$/,
    pattern: /(sendWindowUpdate\(\) \{[\s\S]*?const flags = this\.getSendFlags\(\);)/,
    replacement:
      '$1\n        if (flags === 0 && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) {\n            return;\n        }'
  })
}
