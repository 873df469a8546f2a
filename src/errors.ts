/**
 * Every error class LAN Chat throws. Code and tests branch on the class (or its stable `name`),
 * never on message text. Foreign errors are wrapped where they enter.
 */

export class LanChatError extends Error {
  override name = 'LanChatError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A command-line flag or value that cannot be used. Exit code 2. */
export class UsageError extends LanChatError {
  override name = 'UsageError'
}

/** An option handed to a module's factory is out of range. */
export class InvalidOptionError extends LanChatError {
  override name = 'InvalidOptionError'
}

/** A chat message that is malformed, too large, badly signed or otherwise unacceptable. */
export class InvalidMessageError extends LanChatError {
  override name = 'InvalidMessageError'
  /** A short machine-readable reason, e.g. `bad-signature`, `too-large`, `room-mismatch`. */
  readonly reason: string
  constructor(reason: string, message: string) {
    super(message)
    this.reason = reason
  }
}

/** A nick that cannot be used (empty, too long, control characters). */
export class InvalidNickError extends LanChatError {
  override name = 'InvalidNickError'
}

/** A room name that cannot be used. */
export class InvalidRoomError extends LanChatError {
  override name = 'InvalidRoomError'
}

/** An action on a room the node is not in. */
export class NotInRoomError extends LanChatError {
  override name = 'NotInRoomError'
}

/** Message text that cannot be sent (empty or too long). */
export class InvalidTextError extends LanChatError {
  override name = 'InvalidTextError'
}

/** chat.log or the key file could not be written or read. */
export class StorageError extends LanChatError {
  override name = 'StorageError'
}

/** A line of chat.log that cannot be parsed; carries the 1-based line number. */
export class CorruptLogLineError extends LanChatError {
  override name = 'CorruptLogLineError'
  readonly line: number
  constructor(line: number, message: string) {
    super(`chat.log line ${line}: ${message}`)
    this.line = line
  }
}

/** The data directory is locked by another running node. */
export class DataDirLockedError extends LanChatError {
  override name = 'DataDirLockedError'
}

/** A peer could not be reached. */
export class DialError extends LanChatError {
  override name = 'DialError'
}

/** A liveness ping got no answer in time (network/health.ts). */
export class PingTimeoutError extends LanChatError {
  override name = 'PingTimeoutError'
}

/** Something was called on a service that is not started. */
export class NotStartedError extends LanChatError {
  override name = 'NotStartedError'
}

/** Sending too fast. */
export class RateLimitError extends LanChatError {
  override name = 'RateLimitError'
}

/**
 * An HTTP request that cannot be served as asked. Carries its status, a stable machine-readable
 * `code` and a fixed message (never the raw input), plus any headers the answer needs (e.g. `Allow`).
 */
export class HttpError extends LanChatError {
  override name = 'HttpError'
  readonly status: number
  readonly code: string
  readonly headers: Record<string, string>
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

/** A server could not listen on its address (port in use, address not available). */
export class ListenError extends LanChatError {
  override name = 'ListenError'
}

/** A history sync exchange with a peer failed: timeout, a frame too large or malformed, an error reply. */
export class SyncError extends LanChatError {
  override name = 'SyncError'
}
