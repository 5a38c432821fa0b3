// A ClickHouse store opened for the length of a test step, closed whatever happens.
import { openClickHouse, type ClickHouseStore } from '../../store/clickhouse/connection.ts';

export async function withStore<T>(url: string, f: (s: ClickHouseStore) => Promise<T>): Promise<T> {
  const s = await openClickHouse(url);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}
