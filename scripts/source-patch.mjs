// A small esbuild plugin factory for scripts/bundle.mjs: rewrites one pattern in one file of a
// dependency, in the bundle only, and fails the build unless it applied exactly once (a global
// pattern: exactly `count` times in that file), so a patch cannot silently stop applying when the
// dependency changes. Each patch says why in its own file.
import { readFile } from 'node:fs/promises'

/**
 * @param {{ name: string, file: RegExp, pattern: RegExp, replacement: string, count?: number }} patch
 *   `file` matches the dependency's path; `pattern` is replaced by `replacement`: once, or, if it
 *   is global, at each of its `count` matches.
 */
export function sourcePatch({ name, file, pattern, replacement, count = 1 }) {
  return {
    name,
    setup(build) {
      let rewritten = 0
      build.onStart(() => {
        rewritten = 0
      })
      build.onLoad({ filter: file }, async args => {
        const source = await readFile(args.path, 'utf8')
        const matches = pattern.global ? (source.match(pattern) ?? []).length : pattern.test(source) ? 1 : 0
        if (matches === 0) return undefined
        if (matches !== count) throw new Error(`${name}: ${matches} matches in ${args.path} (expected ${count}); see scripts/${name}.mjs`)
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
