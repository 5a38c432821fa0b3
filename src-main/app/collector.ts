// Collector adapter: runs a fresh source (bybit or sim) for one symbol/depth and writes every message and gap into
// a new stored session through the batched SessionWriter.
import type { Config } from '../../src-shared/config.ts';
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { createSource } from '../market/createSource.ts';
import type { Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import type { Collector } from './ports.ts';

export function makeCollector(config: Config, db: Db): Collector {
  return async ({ symbol, depth, source, onError }) => {
    const cfg: Config = { ...config, symbol, depth, source };
    const src = createSource(cfg);
    const sessionId = createSession(db, {
      source,
      symbol,
      category: cfg.category,
      depth,
      tickSize: src.instrument.tickSize,
      startedAt: Date.now(),
      meta: { origin: 'ui' },
    });
    const writer = new SessionWriter(db, sessionId, {
      batchIntervalMs: cfg.store.batch_interval,
      onError: (e) => onError(e.message),
    });
    let gaps = 0;
    let failed = false;
    const onMessage = (m: MarketMessage) => {
      if (failed) return;
      try {
        writer.writeMessage(m);
      } catch (e) {
        failed = true;
        onError(`collection stopped writing: ${(e as Error).message}`);
      }
    };
    const onGap = (g: Gap) => {
      if (g.endTs === null) gaps++;
      if (!failed) writer.writeGap(g);
    };
    src.on('message', onMessage);
    src.on('gap', onGap);
    src.on('warning', onError);
    await src.start();
    return {
      sessionId,
      messages: () => {
        const s = writer.stats();
        return s.bookMessages + s.tradeMessages;
      },
      gaps: () => gaps,
      stop: async () => {
        await src.stop();
        src.off('message', onMessage);
        src.off('gap', onGap);
        src.off('warning', onError);
        writer.close();
      },
    };
  };
}
