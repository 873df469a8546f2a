/**
 * What a nick, a room name and message text may contain. Pure functions, shared by the flag
 * parser, the terminal, the HTTP API and the validation of received messages.
 */
import { InvalidNickError, InvalidRoomError, InvalidTextError } from './errors.js'

/** Longest nick, in characters (code points). */
export const MAX_NICK_LENGTH = 32
/** Longest room name. */
export const MAX_ROOM_LENGTH = 32
/** Longest message text, in characters (code points). */
export const MAX_TEXT_LENGTH = 4000
/** Longest message text in UTF-8 bytes (emoji-heavy text hits this before the character limit). */
export const MAX_TEXT_BYTES = 16 * 1024

const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]*$/
// C0 and C1 controls, DEL, and the bidirectional overrides/isolates that can disguise text.
// eslint-disable-next-line no-control-regex
const CONTROL_IN_NICK = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u
// Text may contain newlines (multi-line messages); every other control character is refused.
// eslint-disable-next-line no-control-regex
const CONTROL_IN_TEXT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u

function codePoints(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/** Returns the nick as it will be used (NFC, trimmed) or throws InvalidNickError. */
export function normalizeNick(input: string): string {
  const nick = input.normalize('NFC').trim()
  if (nick.length === 0) throw new InvalidNickError('nick must not be empty')
  if (codePoints(nick) > MAX_NICK_LENGTH) throw new InvalidNickError(`nick must be at most ${MAX_NICK_LENGTH} characters`)
  if (CONTROL_IN_NICK.test(nick)) throw new InvalidNickError('nick must not contain control characters')
  return nick
}

/** Returns the room name without a leading `#`, or throws InvalidRoomError. */
export function normalizeRoom(input: string): string {
  const room = input.trim().replace(/^#/, '').toLowerCase()
  if (room.length === 0) throw new InvalidRoomError('room name must not be empty')
  if (room.length > MAX_ROOM_LENGTH) throw new InvalidRoomError(`room name must be at most ${MAX_ROOM_LENGTH} characters`)
  if (!ROOM_PATTERN.test(room))
    throw new InvalidRoomError('room name may use only a-z, 0-9, "-" and "_", and must start with a letter or digit')
  return room
}

/** Returns the text as it will be sent (line endings unified, trailing space trimmed), or throws InvalidTextError. */
export function normalizeText(input: string): string {
  const text = input.replace(/\r\n?/g, '\n').normalize('NFC').trimEnd()
  checkText(text)
  return text
}

/** Throws InvalidTextError if text is not acceptable as it stands (no normalisation). */
export function checkText(text: string): void {
  if (text.trim().length === 0) throw new InvalidTextError('message must not be empty')
  if (codePoints(text) > MAX_TEXT_LENGTH) throw new InvalidTextError(`message must be at most ${MAX_TEXT_LENGTH} characters`)
  if (Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES) throw new InvalidTextError(`message must be at most ${MAX_TEXT_BYTES} bytes`)
  if (CONTROL_IN_TEXT.test(text)) throw new InvalidTextError('message must not contain control characters')
}

export function isValidNick(nick: string): boolean {
  try {
    return normalizeNick(nick) === nick
  } catch {
    return false
  }
}

export function isValidRoom(room: string): boolean {
  try {
    return normalizeRoom(room) === room
  } catch {
    return false
  }
}
