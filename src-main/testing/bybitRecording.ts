// Where the real Bybit orderbook.200 + publicTrade recording lives: beside the project in ../shared/data (README
// there), read in place by tests and benchmarks, never copied in.
import fs from 'node:fs';
import path from 'node:path';
import type { MarketMessage } from '../../src-shared/market.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';

export const BYBIT_RECORDING = path.resolve(
  PROJECT_ROOT,
  '..',
  'shared',
  'data',
  'bybit',
  'linear_BTCUSDT_orderbook200_trades.jsonl',
);

/**
 * The recording's book and trade messages, repeated back to back with fresh update ids and times shifted by its span
 * (plus 100 ms) so that each copy continues the last: `reps` whole copies, or the first `count` messages of as many
 * copies as that takes. What the store tests and benches write when they need more than 43 s of real data.
 */
export function repeatedRecording(opts: { reps: number } | { count: number }): MarketMessage[] {
  const base: MarketMessage[] = [];
  for (const line of fs.readFileSync(BYBIT_RECORDING, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const obj = JSON.parse(line) as { ts: number };
    const f = parseRawMessage(obj, obj.ts);
    if (f.type === 'book' || f.type === 'trades') base.push(f.msg);
  }
  const count = 'count' in opts ? opts.count : opts.reps * base.length;
  const span = base[base.length - 1].recvTs - base[0].recvTs + 100;
  const out: MarketMessage[] = [];
  for (let rep = 0; out.length < count; rep++) {
    const dt = rep * span;
    for (const m of base) {
      if (out.length >= count) break;
      out.push(
        m.kind === 'book'
          ? { ...m, u: m.u + rep * 1_000_000, ts: m.ts + dt, recvTs: m.recvTs + dt }
          : { ...m, ts: m.ts + dt, recvTs: m.recvTs + dt },
      );
    }
  }
  return out;
}
