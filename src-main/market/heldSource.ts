// A source started before its consumer exists: `collect` starts the feed and waits for the exchange to accept
// the subscriptions before it creates a session (a refused symbol leaves no empty session), and the market data
// that arrives meanwhile (the first snapshot) is held here and handed to the consumer when it is released.
// Warnings and notices are not held: they go to whoever listens at the time (the user waiting for the feed).
import type { FeedHealth, Gap, Instrument, MarketMessage } from '../../src-shared/market.ts';
import { SourceEmitter } from './emitter.ts';
import type { MarketSource, SourceEvents } from './source.ts';

type Held =
  { kind: 'message'; msg: MarketMessage } | { kind: 'gap'; gap: Gap } | { kind: 'health'; h: FeedHealth };

export class HeldSource implements MarketSource {
  private readonly events = new SourceEmitter();
  private held: Held[] | null = [];

  constructor(readonly inner: MarketSource) {
    inner.on('message', (msg) => this.pass({ kind: 'message', msg }));
    inner.on('gap', (gap) => this.pass({ kind: 'gap', gap }));
    inner.on('health', (h) => this.pass({ kind: 'health', h }));
    inner.on('warning', (t) => this.events.emit('warning', t));
    inner.on('notice', (t) => this.events.emit('notice', t));
  }

  get kind(): MarketSource['kind'] {
    return this.inner.kind;
  }

  get instrument(): Instrument {
    return this.inner.instrument;
  }

  get seed(): number | undefined {
    return this.inner.seed;
  }

  on<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.on(event, fn);
  }

  off<K extends keyof SourceEvents>(event: K, fn: SourceEvents[K]): void {
    this.events.off(event, fn);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  health(): FeedHealth {
    return this.inner.health();
  }

  /** Hands what was held to the current listeners, in arrival order, and passes everything on from now. */
  release(): void {
    const held = this.held;
    this.held = null;
    for (const e of held ?? []) this.emit(e);
  }

  private pass(e: Held): void {
    if (this.held) this.held.push(e);
    else this.emit(e);
  }

  private emit(e: Held): void {
    if (e.kind === 'message') this.events.emit('message', e.msg);
    else if (e.kind === 'gap') this.events.emit('gap', e.gap);
    else this.events.emit('health', e.h);
  }
}

/** How the wait for a live feed's subscriptions ended: accepted, stopped first (time up, a signal), or refused. */
export type Subscribing =
  { kind: 'subscribed' } | { kind: 'stopped'; reason: string } | { kind: 'failed'; error: Error };

/**
 * Starts the sources and waits until the exchange has accepted every subscription, `maxWaitMs` has passed ('duration
 * reached': an unreachable exchange is retried until then), a stop was asked (`stop` resolves with its reason), or
 * one failed (a refused symbol).
 */
export async function awaitSubscribed(
  sources: readonly MarketSource[],
  maxWaitMs: number,
  stop: Promise<string>,
): Promise<Subscribing> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<string>((r) => {
    // setTimeout fires at once beyond 2^31 − 1 ms: a longer wait is cut there (the callers re-arm theirs).
    timer = setTimeout(() => r('duration reached'), Math.min(maxWaitMs, 2 ** 31 - 1));
  });
  try {
    return await Promise.race([
      Promise.all(sources.map((s) => s.start())).then(
        (): Subscribing => ({ kind: 'subscribed' }),
        (e: unknown): Subscribing => ({ kind: 'failed', error: e as Error }),
      ),
      Promise.race([stop, timeUp]).then((reason): Subscribing => ({ kind: 'stopped', reason })),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
