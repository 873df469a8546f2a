/**
 * Reading a JSON request body safely: only `application/json`, refused with 413 as soon as it is
 * known to be too large (from Content-Length before reading anything, else while counting the
 * streamed bytes), so a client cannot make the node buffer more than the limit.
 */
import type { IncomingMessage } from 'node:http'
import { httpErrors } from './error-table.js'

/** Largest accepted request body, in bytes (a message is at most 16 KiB of text, escaped in JSON). */
export const DEFAULT_BODY_LIMIT = 64 * 1024

/** `application/json`, optionally with a UTF-8 charset. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value == null) return false
  const [type, ...params] = value.split(';').map(s => s.trim().toLowerCase())
  if (type !== 'application/json') return false
  return params.every(p => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"')
}

export async function readJsonBody(req: IncomingMessage, limit: number = DEFAULT_BODY_LIMIT): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) throw httpErrors.unsupportedType()
  const declared = req.headers['content-length']
  if (declared != null && Number(declared) > limit) throw httpErrors.tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onError)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        chunks.length = 0
        reject(httpErrors.tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve()
    }
    const onError = (): void => {
      cleanup()
      reject(httpErrors.badBody('the body could not be read'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onError)
  })
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    throw httpErrors.badJson()
  }
}

/** The object a JSON body must be, or a 400. */
export function asObject(value: unknown): Record<string, unknown> {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw httpErrors.badBody('the body must be a JSON object')
  return value as Record<string, unknown>
}

/** A required string field, or a 400 naming the field (our text, not the input). */
export function stringField(body: Record<string, unknown>, name: string): string {
  const v = body[name]
  if (typeof v !== 'string') throw httpErrors.badBody(`"${name}" must be a string`)
  return v
}
