// An esbuild plugin for scripts/bundle.mjs: in the bundle, @libp2p/noise's default crypto module
// (dist/src/crypto/index.js) becomes src/network/noise-crypto.ts, the node:crypto implementation the
// program hands to noise() anyway.
//
// Why: the default module instantiates two WebAssembly modules (@chainsafe/as-chacha20poly1305 and
// as-sha256) when it is imported, whether or not they are used. With `noise({ crypto })` they are
// never used, yet each node would still pay for compiling them and for their memories (most of the
// 3–4.5 MB per node measured in src/network/noise-crypto.ts, plus 90 KB of bundle). Only the bundle is rewritten; tests run the sources, where noise's own
// module loads as published and is simply not used.
//
// The build fails if the module is not found (the package changed its layout) or if the bundle
// still contains WebAssembly, so the saving cannot silently disappear.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const DEFAULT_CRYPTO = /[\\/]node_modules[\\/]@libp2p[\\/]noise[\\/]dist[\\/]src[\\/]crypto[\\/]index\.js$/
const OURS = fileURLToPath(new URL('../src/network/noise-crypto.ts', import.meta.url))

export function noiseNodeCrypto() {
  return {
    name: 'noise-node-crypto',
    setup(build) {
      let replaced = 0
      build.onStart(() => {
        replaced = 0
      })
      build.onLoad({ filter: DEFAULT_CRYPTO }, () => {
        replaced++
        return {
          contents: `import { createNodeNoiseCrypto } from ${JSON.stringify(OURS)}\nexport const defaultCrypto = createNodeNoiseCrypto()\n`,
          loader: 'js'
        }
      })
      build.onEnd(async result => {
        if (result.errors.length > 0) return
        const outfile = build.initialOptions.outfile
        const left = outfile == null ? false : (await readFile(outfile, 'utf8')).includes('WebAssembly')
        if (replaced !== 1 || left) {
          throw new Error(
            `noise-node-crypto: replaced ${replaced} copies of @libp2p/noise's crypto module (expected 1)` +
              (left ? ' and the bundle still contains WebAssembly' : '') +
              '; see scripts/noise-node-crypto.mjs'
          )
        }
      })
    }
  }
}
