// An esbuild plugin for scripts/bundle.mjs: in @libp2p/peer-store and @libp2p/peer-record,
// `a.localeCompare(b)` becomes a plain code-unit comparison.
//
// Why: those packages sort multiaddrs, protocol IDs and metadata keys with localeCompare only to get
// a stable order (for deduplication, equality of address lists and the stored record), never to
// show anything to a person. localeCompare loads ICU's collation data, and those pages of the node
// binary then stay resident in every node: 2.5 MB of RSS per process (measured: one idle node on
// loopback, VmRSS 61.8 → 59.3 MB, RssFile 45.0 → 42.7 MB). The strings are ASCII (multiaddrs,
// protocol IDs), so any total order serves; code-unit order is the one without ICU.
//
// The build fails if the packages change so that the rewrite no longer matches, or if any
// localeCompare is left in the bundle, so the saving cannot silently disappear.
import { readFile } from 'node:fs/promises'

const FILES = /[\\/]node_modules[\\/]@libp2p[\\/](peer-store|peer-record)[\\/]dist[\\/].*\.js$/
/** `receiver.localeCompare(`, where receiver is a name, a property chain or a call such as `a.toString()`. */
const CALL = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\(\))*)\.localeCompare\(/g
const HELPER = '__lanChatCodeUnitCompare'
const HELPER_SOURCE = `const ${HELPER} = (a, b) => (a < b ? -1 : a > b ? 1 : 0);\n`

/**
 * @param {{ expected: number }} options how many call sites the pinned packages have; a different
 * count fails the build (a new call site, or one the pattern no longer matches).
 */
export function codeUnitCompare({ expected }) {
  return {
    name: 'code-unit-compare',
    setup(build) {
      let rewritten = 0
      build.onStart(() => {
        rewritten = 0
      })
      build.onLoad({ filter: FILES }, async args => {
        const source = await readFile(args.path, 'utf8')
        if (!source.includes('.localeCompare(')) return undefined
        let n = 0
        const contents = source.replace(CALL, (_, receiver) => {
          n++
          return `${HELPER}(${receiver}, `
        })
        rewritten += n
        return { contents: HELPER_SOURCE + contents, loader: 'js' }
      })
      build.onEnd(async result => {
        if (result.errors.length > 0) return
        const outfile = build.initialOptions.outfile
        const left = outfile == null ? false : (await readFile(outfile, 'utf8')).includes('localeCompare')
        if (rewritten !== expected || left) {
          throw new Error(
            `code-unit-compare: rewrote ${rewritten} localeCompare calls (expected ${expected})` +
              (left ? ' and the bundle still calls localeCompare' : '') +
              '; see scripts/code-unit-compare.mjs'
          )
        }
      })
    }
  }
}
