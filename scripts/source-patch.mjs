// A small esbuild plugin factory for scripts/bundle.mjs: rewrites one pattern in one file of a
// dependency, in the bundle only, and fails the build unless it applied exactly once, so a patch
// cannot silently stop applying when the dependency changes. Each patch says why in its own file.
import { readFile } from 'node:fs/promises'

/**
 * @param {{ name: string, file: RegExp, pattern: RegExp, replacement: string }} patch
 *   `file` matches the dependency's path; `pattern` (not global) is replaced by `replacement`.
 */
export function sourcePatch({ name, file, pattern, replacement }) {
  return {
    name,
    setup(build) {
      let rewritten = 0
      build.onStart(() => {
        rewritten = 0
      })
      build.onLoad({ filter: file }, async args => {
        const source = await readFile(args.path, 'utf8')
        if (!pattern.test(source)) return undefined
        rewritten++
        return { contents: source.replace(pattern, replacement), loader: 'js' }
      })
      build.onEnd(result => {
        if (result.errors.length > 0) return
        if (rewritten !== 1) throw new Error(`${name}: rewrote ${rewritten} files (expected 1); see scripts/${name}.mjs`)
      })
    }
  }
}
