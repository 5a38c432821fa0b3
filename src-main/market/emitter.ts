// A small typed event emitter for MarketSource implementations: listeners run synchronously in
// registration order, and one throwing listener cannot break the feed for the others.
import type { SourceEvents } from './source.ts';

type Listeners = { [K in keyof SourceEvents]: Array<SourceEvents[K]> };

export class SourceEmitter {
  private readonly listeners: Listeners = { message: [], gap: [], health: [], warning: [], notice: [] };

  on<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.listeners[event].push(fn);
  }

  off<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    const list = this.listeners[event];
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }

  emit<K extends keyof SourceEvents>(event: K, ...args: Parameters<SourceEvents[K]>): void {
    const list = this.listeners[event];
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as (...a: Parameters<SourceEvents[K]>) => void)(...args);
      } catch (e) {
        // A consumer bug must not kill the socket loop; report it where people look.
        if (event !== 'warning')
          this.emit('warning', `listener for "${event}" threw: ${(e as Error).message ?? String(e)}`);
        else console.error(e);
      }
    }
  }

  /** The live listener list, for a source that calls them itself (the replay awaits what they return). */
  listenersOf<K extends keyof SourceEvents>(event: K): readonly SourceEvents[K][] {
    return this.listeners[event];
  }

  listenerCount(event: keyof SourceEvents): number {
    return this.listeners[event].length;
  }
}
