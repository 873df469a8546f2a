/**
 * The one table from error classes to HTTP answers. The body is always
 * `{"error":{"code","message"}}` with a stable code; messages are fixed texts or our own rule texts
 * (which never contain the input), never a stack and never the raw request.
 */
import {
  HttpError,
  InvalidNickError,
  InvalidRoomError,
  InvalidTextError,
  NotInRoomError,
  RateLimitError,
  StorageError,
  type LanChatError
} from '../errors.js'

export interface ErrorAnswer {
  status: number
  code: string
  message: string
  headers: Record<string, string>
}

interface Row {
  type: abstract new (...args: any[]) => LanChatError
  status: number
  code: string
  /** A fixed message; absent means the error's own text, which comes from rules.ts. */
  message?: string
}

/** Checked in order; the first class the error is an instance of wins. */
export const ERROR_TABLE: readonly Row[] = [
  { type: InvalidRoomError, status: 400, code: 'invalid-room' },
  { type: InvalidNickError, status: 400, code: 'invalid-nick' },
  { type: InvalidTextError, status: 400, code: 'invalid-text' },
  { type: NotInRoomError, status: 404, code: 'not-in-room', message: 'this node is not in that room' },
  { type: RateLimitError, status: 429, code: 'rate-limited', message: 'too many requests; slow down' },
  { type: StorageError, status: 503, code: 'storage', message: 'the message could not be saved to chat.log' }
]

export const INTERNAL_ERROR: ErrorAnswer = { status: 500, code: 'internal', message: 'internal error', headers: {} }

export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message, headers: err.headers }
  for (const row of ERROR_TABLE) {
    if (err instanceof row.type) return { status: row.status, code: row.code, message: row.message ?? err.message, headers: {} }
  }
  return INTERNAL_ERROR
}

export function errorBody(answer: Pick<ErrorAnswer, 'code' | 'message'>): { error: { code: string; message: string } } {
  return { error: { code: answer.code, message: answer.message } }
}

/** Constructors for the API's own HTTP errors, so codes are spelled once. */
export const httpErrors = {
  notFound: () => new HttpError(404, 'not-found', 'no such resource'),
  methodNotAllowed: (allow: string[]) =>
    new HttpError(405, 'method-not-allowed', 'method not allowed on this resource', { Allow: allow.join(', ') }),
  badJson: () => new HttpError(400, 'invalid-json', 'the body is not valid JSON'),
  badBody: (what: string) => new HttpError(400, 'invalid-body', what),
  badQuery: (what: string) => new HttpError(400, 'invalid-query', what),
  badPath: () => new HttpError(400, 'invalid-path', 'the path cannot be decoded'),
  unknownSince: () => new HttpError(404, 'unknown-since', 'no message with that ID in this room; fetch without since'),
  tooLarge: (limit: number) => new HttpError(413, 'body-too-large', `the body is larger than ${limit} bytes`, { Connection: 'close' }),
  unsupportedType: () => new HttpError(415, 'unsupported-media-type', 'send the body as application/json'),
  forbiddenHost: () => new HttpError(403, 'forbidden-host', 'this server answers only to localhost'),
  forbiddenOrigin: () => new HttpError(403, 'forbidden-origin', 'cross-origin requests are not allowed'),
  rateLimited: (retryAfterS: number) =>
    new HttpError(429, 'rate-limited', 'too many requests; slow down', { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterS))) }),
  notInRoom: () => new HttpError(404, 'not-in-room', 'this node is not in that room'),
  lastRoom: () => new HttpError(409, 'last-room', 'cannot leave the only room; join another first')
}
