/**
 * One connection per pair of peers. The connector's tie-break makes two nodes that discover each
 * other dial only once, but timing cannot rule out that both dial at the same moment (a healed
 * link, a slow machine): they then hold two connections. Both ends must close the same one, so
 * the choice uses only facts both ends see alike: the direction of each connection relative to the
 * two peer IDs. Connections dialed by the higher peer ID win (the same rule as the tie-break); when
 * one side dialed several, only that side closes the extras, keeping its oldest. Pure.
 */

export interface ConnectionFacts {
  id: string
  /** As seen from this node: `outbound` means this node dialed it. */
  direction: 'inbound' | 'outbound'
  /** When it opened (ms), for keeping the oldest of one side's extras. */
  opened: number
}

/** IDs of the connections to `peerId` that this node should close (empty if at most one). */
export function redundantConnections(selfId: string, peerId: string, conns: ConnectionFacts[]): string[] {
  if (conns.length < 2) return []
  const selfHigher = selfId > peerId
  const byHigher = conns.filter(c => c.direction === (selfHigher ? 'outbound' : 'inbound'))
  const byLower = conns.filter(c => c.direction === (selfHigher ? 'inbound' : 'outbound'))
  const oldestFirst = (list: ConnectionFacts[]): ConnectionFacts[] =>
    [...list].sort((a, b) => a.opened - b.opened || (a.id < b.id ? -1 : 1))
  if (byHigher.length > 0) {
    // The lower side's connections go; the higher side also trims its own extras.
    const extras = selfHigher ? oldestFirst(byHigher).slice(1) : []
    return [...byLower, ...extras].map(c => c.id)
  }
  // Only the lower side dialed: it keeps its oldest.
  return selfHigher
    ? []
    : oldestFirst(byLower)
        .slice(1)
        .map(c => c.id)
}
