// Building the page's elements. Every piece of data (nicks, messages, room names) goes in through
// textContent, never innerHTML, so nothing a peer sends can become markup or script.

const GROUP_GAP_MS = 5 * 60 * 1000

export function el(tag, className, text) {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text != null) e.textContent = text
  return e
}

/** A stable hue per peer, so a person keeps their colour. */
export function hueOf(key) {
  let h = 2166136261
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619)
  return (h >>> 0) % 360
}

export function initial(name) {
  const first = Array.from((name || '?').trim())[0] || '?'
  return first.toUpperCase()
}

export function avatar(name, key) {
  const a = el('span', 'avatar', initial(name))
  a.setAttribute('aria-hidden', 'true')
  a.style.setProperty('--hue', String(hueOf(key || name || '')))
  return a
}

export function formatTime(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}

export function sameDay(a, b) {
  const x = new Date(a)
  const y = new Date(b)
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate()
}

export function dayLabel(ts, now = Date.now()) {
  if (sameDay(ts, now)) return 'Today'
  if (sameDay(ts, now - 86400000)) return 'Yesterday'
  return new Date(ts).toLocaleDateString([], { weekday: 'long', month: 'long', day: 'numeric' })
}

/** Whether `m` continues the run of messages by the same author just before it. */
export function continues(prev, m) {
  return prev != null && prev.from === m.from && prev.nick === m.nick && m.ts - prev.ts < GROUP_GAP_MS && sameDay(prev.ts, m.ts)
}

/**
 * One message. Own messages are labelled `[You]`; others carry the author's nick and colour.
 * `continued` hides the header (the label stays for screen readers and copy-paste).
 */
export function messageItem(m, { own, continued, state }) {
  const li = el('li', 'msg')
  li.dataset.id = m.id || ''
  li.classList.toggle('own', own)
  li.classList.toggle('continued', continued)
  if (state) li.classList.add(state)
  if (!own) {
    const a = avatar(m.nick, m.from)
    li.append(a)
  }
  const body = el('div', 'bubble')
  const meta = el('div', 'meta')
  const who = el('span', 'who', own ? '[You]' : m.nick)
  if (!own) who.style.setProperty('--hue', String(hueOf(m.from || m.nick)))
  const time = el('time', 'time', m.ts ? formatTime(m.ts) : '')
  if (m.ts) time.dateTime = new Date(m.ts).toISOString()
  meta.append(who, time)
  body.append(meta, el('div', 'text', m.text))
  if (state === 'failed') {
    const retry = el('button', 'retry text-button', 'Not sent — retry')
    retry.type = 'button'
    body.append(retry)
  }
  li.append(body)
  return li
}

export function dayItem(ts) {
  const li = el('li', 'day')
  li.append(el('span', null, dayLabel(ts)))
  return li
}

export function noticeItem(text) {
  return el('li', 'notice', text)
}

export function personItem(p, { me, status }) {
  const li = el('li', 'person')
  li.append(avatar(p.nick, p.peerId))
  const name = el('span', 'person-name', p.nick)
  li.append(name)
  if (me) li.append(el('span', 'tag', 'you'))
  else if (status) li.append(el('span', 'person-status', status))
  li.title = p.peerId
  return li
}

export function roomItem(room, { current, unread, peers }) {
  const li = el('li')
  const b = el('button', 'room')
  b.type = 'button'
  b.dataset.room = room
  if (current) b.setAttribute('aria-current', 'true')
  b.append(el('span', 'hash', '#'), el('span', 'room-name', room))
  if (unread > 0) b.append(el('span', 'badge', unread > 99 ? '99+' : String(unread)))
  else if (peers != null) b.append(el('span', 'count', String(peers)))
  li.append(b)
  return li
}
