/**
 * Splits piped input into lines without ever holding more than one line's limit of it: a line
 * longer than the limit (a binary file, `cat /dev/zero`) is counted and dropped, never buffered,
 * so the node's memory does not grow with its input. Pure: bytes in, lines out.
 *
 * Lines end at `\n`; a `\r` before it (Windows files) is removed. Splitting on the byte 0x0A is
 * safe in UTF-8, where it never occurs inside a multi-byte character.
 */
import { InvalidOptionError } from '../errors.js'
import { MAX_TEXT_BYTES } from '../rules.js'

/** Bytes an input line may have: a message at its limit plus room for a command in front. */
export const MAX_INPUT_LINE_BYTES = MAX_TEXT_BYTES + 1024

/** A complete line, or a line over the limit of which only the size is kept. */
export type InputLine = { kind: 'line'; text: string } | { kind: 'overlong'; bytes: number }

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

export class LineSplitter {
  private readonly maxLineBytes: number
  /** The current line's bytes so far, unless it is being dropped. */
  private parts: Uint8Array[] = []
  /** Bytes of the current line so far (also while it is being dropped). */
  private bytes = 0
  private dropping = false

  constructor(maxLineBytes: number = MAX_INPUT_LINE_BYTES) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new InvalidOptionError('maxLineBytes must be a positive integer')
    this.maxLineBytes = maxLineBytes
  }

  /** The lines that this chunk completes, in order. */
  push(chunk: Uint8Array): InputLine[] {
    const lines: InputLine[] = []
    let start = 0
    while (start <= chunk.length) {
      const end = chunk.indexOf(NEWLINE, start)
      if (end === -1) {
        this.take(chunk.subarray(start))
        break
      }
      const piece = chunk.subarray(start, end)
      // Most lines lie inside one chunk: decoded from it directly, without a copy.
      if (this.bytes === 0) lines.push(toLine(piece, this.maxLineBytes))
      else {
        this.take(piece)
        lines.push(this.finish())
      }
      start = end + 1
    }
    return lines
  }

  /** Bytes held for the current line: never more than the limit (and a `\r`). */
  get held(): number {
    return this.dropping ? 0 : this.bytes
  }

  /** The last line, if the input ended without a newline after it. */
  end(): InputLine[] {
    return this.bytes === 0 ? [] : [this.finish()]
  }

  private take(piece: Uint8Array): void {
    if (piece.length === 0) return
    this.bytes += piece.length
    if (this.dropping) return
    // The limit applies to the line without a final `\r`, which may be the next byte over it.
    if (this.bytes > this.maxLineBytes + 1) {
      this.dropping = true
      this.parts = []
      return
    }
    // Copied: the stream may reuse the chunk's memory for the next read.
    this.parts.push(Uint8Array.prototype.slice.call(piece))
  }

  private finish(): InputLine {
    const line: InputLine = this.dropping ? { kind: 'overlong', bytes: this.bytes } : toLine(Buffer.concat(this.parts), this.maxLineBytes)
    this.parts = []
    this.bytes = 0
    this.dropping = false
    return line
  }
}

/** One line's bytes (without its `\n`) as a line, or as overlong. */
function toLine(bytes: Uint8Array, maxLineBytes: number): InputLine {
  const length = bytes.at(-1) === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length
  if (length > maxLineBytes) return { kind: 'overlong', bytes: length }
  return { kind: 'line', text: Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('utf8') }
}
