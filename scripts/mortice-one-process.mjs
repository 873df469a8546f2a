// An esbuild plugin for scripts/bundle.mjs: mortice (the read/write lock libp2p's peer store uses)
// is told it runs as the one main thread of one process, instead of asking node:cluster and
// node:worker_threads.
//
// Why: mortice imports both modules at the top of its Node entry only to find out whether it is a
// cluster worker or a worker thread that must forward its locks to the primary. LAN Chat is never
// either, and the imports loaded node:cluster (with node:child_process and four internal cluster
// modules) into every node before it did anything: with the lazily loaded node:http, 0.5–0.7 MB of
// resident memory per idle node (two nodes, back to back; see README.md, Benchmarks). mortice only
// reads `isPrimary`, `isWorker`, `isMainThread` and `isInternalThread` and, as the primary,
// subscribes to cluster messages that can never come.
//
// The build fails if the package changes so that the rewrite no longer matches.
import { sourcePatch } from './source-patch.mjs'

export function morticeOneProcess() {
  return sourcePatch({
    name: 'mortice-one-process',
    file: /[\\/]node_modules[\\/]mortice[\\/]dist[\\/]src[\\/]node\.js$/,
    pattern: /import cluster from 'node:cluster';\s*import worker from 'node:worker_threads';/,
    replacement:
      'const cluster = { isPrimary: true, isWorker: false, on() {} };\nconst worker = { isMainThread: true, isInternalThread: false };'
  })
}
