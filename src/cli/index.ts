/**
 * The terminal: command parsing and rendering (pure) and the interactive loop.
 *
 * @example
 * ```ts
 * const term = new Terminal(chat, { input: process.stdin, output: process.stdout, interactive: true, style: { color: true } })
 * term.on('quit', () => app.stop())
 * term.start()
 * ```
 */
export { Terminal, type TerminalInit, type TerminalEvents } from './terminal.js'
export { parseInput, COMMAND_HELP, type Command } from './commands.js'
export * from './render.js'
