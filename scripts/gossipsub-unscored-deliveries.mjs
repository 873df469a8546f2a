// An esbuild plugin for scripts/bundle.mjs: @libp2p/gossipsub keeps no per-message delivery record
// for its peer score when no topic has score parameters.
//
// Why: for every message it sees, gossipsub's PeerScore keeps a record (status, first-seen time,
// the Set of peers that delivered a copy, a queue entry) for two minutes. The records feed only
// the per-topic score terms P2, P3 and P4 (first and mesh message deliveries, invalid messages),
// which count nothing for a topic without parameters; the chat's rooms have none (node.ts sets only
// IP-colocation parameters). In a heap snapshot of a node that had received 23,000 messages the
// records were about 7 MB of its 36 MB of live heap. With no scored topic, the four methods that
// make records (validateMessage, deliverMessage, rejectMessage, duplicateMessage) now return at
// once; the other score terms (IP colocation, behaviour penalties) are unchanged.
//
// The build fails if the package changes so that the rewrite no longer matches all four.
import { sourcePatch } from './source-patch.mjs'

export function gossipsubUnscoredDeliveries() {
  return sourcePatch({
    name: 'gossipsub-unscored-deliveries',
    file: /[\\/]node_modules[\\/]@libp2p[\\/]gossipsub[\\/]dist[\\/]src[\\/]score[\\/]peer-score\.js$/,
    pattern: /(\n {4}(?:validateMessage|deliverMessage|rejectMessage|duplicateMessage)\([\w, ]*\) \{)/g,
    replacement: '$1\n        if (Object.keys(this.params.topics).length === 0) {\n            return;\n        }',
    count: 4
  })
}
