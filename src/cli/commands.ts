/**
 * Parsing what the user types into a command. Pure.
 * A line that starts with `/` is a command; `//` sends a message that starts with `/`.
 */

export type Command =
  | { kind: 'empty' }
  | { kind: 'message'; text: string }
  | { kind: 'help' }
  | { kind: 'nick'; nick: string }
  | { kind: 'join'; room: string }
  | { kind: 'leave'; room?: string }
  | { kind: 'room'; room: string }
  | { kind: 'rooms' }
  | { kind: 'peers' }
  | { kind: 'quit' }
  | { kind: 'error'; message: string }

export const COMMAND_HELP: ReadonlyArray<[string, string]> = [
  ['/help', 'show this list'],
  ['/nick <name>', 'change your nick'],
  ['/join <room>', 'join a room and type into it'],
  ['/leave [room]', 'leave a room (the current one if none given)'],
  ['/room <room>', 'switch the room you type into'],
  ['/rooms', 'list your rooms'],
  ['/peers', 'list connected peers with their round-trip time'],
  ['/quit', 'leave the chat (Ctrl-C works too)'],
  ['//text', 'send a message that starts with "/"']
]

export function parseInput(line: string): Command {
  const trimmed = line.trim()
  if (trimmed === '') return { kind: 'empty' }
  if (!trimmed.startsWith('/')) return { kind: 'message', text: line }
  if (trimmed.startsWith('//')) return { kind: 'message', text: trimmed.slice(1) }
  const [head, ...rest] = trimmed.split(/\s+/)
  const name = head.slice(1).toLowerCase()
  const arg = rest.join(' ')
  const need = (what: string): Command => ({ kind: 'error', message: `/${name} needs ${what} (try /help)` })
  switch (name) {
    case 'help':
    case '?':
      return { kind: 'help' }
    case 'nick':
      return arg === '' ? need('a name') : { kind: 'nick', nick: arg }
    case 'join':
      return arg === '' ? need('a room name') : { kind: 'join', room: arg }
    case 'leave':
    case 'part':
      return arg === '' ? { kind: 'leave' } : { kind: 'leave', room: arg }
    case 'room':
    case 'switch':
      return arg === '' ? need('a room name') : { kind: 'room', room: arg }
    case 'rooms':
      return { kind: 'rooms' }
    case 'peers':
    case 'who':
      return { kind: 'peers' }
    case 'quit':
    case 'exit':
    case 'q':
      return { kind: 'quit' }
    default:
      return { kind: 'error', message: `unknown command ${head} (try /help)` }
  }
}
