/**
 * A tiny terminal emulator for tests: enough of VT100 to replay what readline and the terminal
 * front end write (printable text with deferred wrap, CR, LF, cursor up/down/left/right/column,
 * erase line, erase below; colours ignored), so a test can check what a person would see.
 */
import { Writable } from 'node:stream'

export class Screen extends Writable {
  readonly columns: number
  readonly rows = 1000
  readonly isTTY = true
  private grid: string[][] = [[]]
  private r = 0
  private c = 0
  private pendingWrap = false
  private rest = ''

  constructor(columns: number) {
    super({ decodeStrings: false })
    this.columns = columns
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.feed(this.rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8')))
    done()
  }

  /** The visible lines, trailing spaces and trailing empty lines removed. */
  lines(): string[] {
    const out = this.grid.map(row =>
      Array.from({ length: row.length }, (_, i) => row[i] ?? ' ')
        .join('')
        .trimEnd()
    )
    while (out.length > 0 && out[out.length - 1] === '') out.pop()
    return out
  }

  cursor(): { row: number; col: number } {
    return { row: this.r, col: this.c }
  }

  private row(r: number): string[] {
    while (this.grid.length <= r) this.grid.push([])
    return this.grid[r]
  }

  private feed(s: string): void {
    let i = 0
    while (i < s.length) {
      const ch = s[i]
      if (ch === '\u001b') {
        // eslint-disable-next-line no-control-regex
        const m = /^\u001b\[([?\d;]*)([A-Za-z])/.exec(s.slice(i))
        if (m == null) {
          this.rest = s.slice(i)
          return
        }
        this.csi(m[1], m[2])
        i += m[0].length
        continue
      }
      i++
      if (ch === '\r') {
        this.c = 0
        this.pendingWrap = false
      } else if (ch === '\n') {
        this.r++
        this.pendingWrap = false
        this.row(this.r)
      } else {
        if (this.pendingWrap) {
          this.r++
          this.c = 0
          this.pendingWrap = false
        }
        this.row(this.r)[this.c] = ch
        if (this.c === this.columns - 1) this.pendingWrap = true
        else this.c++
      }
    }
    this.rest = ''
  }

  private csi(params: string, op: string): void {
    const n = params === '' ? 1 : Number.parseInt(params, 10)
    this.pendingWrap = false
    switch (op) {
      case 'A':
        this.r = Math.max(0, this.r - n)
        break
      case 'B':
        this.r += n
        this.row(this.r)
        break
      case 'C':
        this.c = Math.min(this.columns - 1, this.c + n)
        break
      case 'D':
        this.c = Math.max(0, this.c - n)
        break
      case 'G':
        this.c = Math.min(this.columns - 1, n - 1)
        break
      case 'K': {
        const row = this.row(this.r)
        if (params === '2') row.length = 0
        else if (params === '1') for (let i = 0; i <= this.c; i++) row[i] = ' '
        else row.length = Math.min(row.length, this.c)
        break
      }
      case 'J': {
        const row = this.row(this.r)
        row.length = Math.min(row.length, this.c)
        this.grid.length = this.r + 1
        break
      }
      default:
        // colours and modes do not move anything
        break
    }
  }
}
