// Writes a simulated session into SQLite through the same path as `collect --source sim --speed max`: the
// seeded generator's v5 frames, parsed by the Bybit protocol parser, stored by SessionWriter. Tests and the
// throughput benchmark build their sessions with it.
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { SimGenerator, type SimParams } from '../market/sim/simGenerator.ts';
import type { Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';

export interface SimSessionOptions {
  seed: number;
  /** Simulated duration (ms). Or stop after `messages` book+trade messages, whichever comes first. */
  durationMs: number;
  messages?: number;
  startMs?: number;
  symbol?: string;
  startPrice?: number;
  tickSize?: string;
  bookRateHz?: number;
  levels?: number;
  depth?: number;
  params?: Partial<SimParams>;
  onProgress?: (messages: number) => void;
}

/** Returns the new session's id and how many messages it holds. */
export function writeSimSession(db: Db, o: SimSessionOptions): { sessionId: number; messages: number } {
  const startMs = o.startMs ?? Date.UTC(2026, 0, 5, 12, 0, 0);
  const symbol = o.symbol ?? 'BTCUSDT';
  const tickSize = o.tickSize ?? '0.1';
  const depth = o.depth ?? 50;
  const gen = new SimGenerator({
    seed: o.seed,
    symbol,
    startPrice: o.startPrice ?? 65_000,
    tickSize,
    levels: o.levels ?? 200,
    bookRateHz: o.bookRateHz ?? 50,
    depth,
    startMs,
    params: o.params,
    numeric: true,
  });
  const sessionId = createSession(db, {
    source: 'sim',
    symbol,
    category: 'linear',
    depth,
    tickSize,
    startedAt: startMs,
    meta: { seed: o.seed },
  });
  let simNow = startMs;
  // Batches by size only (the clock stands still): a bulk write wants few, large transactions.
  const writer = new SessionWriter(db, sessionId, { maxRows: 50_000, batchIntervalMs: 250, now: () => 0 });
  const limit = o.messages ?? Infinity;
  let n = 0;
  try {
    while (n < limit) {
      const step = gen.next();
      if (step.atMs - startMs > o.durationMs) break;
      simNow = step.atMs;
      for (const f of step.frames) {
        const p = parseRawMessage(f, step.atMs);
        if (p.type === 'book' || p.type === 'trades') {
          writer.writeMessage(p.msg);
          n++;
          if (o.onProgress && n % 100_000 === 0) o.onProgress(n);
        }
      }
    }
    writer.flush();
  } finally {
    writer.close(simNow);
  }
  return { sessionId, messages: n };
}
