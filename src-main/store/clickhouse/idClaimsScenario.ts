// Two writers (two processes' connections: one server's, or two nodes of a cluster) creating sessions, id blocks and
// models at the same instant: every id distinct, every record its creator's. Shared by the one-server and cluster
// tests.
import path from 'node:path';
import { expect } from 'vitest';
import { createSession, getSessionRecord } from './catalogue.ts';
import type { ClickHouseStore } from './connection.ts';
import { claimIds } from './idClaims.ts';
import { listModelsIn, registerModelIn } from './modelStore.ts';

export async function expectDistinctIds(a: ClickHouseStore, b: ClickHouseStore, dir: string): Promise<void> {
  const made = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      createSession(i % 2 ? a : b, {
        source: 'sim',
        symbol: `SYM${i}USDT`,
        category: 'linear',
        depth: 50,
        tickSize: '0.1',
        startedAt: 1000 + i,
      }).then((id) => [id, `SYM${i}USDT`] as const),
    ),
  );
  expect(new Set(made.map(([id]) => id)).size).toBe(12);
  // Each session's record is the one its creator wrote (a shared id would show one symbol for two), read through
  // the other connection.
  for (const [id, symbol] of made) expect((await getSessionRecord(b, id))?.symbol).toBe(symbol);
  // Blocks: concurrent claims of several ids never overlap, and start above every id in use.
  const highest = `SELECT max(id) AS m FROM ${a.table('sessions')}`;
  const blocks = await Promise.all(
    Array.from({ length: 6 }, (_, i) => claimIds(i % 2 ? a : b, 'sessions', 3, highest)),
  );
  const taken = blocks.flatMap((f) => [f, f + 1, f + 2]);
  expect(new Set(taken).size).toBe(18);
  expect(Math.min(...taken)).toBeGreaterThan(Math.max(...made.map(([id]) => id)));
  // Models registered at once by two processes.
  const models = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      registerModelIn(i % 2 ? a : b, {
        path: path.join(dir, `m${i}.onnx`),
        name: `m${i}`,
        createdAt: i,
        featureSetVersion: 'l2f-1',
        horizonMs: 10_000,
        metrics: {},
        params: {},
      }),
    ),
  );
  expect(new Set(models).size).toBe(6);
  expect((await listModelsIn(a)).map((m) => m.name).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
}
