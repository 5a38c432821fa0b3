// Collector adapter: runs a fresh source (bybit or sim) for a symbol/depth (or a live feed of several symbols over one
// connection) and records every message and gap into a new stored session per symbol through SessionRecorder (batched
// writer; the session keeps the tick the source finally inferred), in the store the app was opened on (an SQLite file
// or ClickHouse), pruning it as it goes when store.retention_days is set, as `l2desk collect` does.
import type { Config } from '../../src-shared/config.ts';
import type { FeedHealth } from '../../src-shared/market.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { createBybitSources, createSource } from '../market/createSource.ts';
import type { MarketSource } from '../market/source.ts';
import { awaitSubscribed, HeldSource } from '../market/heldSource.ts';
import { prunedText, pruneFailedText, scheduleRetention } from '../store/retentionSchedule.ts';
import type { SessionRecorder } from '../store/sessionRecorder.ts';
import type { SessionStore } from '../store/sessionStore.ts';
import type { Collector } from './ports.ts';

/** `store`: the app's store, which the app closes (the collector never does). */
export function makeCollector(config: Config, store: SessionStore): Collector {
  return async ({ symbols, depth, source, onError, onNotice }) => {
    if (symbols.length === 0) throw new Error('no symbol to collect');
    if (symbols.length > 1 && source !== 'bybit')
      throw new Error(
        `several symbols (${symbols.join(',')}) are collected from the live Bybit feed over one connection; the ` +
          'simulated market makes one market: collect one symbol, or switch the source to Bybit live',
      );
    const cfg: Config = { ...config, symbol: symbols[0], depth, source };
    const made: MarketSource[] = symbols.length > 1 ? createBybitSources(cfg, symbols) : [createSource(cfg)];
    // With several symbols each message says whose it is (the connection's own troubles come under the first).
    const tag = (sym: string, f: (m: string) => void) => (m: string) =>
      f(symbols.length > 1 && !m.includes(sym) ? `${sym}: ${m}` : m);
    // A live feed is started first: a symbol the exchange refuses fails this command with the refusal and leaves no
    // empty session. An exchange that cannot be reached is recorded as before (the recorder waits for it).
    const live = made.filter((m): m is BybitSource => m instanceof BybitSource);
    const held =
      live.length === made.length && live.length > 0
        ? await startLive(
            live,
            (sym) => tag(sym, onError),
            (sym) => tag(sym, onNotice),
          )
        : null;
    const sources: MarketSource[] = held ?? made;
    const recs: SessionRecorder[] = [];
    try {
      for (const src of sources) {
        const sym = src.instrument.symbol;
        // The app service stops the job at the requested duration; the recorder runs until then.
        recs.push(
          await store.record(src, {
            durationMs: Infinity,
            clock: 'wall',
            depth,
            batchIntervalMs: cfg.store.batch_interval,
            busyGiveUpMs: cfg.store.busy_give_up,
            busyBufferBytes: cfg.store.busy_buffer_mb * 2 ** 20,
            meta: { origin: 'ui' },
            onWarning: tag(sym, onError),
            onNotice: tag(sym, onNotice),
          }),
        );
      }
    } catch (e) {
      for (const r of recs) await r.stop().catch(() => undefined);
      for (const m of made) await m.stop().catch(() => undefined);
      throw e;
    }
    // Not awaited: a live source starts only once subscribed, which may take long (or forever, offline); the job
    // must be stoppable meanwhile. A source that cannot start ends the recording, and the job with it (`ended`):
    // with several symbols on one connection, the first to end ends them all.
    for (const h of held ?? []) h.release(); // the recorders listen now: what arrived while subscribing goes to them
    for (const r of recs) r.start().catch(() => {});
    const days = cfg.store.retention_days;
    const retention =
      days > 0
        ? scheduleRetention(store, {
            days,
            onPruned: (r) => {
              const said = prunedText(r, days);
              if (said) onNotice(said);
            },
            onError: (e) => onError(pruneFailedText(e)),
          })
        : null;
    void retention?.runNow();
    const ended = Promise.race(recs.map((r) => r.finished)).then(() => retention?.stop());
    const sum = (f: (r: SessionRecorder) => number) => recs.reduce((a, r) => a + f(r), 0);
    return {
      sessions: recs.map((r, i) => ({ symbol: sources[i].instrument.symbol, sessionId: r.sessionId })),
      messages: () => sum((r) => r.progress().messages),
      gaps: () => sum((r) => r.progress().gaps),
      ended,
      // What ended the recording badly (a write error, a source that failed) is the job's error: shown once, in
      // the Collect panel, by the app service.
      stop: async () => {
        await retention?.stop();
        const results = await Promise.all(recs.map((r) => r.stop()));
        const bad = results.find((r) => r.error);
        if (bad?.error) throw bad.error;
      },
    };
  };
}

/**
 * Starts live sources held (their data kept for the recorders) and waits for the exchange's first answer: accepted,
 * or not reachable (a reconnect began; the recorders go on waiting) give the held sources; a refusal is thrown.
 */
async function startLive(
  sources: readonly BybitSource[],
  onError: (symbol: string) => (m: string) => void,
  onNotice: (symbol: string) => (m: string) => void,
): Promise<HeldSource[]> {
  const held = sources.map((s) => new HeldSource(s));
  const listeners = held.map((h) => {
    const w = onError(h.instrument.symbol);
    const n = onNotice(h.instrument.symbol);
    h.on('warning', w);
    h.on('notice', n);
    return () => {
      h.off('warning', w);
      h.off('notice', n);
    };
  });
  let unreachable: (reason: string) => void = () => {};
  const stop = new Promise<string>((r) => (unreachable = r));
  const onHealth = (h: FeedHealth) => {
    if (h.state === 'reconnecting') unreachable('reconnecting');
  };
  for (const s of sources) s.on('health', onHealth);
  try {
    await awaitSubscribed(held, Infinity, stop);
  } finally {
    for (const s of sources) s.off('health', onHealth);
    for (const off of listeners) off();
  }
  const refused = sources.map((s) => s.refusal()).find((r) => r);
  if (refused) {
    for (const s of sources) await s.stop();
    throw refused;
  }
  return held;
}
