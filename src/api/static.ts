/**
 * Serving the web UI's files from one folder, and nothing outside it: `..` and `.` segments
 * (plain or percent-encoded), NUL bytes, backslashes, dotfiles and symlinks that lead out of the
 * folder all end in 400 or 404. `resolveStaticPath` is pure; `serveStatic` adds the file system checks.
 */
import { realpath, readFile, stat } from 'node:fs/promises'
import { extname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { HttpError } from '../errors.js'
import { httpErrors } from './error-table.js'

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8'
}

export const INDEX_FILE = 'index.html'

/** The `frontend/` folder of this package, from the source tree or from dist/. */
export function defaultFrontendDir(from: string = import.meta.url): string {
  for (const up of ['../../frontend', '../../../frontend']) {
    const dir = fileURLToPath(new URL(up, from))
    if (existsSync(join(dir, INDEX_FILE))) return dir
  }
  return fileURLToPath(new URL('../../frontend', from))
}

/**
 * Maps a request path (without the query, still percent-encoded) to a file path inside `root`.
 * Throws a 400 HttpError for undecodable paths and NUL bytes, a 404 for anything that would leave
 * the folder or names a hidden file. Pure.
 */
export function resolveStaticPath(root: string, rawPath: string): string {
  if (rawPath.includes('\0') || /%00/i.test(rawPath)) throw httpErrors.badPath()
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    throw httpErrors.badPath()
  }
  if (decoded.includes('\0')) throw httpErrors.badPath()
  if (!decoded.startsWith('/') || decoded.includes('\\')) throw httpErrors.notFound()
  const segments = decoded.split('/').slice(1)
  if (segments[segments.length - 1] === '') segments[segments.length - 1] = INDEX_FILE
  for (const s of segments) {
    if (s === '' || s.startsWith('.')) throw httpErrors.notFound()
  }
  const base = root.endsWith(sep) ? root : root + sep
  const file = join(base, ...segments)
  if (!file.startsWith(base)) throw httpErrors.notFound()
  return file
}

export interface StaticFile {
  body: Buffer
  contentType: string
}

/** Reads a file for a request path; symlinks must resolve inside the folder too. */
export async function loadStatic(root: string, rawPath: string): Promise<StaticFile> {
  const file = resolveStaticPath(root, rawPath)
  try {
    const realRoot = await realpath(root)
    const real = await realpath(file)
    if (!real.startsWith(realRoot + sep)) throw httpErrors.notFound()
    const st = await stat(real)
    if (!st.isFile()) throw httpErrors.notFound()
    const contentType = CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream'
    return { body: await readFile(real), contentType }
  } catch (err) {
    if (err instanceof HttpError) throw err
    // ENOENT, ELOOP, EACCES...: the same answer as a file that is not there.
    throw httpErrors.notFound()
  }
}
