/**
 * The API's routes: a table of paths and methods whose handlers call only the chat service. Each
 * handler gets the decoded path parameters, the query and a body reader, and returns a status and a
 * JSON value; the live stream is marked here and served by the server.
 */
import type { ChatService } from '../chat/index.js'
import { normalizeRoom, toRecord } from '../chat/index.js'
import { asObject, stringField } from './body.js'
import { httpErrors } from './error-table.js'

/** What the API needs from the chat service. */
export type ApiChat = Pick<
  ChatService,
  'peerId' | 'getNick' | 'rooms' | 'send' | 'messages' | 'history' | 'join' | 'leave' | 'setNick' | 'roomPeers' | 'peers' | 'status' | 'on'
>

export const DEFAULT_MESSAGES_LIMIT = 100
export const MAX_MESSAGES_LIMIT = 1000
const MESSAGE_ID = /^[0-9a-f]{32}$/

export interface RouteContext {
  chat: ApiChat
  params: Record<string, string>
  query: URLSearchParams
  /** Reads and parses the JSON body (415/413/400 on a bad one). */
  body: () => Promise<unknown>
}

export type RouteResult = { status: number; body: unknown } | { stream: 'events' }

export type Handler = (ctx: RouteContext) => RouteResult | Promise<RouteResult>

export interface Route {
  pattern: string
  methods: Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Handler>>
}

function listMessages({ chat, query }: RouteContext): RouteResult {
  const given = query.get('room') ?? chat.rooms()[0]
  if (given == null) throw httpErrors.badQuery('"room" is required when this node is in no room')
  const room = normalizeRoom(given)
  const limitText = query.get('limit')
  let limit = DEFAULT_MESSAGES_LIMIT
  if (limitText != null) {
    if (!/^\d{1,5}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_MESSAGES_LIMIT)
      throw httpErrors.badQuery(`"limit" must be a whole number from 1 to ${MAX_MESSAGES_LIMIT}`)
    limit = Number(limitText)
  }
  const since = query.get('since')
  if (since == null) return { status: 200, body: { room, messages: chat.messages(room, { limit }).map(toRecord) } }
  if (!MESSAGE_ID.test(since)) throw httpErrors.badQuery('"since" must be a message ID (32 hex digits)')
  const anchor = chat.history.get(since)
  if (anchor?.room !== room) throw httpErrors.unknownSince()
  return { status: 200, body: { room, messages: chat.messages(room, { afterId: since, limit }).map(toRecord) } }
}

async function sendMessage({ chat, body }: RouteContext): Promise<RouteResult> {
  const b = asObject(await body())
  const text = stringField(b, 'text')
  const room = b.room === undefined ? chat.rooms()[0] : stringField(b, 'room')
  if (room == null) throw httpErrors.badBody('"room" is required when this node is in no room')
  const message = await chat.send(room, text)
  return { status: 201, body: toRecord(message) }
}

function status({ chat }: RouteContext): RouteResult {
  const s = chat.status()
  const online = chat.peers().map(p => ({ peerId: p.peerId, nick: p.name, rooms: p.rooms, via: p.via, rtt: p.rtt ?? null }))
  return { status: 200, body: { ...s, online } }
}

function listRooms({ chat }: RouteContext): RouteResult {
  return { status: 200, body: { rooms: chat.rooms().map(room => ({ room, peers: chat.roomPeers(room).length })) } }
}

async function joinRoom({ chat, body }: RouteContext): Promise<RouteResult> {
  const room = stringField(asObject(await body()), 'room')
  const before = chat.rooms()
  const joined = chat.join(room)
  return { status: before.includes(joined) ? 200 : 201, body: { room: joined, rooms: chat.rooms() } }
}

function leaveRoom({ chat, params }: RouteContext): RouteResult {
  const room = normalizeRoom(params.room)
  const rooms = chat.rooms()
  if (!rooms.includes(room)) throw httpErrors.notInRoom()
  if (rooms.length === 1) throw httpErrors.lastRoom()
  chat.leave(room)
  return { status: 200, body: { room, rooms: chat.rooms() } }
}

function roomPeers({ chat, params }: RouteContext): RouteResult {
  const room = normalizeRoom(params.room)
  if (!chat.rooms().includes(room)) throw httpErrors.notInRoom()
  return { status: 200, body: { room, peers: chat.roomPeers(room) } }
}

async function setNick({ chat, body }: RouteContext): Promise<RouteResult> {
  const nick = chat.setNick(stringField(asObject(await body()), 'nick'))
  return { status: 200, body: { nick } }
}

const messages: Route['methods'] = { GET: listMessages, POST: sendMessage }

export const ROUTES: readonly Route[] = [
  { pattern: '/api/messages', methods: messages },
  { pattern: '/messages', methods: messages },
  { pattern: '/api/events', methods: { GET: () => ({ stream: 'events' }) } },
  { pattern: '/api/status', methods: { GET: status } },
  { pattern: '/api/rooms', methods: { GET: listRooms, POST: joinRoom } },
  { pattern: '/api/rooms/:room', methods: { DELETE: leaveRoom } },
  { pattern: '/api/rooms/:room/peers', methods: { GET: roomPeers } },
  { pattern: '/api/nick', methods: { GET: ({ chat }) => ({ status: 200, body: { nick: chat.getNick() } }), PUT: setNick } }
]

/** Finds the route for a path; params are percent-decoded (400 if they cannot be). Pure. */
export function matchRoute(routes: readonly Route[], path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/')
  for (const route of routes) {
    const pattern = route.pattern.split('/')
    if (pattern.length !== parts.length) continue
    const params: Record<string, string> = {}
    let ok = true
    for (let i = 0; i < pattern.length && ok; i++) {
      if (pattern[i].startsWith(':')) {
        if (parts[i] === '') ok = false
        else {
          try {
            params[pattern[i].slice(1)] = decodeURIComponent(parts[i])
          } catch {
            throw httpErrors.badPath()
          }
        }
      } else ok = pattern[i] === parts[i]
    }
    if (ok) return { route, params }
  }
  return undefined
}

/** Paths the API owns (anything else is a static file). */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/messages'
}
