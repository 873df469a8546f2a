/**
 * Server-Sent Events framing and the live stream's event IDs. Pure functions, tested alone.
 *
 * Every frame's data is one line of JSON, so text with newlines (or a forged `\n\nevent:`) cannot
 * break a frame. An event ID is `<epoch>-<seq>`: `epoch` names one run of the server, `seq` counts
 * its events from 1. A client that resumes with an ID from another run (the node restarted) is told
 * to refetch rather than being handed events that mean something else.
 */

export interface SseFrame {
  /** Sets the client's last event ID. */
  id?: string
  /** The event name (`message`, `room:join`, ...); absent means `message`. */
  event?: string
  /** Serialised with JSON.stringify. */
  data?: unknown
  /** Reconnection delay the client should use, in ms. */
  retry?: number
  /** A comment line (heartbeat); ignored by clients. */
  comment?: string
}

const LINE_BREAK = /[\r\n]/g

/** One SSE frame, ending with the blank line that dispatches it. */
export function formatSseFrame(frame: SseFrame): string {
  let out = ''
  if (frame.comment != null) out += `: ${frame.comment.replace(LINE_BREAK, ' ')}\n`
  if (frame.retry != null) out += `retry: ${Math.max(0, Math.floor(frame.retry))}\n`
  if (frame.id != null) out += `id: ${frame.id.replace(LINE_BREAK, '')}\n`
  if (frame.event != null) out += `event: ${frame.event.replace(LINE_BREAK, '')}\n`
  // JSON.stringify escapes \n and \r inside strings; U+2028/9 are not line breaks in SSE.
  if (frame.data !== undefined) out += `data: ${JSON.stringify(frame.data)}\n`
  return out + '\n'
}

export interface Cursor {
  epoch: string
  seq: number
}

export function formatCursor(cursor: Cursor): string {
  return `${cursor.epoch}-${cursor.seq}`
}

/** Parses `<epoch>-<seq>`; undefined for anything else (which the stream treats as unknown). */
export function parseCursor(value: string | undefined | null): Cursor | undefined {
  if (value == null) return undefined
  const m = /^([a-z0-9]{1,16})-(\d{1,15})$/.exec(value.trim())
  if (m == null) return undefined
  return { epoch: m[1], seq: Number(m[2]) }
}

/** A fresh epoch: the start time in base 36 plus a little randomness, so two runs in one ms differ. */
export function newEpoch(now: number = Date.now(), random: () => number = Math.random): string {
  return (
    now.toString(36) +
    Math.floor(random() * 36 ** 3)
      .toString(36)
      .padStart(3, '0')
  )
}
