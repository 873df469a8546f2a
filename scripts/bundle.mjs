#!/usr/bin/env node
// Bundles the program into one file, dist/src/bin/lan-chat.bundle.mjs, the file `lan-chat` runs.
// Why: loading ~500 small ES modules costs a node ~300 ms of start-up and ~25 MB of memory (module
// records, source text, resolution); one minified file loads in a fraction of that (see the
// benchmark in README.md). It sits next to the unbundled entry, so paths the program derives from
// its own location (package.json for the version, frontend/) resolve the same way.
import { build } from 'esbuild'
import { codeUnitCompare } from './code-unit-compare.mjs'
import { gossipsubUnscoredDeliveries } from './gossipsub-unscored-deliveries.mjs'
import { lpDecoderFastPath } from './lp-decoder-fast-path.mjs'
import { morticeOneProcess } from './mortice-one-process.mjs'
import { noiseNodeCrypto } from './noise-node-crypto.mjs'
import { tcpOneWrite } from './tcp-one-write.mjs'
import { yamuxHalfWindow } from './yamux-half-window.mjs'

await build({
  entryPoints: ['src/bin/lan-chat.ts'],
  outfile: 'dist/src/bin/lan-chat.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // localeCompare in libp2p's peer store pulls ICU collation data into every node's RSS (2.5 MB);
  // the length-prefixed decoder threw an error per chunk read (5 % of a busy node's CPU); noise's
  // default crypto instantiates WebAssembly nobody uses (see noise-node-crypto.mjs); TCP wrote each
  // Noise frame with two system calls (see tcp-one-write.mjs); mortice loaded node:cluster to learn
  // that it is not a cluster worker (see mortice-one-process.mjs); yamux sent a window update back
  // for every frame it received (see yamux-half-window.mjs); gossipsub kept a peer-score record of
  // every message for two minutes that no score used (see gossipsub-unscored-deliveries.mjs).
  plugins: [
    codeUnitCompare({ expected: 4 }),
    lpDecoderFastPath(),
    noiseNodeCrypto(),
    tcpOneWrite(),
    morticeOneProcess(),
    yamuxHalfWindow(),
    gossipsubUnscoredDeliveries()
  ],
  // A few dependencies are CommonJS and call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as __lanChatRequire } from 'node:module'; const require = __lanChatRequire(import.meta.url);" }
})
