/**
 * Turning chat events into terminal lines. Pure: every function takes what it shows and returns
 * a string. Remote text is sanitised so it can never carry terminal escape sequences.
 */
import type { ChatMessage } from '../chat/index.js'
import { COMMAND_HELP } from './commands.js'

export interface Style {
  /** Use ANSI colours. */
  color: boolean
  /** Formats a timestamp as the local HH:MM (injectable for tests). */
  time?: (ms: number) => string
}

const PALETTE = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96]
const ESC = '\u001b'

export function localTime(ms: number): string {
  const d = new Date(ms)
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
}

/** Replaces every control character but newline (ESC, CSI, BEL, C1, bidi overrides) with U+FFFD. */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu, '\uFFFD')
}

/** One colour per peer, stable across runs. */
export function colorIndex(key: string): number {
  let h = 2166136261
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619)
  return (h >>> 0) % PALETTE.length
}

function paint(style: Style, code: number | string, s: string): string {
  return style.color ? `${ESC}[${code}m${s}${ESC}[0m` : s
}

export function dim(style: Style, s: string): string {
  return paint(style, 2, s)
}

export interface MessageView {
  /** Show the room (when the user is in more than one). */
  showRoom: boolean
  own: boolean
  /** Marks a message that arrived as history rather than live. */
  history?: boolean
}

/** `[HH:MM] nick: text`, own messages as `[HH:MM] [You] text`; continuation lines indented. */
export function renderMessage(m: ChatMessage, view: MessageView, style: Style): string {
  const time = (style.time ?? localTime)(m.ts)
  const room = view.showRoom ? `#${m.room} ` : ''
  const who = view.own ? paint(style, 1, '[You]') : `${paint(style, PALETTE[colorIndex(m.from)], sanitize(m.nick))}:`
  const head = `${dim(style, `[${time}]`)} ${room}${view.history === true ? dim(style, '(history) ') : ''}${who} `
  const indent = ' '.repeat(`[${time}] ${room}`.length + 2)
  const [first, ...rest] = sanitize(m.text).split('\n')
  return [head + first, ...rest.map(l => indent + l)].join('\n')
}

export function renderNotice(style: Style, text: string): string {
  return dim(style, `* ${sanitize(text)}`)
}

export function renderJoin(style: Style, nick: string, room: string): string {
  return renderNotice(style, `${nick} joined #${room}`)
}

export function renderLeave(style: Style, nick: string, room: string): string {
  return renderNotice(style, `${nick} left #${room}`)
}

export function renderConnect(style: Style, name: string, via: 'mdns' | 'dial' | 'inbound'): string {
  const text =
    via === 'mdns'
      ? `✓ mDNS connected to ${sanitize(name)}`
      : via === 'dial'
        ? `✓ connected to ${sanitize(name)}`
        : `✓ ${sanitize(name)} connected`
  return paint(style, 32, text)
}

export function renderDisconnect(style: Style, name: string): string {
  return paint(style, 33, `✗ ${sanitize(name)} is gone (disconnected)`)
}

export function renderError(style: Style, text: string): string {
  return paint(style, 31, `! ${sanitize(text)}`)
}

export function renderHelp(): string {
  return ['Commands:', ...COMMAND_HELP.map(([c, d]) => `  ${c.padEnd(16)} ${d}`), 'Anything else is sent to the current room.'].join('\n')
}

export interface PeerRow {
  name: string
  peerId: string
  rtt?: number
  via: string
  rooms: string[]
}

export function renderPeers(rows: PeerRow[]): string {
  if (rows.length === 0) return 'No peers connected.'
  const lines = rows.map(
    r =>
      `  ${sanitize(r.name).padEnd(20)} ${r.peerId.slice(-12).padEnd(12)} ${(r.rtt != null ? `${r.rtt} ms` : 'no reply').padEnd(9)} via ${r.via.padEnd(7)} ${r.rooms.map(x => `#${x}`).join(' ')}`
  )
  return [`${rows.length} peer(s):`, ...lines].join('\n')
}

/** Per room: 'in sync', or 'catching up' with how many messages it knows it misses. */
export function renderSyncStatus(rows: Array<{ room: string; state: string; missing: number }>): string {
  return rows
    .map(r => `  #${r.room} ${r.state}${r.missing > 0 ? ` (${r.missing} message${r.missing === 1 ? '' : 's'} missing)` : ''}`)
    .join('\n')
}

/** One line for a burst of history: how many, from when to when, and how many are shown. */
export function renderHistorySummary(style: Style, info: { room: string; count: number; from: number; to: number; shown: number }): string {
  const time = style.time ?? localTime
  return renderNotice(
    style,
    `${info.count} earlier message(s) in #${info.room} arrived from history (${time(info.from)}–${time(info.to)}), placed in order among the room's messages; the last ${info.shown} follow`
  )
}

export function renderRooms(rooms: Array<{ room: string; peers: number; current: boolean }>): string {
  return ['Your rooms:', ...rooms.map(r => `  ${r.current ? '>' : ' '} #${r.room} (${r.peers} peer${r.peers === 1 ? '' : 's'})`)].join('\n')
}

export interface BannerInfo {
  version: string
  peerId: string
  nick: string
  addresses: string[]
  logPath: string
  rooms: string[]
  rendezvous?: string
  /** A command that starts a second node dialing this one. */
  connectCommand: string
  http?: string
}

export function renderBanner(info: BannerInfo, style: Style): string {
  const lines = [
    paint(style, 1, `LAN Chat ${info.version}`),
    `  peer ID    ${info.peerId}`,
    `  nick       ${sanitize(info.nick)}`,
    ...info.addresses.map((a, i) => `  ${i === 0 ? 'listening ' : '          '} ${a}`),
    `  chat.log   ${info.logPath}`,
    `  rooms      ${info.rooms.map(r => `#${r}`).join(' ')}`,
    `  discovery  ${info.rendezvous != null ? `mDNS, rendezvous "${info.rendezvous}"` : 'off (--no-mdns)'}`
  ]
  if (info.http != null) lines.push(`  web UI     ${info.http}`)
  lines.push('', 'Connect another node with:', `  ${info.connectCommand}`, '', 'Type a message and press Enter; /help lists commands.')
  return lines.join('\n')
}
