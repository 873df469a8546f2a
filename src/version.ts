/** The package version, read from the package.json above this file (source or built). */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export function readVersion(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'lan-chat' && typeof pkg.version === 'string') return pkg.version
    } catch {}
    dir = dirname(dir)
  }
  return '0.0.0'
}
