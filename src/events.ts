/**
 * A typed EventTarget: `addEventListener('message:received', e => e.detail)` is checked against the
 * event map. Listeners that throw are reported, never allowed to break the emitter.
 */

export type EventMap = Record<string, unknown>

export type Listener<T> = (event: CustomEvent<T>) => void

export class TypedEvents<M extends EventMap> extends EventTarget {
  on<K extends keyof M & string>(type: K, listener: Listener<M[K]>, options?: { once?: boolean; signal?: AbortSignal }): () => void {
    const wrapped = listener as unknown as (event: Event) => void
    this.addEventListener(type, wrapped, options)
    return () => this.removeEventListener(type, wrapped)
  }

  emit<K extends keyof M & string>(type: K, detail: M[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
