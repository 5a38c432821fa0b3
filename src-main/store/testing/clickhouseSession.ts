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
