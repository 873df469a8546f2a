/**
 * Polyfills that must be installed before libp2p runs.
 *
 * Node 20 lacks `Promise.withResolvers`, which libp2p 3 calls when dialing and stopping.
 * The program and the tests import this module before anything else.
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

type PromiseWithResolvers = PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> }

export function installPolyfills(target: PromiseWithResolvers = Promise): void {
  if (typeof target.withResolvers === 'function') return
  Object.defineProperty(target, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}

installPolyfills()
