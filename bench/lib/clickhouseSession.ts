// The session the ClickHouse benches write: the real recording's symbol and depth, and the writer loop import and
// collect use (RowBinary batches of 20k rows, waiting for the server whenever 60k rows are held).
import { createSession } from '../../src-main/store/clickhouse/catalogue.ts';
import type { ClickHouseStore } from '../../src-main/store/clickhouse/connection.ts';
import { ClickHouseSessionWriter } from '../../src-main/store/clickhouse/writer.ts';
import type { MarketMessage } from '../../src-shared/market.ts';

export const BENCH_SESSION = {
  source: 'bench',
  symbol: 'BTCUSDT',
  category: 'linear' as const,
  depth: 200,
  tickSize: '0.1',
  startedAt: 0,
};

const MAX_PENDING_ROWS = 60_000;

/** A new session holding `msgs`, written and closed; the writer, for its counters. */
export async function writeBenchSession(
  store: ClickHouseStore,
  msgs: readonly MarketMessage[],
  onStart: () => void = () => undefined,
): Promise<ClickHouseSessionWriter> {
  const w = ClickHouseSessionWriter.forNewSession(
    store,
    await createSession(store, BENCH_SESSION),
    BENCH_SESSION.symbol,
    { maxRows: 20_000 },
  );
  onStart();
  let k = 0;
  for (const m of msgs) {
    w.writeMessage(m);
    if (++k % 4096 === 0 && w.stats().pending >= MAX_PENDING_ROWS) await w.drain();
  }
  await w.close(1);
  return w;
}
