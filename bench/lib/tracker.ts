/**
 * Which benchmark message was sent when, and who received it when. A message's text carries its ID
 * and its send time (ms since the epoch), so a receive line alone tells its latency.
 */
import { MESSAGE_MARK } from './systems.js'

/** Message text length, so both systems carry the same payload. */
export const PAYLOAD_CHARS = 120

interface Sent {
  phase: string
  sender: number
  at: number
  recv: Map<number, number>
  /** Receive time as printed by the receiving process itself, when it prints one. */
  inProcess: Map<number, number>
}

export interface PhaseResult {
  expected: number
  delivered: number
  /** Deliveries within `withinMs` (all deliveries when not given). */
  onTime: number
  latencies: number[]
  /** Receiver's own clock minus the harness clock for the same receive (pipe + harness cost). */
  harnessLag: number[]
}

/** A delivery that missed its deadline: `latencyMs` is null when it never arrived. */
export interface LateDelivery {
  id: string
  sender: number
  receiver: number
  sentAt: number
  latencyMs: number | null
}

/** The text of a message: mark, ID, send time, padding. Pure. */
export function messageText(id: string, at: number): string {
  const head = `${MESSAGE_MARK} ${id} ${at.toFixed(3)} `
  return head + 'x'.repeat(Math.max(0, PAYLOAD_CHARS - head.length))
}

/** ID and send time of a message text, or undefined for other text. Pure. */
export function parseMessageText(text: string): { id: string; at: number } | undefined {
  const parts = text.split(' ', 3)
  if (parts.length < 3 || parts[0] !== MESSAGE_MARK) return undefined
  return { id: parts[1], at: Number(parts[2]) }
}

export class Tracker {
  private readonly sent = new Map<string, Sent>()
  private seq = 0

  /** Registers a message about to be sent; returns the text to type. */
  message(phase: string, sender: number, at: number): string {
    const id = `${phase}.${sender}.${this.seq++}`
    this.sent.set(id, { phase, sender, at, recv: new Map(), inProcess: new Map() })
    return messageText(id, at)
  }

  /** Records a receive line; ignores unknown and duplicate ones. */
  received(node: number, text: string, at: number, inProcessMs?: number): void {
    const parsed = parseMessageText(text)
    if (parsed == null) return
    const s = this.sent.get(parsed.id)
    if (s == null || s.recv.has(node) || node === s.sender) return
    s.recv.set(node, at)
    if (inProcessMs != null) s.inProcess.set(node, inProcessMs)
  }

  /** Messages of a phase still missing at some receiver. */
  pending(phase: string, receivers: number[]): number {
    let missing = 0
    for (const s of this.sent.values()) {
      if (s.phase !== phase) continue
      for (const r of receivers) if (r !== s.sender && !s.recv.has(r)) missing++
    }
    return missing
  }

  result(phase: string, receivers: number[], withinMs = Infinity): PhaseResult {
    const out: PhaseResult = { expected: 0, delivered: 0, onTime: 0, latencies: [], harnessLag: [] }
    for (const s of this.sent.values()) {
      if (s.phase !== phase) continue
      for (const r of receivers) {
        if (r === s.sender) continue
        out.expected++
        const at = s.recv.get(r)
        if (at == null) continue
        out.delivered++
        const latency = at - s.at
        out.latencies.push(latency)
        if (latency <= withinMs) out.onTime++
        const own = s.inProcess.get(r)
        if (own != null) out.harnessLag.push(at - own)
      }
    }
    return out
  }

  /**
   * The deliveries of a phase that missed `withinMs` (never arrived, or arrived late), in send
   * order, at most `limit`: which sender's message, to which receiver, sent when.
   */
  late(phase: string, receivers: number[], withinMs: number, limit: number): LateDelivery[] {
    const out: LateDelivery[] = []
    for (const [id, s] of this.sent) {
      if (s.phase !== phase) continue
      for (const r of receivers) {
        if (r === s.sender) continue
        const at = s.recv.get(r)
        if (at != null && at - s.at <= withinMs) continue
        out.push({ id, sender: s.sender, receiver: r, sentAt: s.at, latencyMs: at == null ? null : at - s.at })
        if (out.length >= limit) return out
      }
    }
    return out
  }

  /** Forgets a phase's messages (keeps memory flat over a long run). */
  drop(phase: string): void {
    for (const [id, s] of this.sent) if (s.phase === phase) this.sent.delete(id)
  }
}
