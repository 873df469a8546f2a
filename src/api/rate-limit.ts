/**
 * A token bucket per client (remote address) for requests that change something. Each client
 * starts with `capacity` tokens and gets `refillPerSecond` back; a request without a token is
 * refused with the seconds until the next one. The number of clients tracked is bounded.
 */
import { InvalidOptionError } from '../errors.js'

export const DEFAULT_RATE_CAPACITY = 20
export const DEFAULT_RATE_REFILL_PER_SECOND = 5
export const DEFAULT_RATE_MAX_CLIENTS = 1024

export interface RateLimiterInit {
  capacity?: number
  refillPerSecond?: number
  maxClients?: number
  now?: () => number
}

export interface RateLimiter {
  /** Takes a token: 0 if allowed, else the seconds to wait. */
  take: (client: string) => number
}

export function createRateLimiter(init: RateLimiterInit = {}): RateLimiter {
  const capacity = init.capacity ?? DEFAULT_RATE_CAPACITY
  const refill = init.refillPerSecond ?? DEFAULT_RATE_REFILL_PER_SECOND
  const maxClients = init.maxClients ?? DEFAULT_RATE_MAX_CLIENTS
  const now = init.now ?? Date.now
  if (!(capacity >= 1)) throw new InvalidOptionError('rate limit capacity must be at least 1')
  if (!(refill > 0)) throw new InvalidOptionError('rate limit refill must be above 0')
  if (!Number.isInteger(maxClients) || maxClients < 1) throw new InvalidOptionError('rate limit maxClients must be a positive integer')
  const buckets = new Map<string, { tokens: number; at: number }>()

  return {
    take(client) {
      const t = now()
      let b = buckets.get(client)
      if (b == null) {
        if (buckets.size >= maxClients) {
          // Forget the least recently seen client (Map keeps insertion order; seen clients are re-inserted).
          const oldest = buckets.keys().next().value
          if (oldest != null) buckets.delete(oldest)
        }
        b = { tokens: capacity, at: t }
      } else {
        b.tokens = Math.min(capacity, b.tokens + ((t - b.at) / 1000) * refill)
        b.at = t
        buckets.delete(client)
      }
      buckets.set(client, b)
      if (b.tokens >= 1) {
        b.tokens -= 1
        return 0
      }
      return (1 - b.tokens) / refill
    }
  }
}
