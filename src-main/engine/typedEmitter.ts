// A small typed event emitter: listeners run synchronously in registration order; a throwing listener is
// reported to the 'error' hook and never breaks the engine that emitted.
export class TypedEmitter<E extends { [K in keyof E]: unknown }> {
  private readonly map = new Map<keyof E, ((payload: never) => void)[]>();

  constructor(
    private readonly onListenerError: (event: string, e: unknown) => void = (ev, e) =>
      console.error(`listener for "${ev}" threw:`, e),
  ) {}

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof E>(event: K, fn: (payload: E[K]) => void): () => void {
    const list = this.map.get(event) ?? [];
    list.push(fn as (payload: never) => void);
    this.map.set(event, list);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: (payload: E[K]) => void): void {
    const list = this.map.get(event);
    if (!list) return;
    const i = list.indexOf(fn as (payload: never) => void);
    if (i >= 0) list.splice(i, 1);
  }

  /** True when someone listens: lets the hot path skip building a payload nobody reads. */
  has(event: keyof E): boolean {
    const list = this.map.get(event);
    return list !== undefined && list.length > 0;
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const list = this.map.get(event);
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as (p: E[K]) => void)(payload);
      } catch (e) {
        this.onListenerError(String(event), e);
      }
    }
  }
}
