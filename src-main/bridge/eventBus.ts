// A typed in-process event bus for the IPC events: the app service emits, each transport forwards to its clients.
import type { EventName, Events } from '../../src-shared/ipc.ts';

export type AnyEventListener = (event: EventName, payload: Events[EventName]) => void;

export class EventBus {
  private readonly listeners = new Set<AnyEventListener>();

  emit<K extends EventName>(event: K, payload: Events[K]): void {
    for (const fn of this.listeners) {
      try {
        fn(event, payload);
      } catch (e) {
        // A transport failing to deliver must not break the engine that emitted.
        console.error(`event ${event}: listener failed: ${(e as Error).message}`);
      }
    }
  }

  /** Receives every event (transports forward them all); returns the unsubscribe function. */
  onAny(fn: AnyEventListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Listeners subscribed now (each transport client holds one): lets tests prove none are leaked. */
  listenerCount(): number {
    return this.listeners.size;
  }

  on<K extends EventName>(event: K, fn: (payload: Events[K]) => void): () => void {
    return this.onAny((e, p) => {
      if (e === event) fn(p as Events[K]);
    });
  }
}
