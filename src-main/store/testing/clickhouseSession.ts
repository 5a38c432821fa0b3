// Tests' shortcut to a ClickHouse session with chosen messages: a closed BTCUSDT linear session (tick 0.1, depth 50)
// written through the store's own session writer, as a collector would have recorded it.
import type { MarketMessage } from '../../../src-shared/market.ts';
import { createSession } from '../clickhouse/catalogue.ts';
import { openClickHouse } from '../clickhouse/connection.ts';
import { ClickHouseSessionWriter } from '../clickhouse/writer.ts';

/** Stores `msgs` (at least one) as a new session of the ClickHouse store at `url`; resolves with its id. */
export async function writeClickHouseSession(url: string, msgs: readonly MarketMessage[]): Promise<number> {
  const store = await openClickHouse(url);
  try {
    const sid = await createSession(store, {
      source: 'bybit',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      startedAt: msgs[0].recvTs,
    });
    const w = ClickHouseSessionWriter.forNewSession(store, sid, 'BTCUSDT');
    for (const m of msgs) w.writeMessage(m);
    await w.close(msgs[msgs.length - 1].recvTs);
    return sid;
  } finally {
    await store.close();
  }
}

/**
 * `n` BTCUSDT book messages `stepMs` apart from `from`, a snapshot first, then consecutive deltas moving the sizes of
 * one bid and one ask level: a valid, never crossed book at every message.
 */
export function steadyBooks(from: number, n: number, stepMs: number): MarketMessage[] {
  return Array.from({ length: n }, (_, i) => {
    const t = from + i * stepMs;
    return {
      kind: 'book',
      type: i === 0 ? 'snapshot' : 'delta',
      symbol: 'BTCUSDT',
      depth: 50,
      ts: t,
      cts: t,
      recvTs: t,
      u: i + 1,
      seq: i + 1,
      bids: [[100, 1 + (i % 4)]],
      asks: [[100.1, 1 + (i % 3)]],
    };
  });
}

/** Delete (and update) mutations the ClickHouse server has run or is running in the store's database. */
export async function mutationCount(url: string): Promise<number> {
  const store = await openClickHouse(url, { mustExist: true });
  try {
    const r = await store.client.query({
      query: `SELECT count() AS n FROM system.mutations WHERE database = '${store.url.database}'`,
      format: 'JSONEachRow',
    });
    return Number(((await r.json()) as { n: string }[])[0].n);
  } finally {
    await store.close();
  }
}
