// Two sessions of book and trade messages spread over days, for `db prune` tests: session 1 lies wholly 5-4 days
// back (two whole day partitions go); session 2 starts 3 days back, snapshots 2.5 days back and runs on to `now`, so
// its last snapshot before a 2-day cutoff and what follows stay.
import type { BookMessage, MarketMessage } from '../../../src-shared/market.ts';
import { createSession } from '../../store/clickhouse/catalogue.ts';
import type { ClickHouseStore } from '../../store/clickhouse/connection.ts';
import { ClickHouseSessionWriter } from '../../store/clickhouse/writer.ts';
import type { Db } from '../../store/db.ts';
import { SessionWriter } from '../../store/sessionWriter.ts';
import { createSession as createSqliteSession } from '../../store/sessions.ts';

const DAY = 86_400_000;

function book(recvTs: number, u: number, snapshot: boolean, price: number): BookMessage {
  return {
    kind: 'book',
    type: snapshot ? 'snapshot' : 'delta',
    symbol: 'BTCUSDT',
    depth: 50,
    ts: recvTs,
    cts: recvTs,
    recvTs,
    u,
    seq: u,
    bids: [[price, 1]],
    asks: [[price + 0.1, 2]],
  };
}

/** The messages of session `sid` (1 or 2), 400 book messages and a trade message every tenth. */
export function pruneScenarioMessages(sid: 1 | 2, now: number): MarketMessage[] {
  const out: MarketMessage[] = [];
  const from = sid === 1 ? now - 5 * DAY : now - 3 * DAY;
  const to = sid === 1 ? now - 4 * DAY : now - 60_000;
  const step = (to - from) / 400;
  for (let i = 0; i < 400; i++) {
    const t = Math.round(from + i * step);
    const snapshot = i === 0 || (sid === 2 && i === 70);
    out.push(book(t, i + 1, snapshot, 100 + (i % 7)));
    if (i % 10 === 5)
      out.push({
        kind: 'trades',
        symbol: 'BTCUSDT',
        ts: t,
        recvTs: t,
        trades: [{ ts: t, side: 'Buy', price: 100, size: 1, id: `t${sid}-${i}`, blockTrade: false, seq: i }],
      });
  }
  return out;
}

/** The session row both stores create for it. */
export function pruneScenarioSession(messages: readonly MarketMessage[]) {
  return {
    source: 'bybit',
    symbol: 'BTCUSDT',
    category: 'linear' as const,
    depth: 50,
    tickSize: '0.1',
    startedAt: messages[0].recvTs,
  };
}

/** Writes both sessions into an SQLite file and into a ClickHouse store, the same messages in each. */
export async function writePruneScenario(db: Db, store: ClickHouseStore, now: number): Promise<void> {
  for (const sid of [1, 2] as const) {
    const msgs = pruneScenarioMessages(sid, now);
    const s = pruneScenarioSession(msgs);
    const w = new SessionWriter(db, createSqliteSession(db, s));
    const cw = ClickHouseSessionWriter.forNewSession(store, await createSession(store, s), 'BTCUSDT');
    for (const m of msgs) {
      w.writeMessage(m);
      cw.writeMessage(m);
    }
    w.close(msgs.at(-1)!.recvTs);
    await cw.close(msgs.at(-1)!.recvTs);
  }
}
