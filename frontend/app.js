// The LAN Chat web UI: rooms, people, history and live messages from the node's HTTP API.
// State lives here; api.js talks to the node, render.js builds elements (text only, never HTML).
import { ApiError, createClient, openLive, resolveApiBase } from './api.js'
import { continues, dayItem, el, messageItem, noticeItem, personItem, roomItem, sameDay, avatar } from './render.js'

const HISTORY_PAGE = 200
const CATCH_UP_PAGE = 500
const PEERS_REFRESH_DELAY = 150
const NEAR_BOTTOM_PX = 120

const $ = id => document.getElementById(id)
const ui = {
  app: $('app'),
  sidebar: $('sidebar'),
  backdrop: $('backdrop'),
  menu: $('menu'),
  conn: $('conn'),
  rooms: $('rooms'),
  joinForm: $('join-form'),
  joinInput: $('join-input'),
  roomPeersTitle: $('room-peers-title'),
  roomPeers: $('room-peers'),
  online: $('online'),
  meAvatar: $('me-avatar'),
  meNick: $('me-nick'),
  meId: $('me-id'),
  nickEdit: $('nick-edit'),
  nickForm: $('nick-form'),
  nickInput: $('nick-input'),
  roomTitle: $('room-title'),
  roomMeta: $('room-meta'),
  leave: $('leave'),
  banner: $('banner'),
  scroller: $('scroller'),
  messages: $('messages'),
  empty: $('empty'),
  jump: $('jump'),
  composer: $('composer'),
  input: $('input')
}

const s = {
  client: null,
  me: { peerId: '', nick: '' },
  rooms: [],
  current: '',
  /** room → entries sorted by (ts, lc, id): messages, pending sends, notices */
  entries: new Map(),
  ids: new Set(),
  loaded: new Set(),
  loading: new Map(),
  unread: new Map(),
  counts: new Map(),
  online: [],
  roomPeers: [],
  seq: 0,
  peersTimer: 0,
  state: 'loading'
}

function compare(a, b) {
  if (a.ts !== b.ts) return a.ts - b.ts
  if (a.lc !== b.lc) return a.lc - b.lc
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function roomEntries(room) {
  let list = s.entries.get(room)
  if (!list) {
    list = []
    s.entries.set(room, list)
  }
  return list
}

/** Inserts an entry in order; returns true if it went at the end. */
function insert(room, entry) {
  const list = roomEntries(room)
  let i = list.length
  while (i > 0 && compare(list[i - 1], entry) > 0) i--
  list.splice(i, 0, entry)
  return i === list.length - 1
}

function removeEntry(room, entry) {
  const list = roomEntries(room)
  const i = list.indexOf(entry)
  if (i >= 0) list.splice(i, 1)
}

// ---- messages -------------------------------------------------------------------------------

function addMessage(m, { live } = { live: false }) {
  if (s.ids.has(m.id)) return
  s.ids.add(m.id)
  const own = m.from === s.me.peerId
  if (own) {
    // Our own message coming back (live stream or POST answer): it replaces its pending copy.
    const pending = roomEntries(m.room).find(e => e.kind === 'pending' && e.text === m.text)
    if (pending) removeEntry(m.room, pending)
  }
  const atEnd = insert(m.room, { kind: 'message', ...m })
  if (m.room === s.current) {
    if (atEnd && !own) appendLast()
    else renderMessages({ stick: own })
  } else if (live && !own) {
    s.unread.set(m.room, (s.unread.get(m.room) || 0) + 1)
    renderRooms()
  }
}

function addNotice(room, text) {
  if (!s.rooms.includes(room)) return
  insert(room, { kind: 'notice', id: `~notice-${++s.seq}`, ts: Date.now(), lc: 0, text })
  if (room === s.current) appendLast()
}

function lastMessageId(room) {
  const list = roomEntries(room)
  for (let i = list.length - 1; i >= 0; i--) if (list[i].kind === 'message') return list[i].id
  return undefined
}

/** Loads a room's recent history (once at a time per room). */
function loadRoom(room) {
  let p = s.loading.get(room)
  if (!p) {
    p = s.client
      .messages(room, { limit: HISTORY_PAGE })
      .then(r => {
        for (const m of r.messages) addMessage(m)
        s.loaded.add(room)
        if (room === s.current) renderMessages({ stick: true })
      })
      .finally(() => s.loading.delete(room))
    s.loading.set(room, p)
  }
  return p
}

/** Fetches what was missed in a room since the newest message shown. */
async function catchUp(room) {
  let since = lastMessageId(room)
  if (!since) return await loadRoom(room)
  for (;;) {
    let r
    try {
      r = await s.client.messages(room, { since, limit: CATCH_UP_PAGE })
    } catch (e) {
      if (e instanceof ApiError && e.code === 'unknown-since') return await loadRoom(room)
      throw e
    }
    for (const m of r.messages) addMessage(m, { live: true })
    if (r.messages.length < CATCH_UP_PAGE) return
    since = r.messages[r.messages.length - 1].id
  }
}

// ---- rendering ------------------------------------------------------------------------------

function nearBottom() {
  const sc = ui.scroller
  return sc.scrollHeight - sc.scrollTop - sc.clientHeight < NEAR_BOTTOM_PX
}

function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight
  ui.jump.hidden = true
}

function entryElement(entry, prev) {
  if (entry.kind === 'notice') return noticeItem(entry.text)
  const own = entry.from === s.me.peerId || entry.kind === 'pending'
  const continued = prev != null && prev.kind !== 'notice' && continues(prev, entry)
  const li = messageItem(entry, { own, continued, state: entry.kind === 'pending' ? entry.state : undefined })
  if (entry.kind === 'pending') {
    li.dataset.pending = entry.id
    const retry = li.querySelector('.retry')
    if (retry) retry.addEventListener('click', () => void resend(entry))
  }
  return li
}

function renderMessages({ stick } = { stick: false }) {
  const wasNear = nearBottom()
  const keep = ui.scroller.scrollTop
  const list = roomEntries(s.current)
  const frag = document.createDocumentFragment()
  let prev
  for (const e of list) {
    if (prev == null || !sameDay(prev.ts, e.ts)) frag.append(dayItem(e.ts))
    frag.append(entryElement(e, prev))
    prev = e
  }
  ui.messages.replaceChildren(frag)
  ui.empty.hidden = list.length > 0 || !s.loaded.has(s.current)
  if (stick || wasNear) scrollToBottom()
  else ui.scroller.scrollTop = keep
}

function appendLast() {
  const list = roomEntries(s.current)
  const e = list[list.length - 1]
  const prev = list[list.length - 2]
  const wasNear = nearBottom()
  if (prev == null || !sameDay(prev.ts, e.ts)) ui.messages.append(dayItem(e.ts))
  ui.messages.append(entryElement(e, prev))
  ui.empty.hidden = true
  if (wasNear) scrollToBottom()
  else if (e.kind !== 'notice') ui.jump.hidden = false
}

function renderRooms() {
  ui.rooms.replaceChildren(
    ...s.rooms.map(room => roomItem(room, { current: room === s.current, unread: s.unread.get(room) || 0, peers: s.counts.get(room) }))
  )
  const total = [...s.unread.values()].reduce((a, b) => a + b, 0)
  document.title = total > 0 ? `(${total}) #${s.current} · LAN Chat` : s.current ? `#${s.current} · LAN Chat` : 'LAN Chat'
  ui.leave.disabled = s.rooms.length <= 1
}

function renderHeader() {
  ui.roomTitle.textContent = s.current ? `#${s.current}` : 'No room'
  const n = s.roomPeers.length
  ui.roomMeta.textContent = n === 0 ? 'just you' : `you and ${n} ${n === 1 ? 'other' : 'others'}`
  ui.input.placeholder = s.current ? `Message #${s.current}` : 'Join a room to chat'
  ui.roomPeersTitle.textContent = s.current ? `In #${s.current}` : 'In this room'
}

function renderPeople() {
  const me = { peerId: s.me.peerId, nick: s.me.nick }
  ui.roomPeers.replaceChildren(personItem(me, { me: true }), ...s.roomPeers.map(p => personItem(p, {})))
  if (s.online.length === 0) ui.online.replaceChildren(el('li', 'muted', 'Nobody else yet'))
  else ui.online.replaceChildren(...s.online.map(p => personItem(p, { status: p.rtt != null ? `${p.rtt} ms` : '' })))
  renderHeader()
}

function renderMe() {
  ui.meNick.textContent = s.me.nick
  ui.meId.textContent = s.me.peerId ? `…${s.me.peerId.slice(-8)}` : ''
  ui.meId.title = s.me.peerId
  const a = avatar(s.me.nick, s.me.peerId)
  ui.meAvatar.textContent = a.textContent
  ui.meAvatar.style.setProperty('--hue', a.style.getPropertyValue('--hue'))
}

function setState(state) {
  s.state = state
  ui.app.dataset.state = state
  ui.conn.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : 'connecting…'
  ui.conn.dataset.state = state
  if (state === 'reconnecting') showBanner(`Lost the connection to your node at ${s.client.base}. Reconnecting…`)
  else if (state === 'live') showBanner('')
}

function showBanner(text) {
  ui.banner.textContent = text
  ui.banner.hidden = text === ''
}

// ---- state from the node --------------------------------------------------------------------

async function refreshStatus() {
  const st = await s.client.status()
  s.me = { peerId: st.peerId, nick: st.nick }
  s.online = st.online
  setRooms(st.rooms)
  renderMe()
}

async function refreshPeers() {
  const [st, rooms] = await Promise.all([s.client.status(), s.client.rooms()])
  s.online = st.online
  s.counts = new Map(rooms.rooms.map(r => [r.room, r.peers]))
  s.roomPeers = s.current && s.rooms.includes(s.current) ? (await s.client.roomPeers(s.current)).peers : []
  renderPeople()
  renderRooms()
}

function schedulePeers() {
  clearTimeout(s.peersTimer)
  s.peersTimer = setTimeout(() => {
    refreshPeers().catch(() => {})
  }, PEERS_REFRESH_DELAY)
}

/** After a fresh (re)connection: reload status, catch up every room we show, refresh people. */
async function refetch() {
  try {
    await refreshStatus()
    for (const room of s.rooms) if (s.loaded.has(room)) await catchUp(room)
    if (s.current && !s.loaded.has(s.current)) await loadRoom(s.current)
    await refreshPeers()
  } catch (e) {
    showBanner(e instanceof ApiError ? e.message : 'Could not load the chat.')
  }
}

function setRooms(rooms) {
  s.rooms = rooms
  for (const r of [...s.unread.keys()]) if (!rooms.includes(r)) s.unread.delete(r)
  if (!rooms.includes(s.current)) switchRoom(rooms[0] || '')
  else renderRooms()
}

function switchRoom(room) {
  s.current = room
  s.unread.delete(room)
  s.roomPeers = []
  renderRooms()
  renderHeader()
  renderMessages({ stick: true })
  closeDrawer()
  if (room && !s.loaded.has(room)) loadRoom(room).catch(() => {})
  schedulePeers()
}

function onEvent(type, d) {
  switch (type) {
    case 'message':
      addMessage(d.message, { live: true })
      break
    case 'rooms:change':
      setRooms(d.rooms)
      schedulePeers()
      break
    case 'nick:change':
      s.me.nick = d.nick
      renderMe()
      renderPeople()
      renderMessages()
      break
    case 'room:join':
      addNotice(d.room, `${d.nick || 'someone'} joined #${d.room}`)
      schedulePeers()
      break
    case 'room:leave':
      addNotice(d.room, `${d.nick || 'someone'} left #${d.room}`)
      schedulePeers()
      break
    case 'peer:nick':
      if (d.previous && s.roomPeers.some(p => p.peerId === d.peerId)) addNotice(s.current, `${d.previous} is now ${d.nick}`)
      schedulePeers()
      break
    default:
      schedulePeers()
  }
}

// ---- actions --------------------------------------------------------------------------------

async function send(text) {
  const room = s.current
  if (!room) return
  const entry = { kind: 'pending', id: `~pending-${++s.seq}`, ts: Date.now(), lc: 0, room, text, from: s.me.peerId, nick: s.me.nick }
  insert(room, entry)
  renderMessages({ stick: true })
  await deliver(entry)
}

async function deliver(entry) {
  try {
    const m = await s.client.send(entry.room, entry.text)
    removeEntry(entry.room, entry)
    if (s.ids.has(m.id)) {
      if (entry.room === s.current) renderMessages()
    } else addMessage(m)
  } catch (e) {
    entry.state = 'failed'
    entry.error = e instanceof ApiError ? e.message : 'not sent'
    if (entry.room === s.current) renderMessages()
    if (e instanceof ApiError && e.status !== 0) showBanner(e.message)
  }
}

async function resend(entry) {
  entry.state = undefined
  renderMessages()
  await deliver(entry)
}

async function join(room) {
  const r = await s.client.join(room)
  setRooms(r.rooms)
  switchRoom(r.room)
}

async function leave(room) {
  const r = await s.client.leave(room)
  s.entries.delete(room)
  s.loaded.delete(room)
  setRooms(r.rooms)
}

async function changeNick(nick) {
  const r = await s.client.setNick(nick)
  s.me.nick = r.nick
  renderMe()
  renderPeople()
  renderMessages()
}

/** `/join x`, `/leave [x]`, `/nick x`: true if the line was a command. */
async function command(line) {
  const m = /^\/(\w+)\s*(.*)$/s.exec(line)
  if (!m) return false
  const [, name, arg] = m
  const value = arg.trim()
  if (name === 'join' && value) await join(value)
  else if (name === 'leave') await leave(value || s.current)
  else if (name === 'nick' && value) await changeNick(value)
  else if (name === 'me' || line.startsWith('//')) return false
  else {
    showBanner('Commands: /join <room>, /leave [room], /nick <name>. Start with // to send a line beginning with /.')
    return true
  }
  return true
}

function normalize(text) {
  return text.replace(/\r\n?/g, '\n').normalize('NFC').replace(/\s+$/u, '')
}

async function submit() {
  const text = normalize(ui.input.value)
  if (text.trim() === '') return
  ui.input.value = ''
  autosize()
  try {
    if (text.startsWith('/') && (await command(text))) return
    await send(text.startsWith('//') ? text.slice(1) : text)
  } catch (e) {
    showBanner(e instanceof ApiError ? e.message : 'That did not work.')
  }
}

// ---- keyboard and layout --------------------------------------------------------------------

function autosize() {
  ui.input.style.height = 'auto'
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 200)}px`
}

function openDrawer() {
  ui.app.classList.add('drawer-open')
  ui.menu.setAttribute('aria-expanded', 'true')
}

function closeDrawer() {
  ui.app.classList.remove('drawer-open')
  ui.menu.setAttribute('aria-expanded', 'false')
}

function bind() {
  ui.composer.addEventListener('submit', e => {
    e.preventDefault()
    void submit()
  })
  ui.input.addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      void submit()
    }
  })
  ui.input.addEventListener('input', autosize)
  ui.rooms.addEventListener('click', e => {
    const b = e.target.closest('button[data-room]')
    if (b) {
      switchRoom(b.dataset.room)
      ui.input.focus()
    }
  })
  ui.joinForm.addEventListener('submit', e => {
    e.preventDefault()
    const room = ui.joinInput.value.trim()
    if (!room) return
    join(room).then(
      () => {
        ui.joinInput.value = ''
        ui.input.focus()
      },
      err => showBanner(err instanceof ApiError ? err.message : 'Could not join.')
    )
  })
  ui.leave.addEventListener('click', () => {
    leave(s.current).catch(err => showBanner(err instanceof ApiError ? err.message : 'Could not leave.'))
  })
  const editNick = on => {
    ui.nickForm.hidden = !on
    ui.nickEdit.hidden = on
    ui.meNick.hidden = on
    if (on) {
      ui.nickInput.value = s.me.nick
      ui.nickInput.focus()
      ui.nickInput.select()
    }
  }
  ui.nickEdit.addEventListener('click', () => editNick(true))
  ui.nickForm.addEventListener('submit', e => {
    e.preventDefault()
    changeNick(ui.nickInput.value).then(
      () => {
        editNick(false)
        ui.input.focus()
      },
      err => showBanner(err instanceof ApiError ? err.message : 'Could not change the nick.')
    )
  })
  ui.nickInput.addEventListener('keydown', e => {
    if (e.key === 'Escape') {
      editNick(false)
      ui.input.focus()
    }
  })
  ui.menu.addEventListener('click', () => (ui.app.classList.contains('drawer-open') ? closeDrawer() : openDrawer()))
  ui.backdrop.addEventListener('click', closeDrawer)
  ui.jump.addEventListener('click', scrollToBottom)
  ui.scroller.addEventListener('scroll', () => {
    if (nearBottom()) ui.jump.hidden = true
  })
  document.addEventListener('keydown', e => {
    if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown') && s.rooms.length > 1) {
      e.preventDefault()
      const i = s.rooms.indexOf(s.current)
      const next = (i + (e.key === 'ArrowUp' ? -1 : 1) + s.rooms.length) % s.rooms.length
      switchRoom(s.rooms[next])
      ui.input.focus()
    } else if (e.key === 'Escape') closeDrawer()
    else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey && document.activeElement === document.body) ui.input.focus()
  })
}

async function boot() {
  bind()
  const base = await resolveApiBase()
  s.client = createClient(base)
  setState('loading')
  openLive(base, {
    onState: setState,
    onReady: d => {
      if (!d.resumed) void refetch()
    },
    onEvent
  })
  ui.input.focus()
}

void boot()
