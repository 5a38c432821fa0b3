// The Collect button's adapter against a real loopback exchange-sim and a real SQLite file: a symbol nobody knows the
// tick of is stored with the tick the source inferred from the data, not the '' it started with; several symbols are
// recorded over one connection into one session each, every message of each in its own session; the simulated
// market refuses several symbols in words that say what to do.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { startSimExchange, startSimMarkets } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { makeCollector } from './collector.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2app-collect-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('collector (Collect button)', () => {
  it('stores the tick size the source inferred for an unknown symbol', async () => {
    const server = await startSimExchange(
      { seed: 7, symbol: 'FOOUSDT', startPrice: 0.15, tickSize: '0.00001' },
      { speed: 1 },
    );
    const db = openDb(path.join(dir, 'c.db'));
    try {
      const config = loadConfig({
        ignoreUserFile: true,
        overrides: { source: 'bybit', symbol: 'FOOUSDT', 'bybit.url': server.url },
      });
      const errors: string[] = [];
      const notices: string[] = [];
      const job = await makeCollector(
        config,
        sqliteSessionStore(db, 'c.db'),
      )({
        symbols: ['FOOUSDT'],
        depth: 50,
        source: 'bybit',
        onError: (m) => errors.push(m),
        onNotice: (m) => notices.push(m),
      });
      const deadline = Date.now() + 5_000;
      while (job.messages() < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await job.stop();
      const s = getSession(db, job.sessions[0].sessionId);
      expect(s).toMatchObject({ source: 'bybit', symbol: 'FOOUSDT', tickSize: '0.00001' });
      expect(s?.endedAt).not.toBeNull();
      expect(s?.messages).toBe(job.messages());
      expect(s?.messages).toBeGreaterThanOrEqual(20);
      let stored = 0;
      for (const e of readSession(db, job.sessions[0].sessionId)) if (e.kind !== 'gap') stored++;
      expect(stored).toBe(job.messages());
      expect(job.gaps()).toBe(0);
      // Where the tick came from is announced as a notice (the exchange-sim serves instrument info), never as an
      // error; nothing went wrong.
      expect(notices).toEqual([
        expect.stringMatching(/^tick size of FOOUSDT from the exchange's instrument info: 0\.00001 \(lot /),
      ]);
      expect(errors).toEqual([]);
    } finally {
      db.close();
      await server.close();
    }
  }, 15_000);

  it('records several symbols over one connection, one session each', async () => {
    const markets = [
      { symbol: 'BTCUSDT', startPrice: 65000, tickSize: '0.1' },
      { symbol: 'ETHUSDT', startPrice: 3400, tickSize: '0.01' },
      { symbol: 'SOLUSDT', startPrice: 150, tickSize: '0.01' },
    ];
    const server = await startSimMarkets(markets.map((m, i) => ({ ...m, seed: 40 + i })));
    const db = openDb(path.join(dir, 'several.db'));
    try {
      const config = loadConfig({
        ignoreUserFile: true,
        overrides: { source: 'bybit', 'bybit.url': server.url },
      });
      const errors: string[] = [];
      const job = await makeCollector(
        config,
        sqliteSessionStore(db, 'c.db'),
      )({
        symbols: markets.map((m) => m.symbol),
        depth: 50,
        source: 'bybit',
        onError: (m) => errors.push(m),
        onNotice: () => undefined,
      });
      expect(job.sessions.map((x) => x.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
      const deadline = Date.now() + 8_000;
      while (job.messages() < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await job.stop();
      let total = 0;
      for (const [i, x] of job.sessions.entries()) {
        const s = getSession(db, x.sessionId);
        expect(s).toMatchObject({ symbol: markets[i].symbol, tickSize: markets[i].tickSize });
        expect(s?.endedAt).not.toBeNull();
        let stored = 0;
        for (const e of readSession(db, x.sessionId)) {
          if (e.kind === 'gap') continue;
          expect(e.symbol).toBe(markets[i].symbol);
          stored++;
        }
        expect(stored).toBeGreaterThan(10);
        total += stored;
      }
      expect(total).toBe(job.messages());
      expect(errors).toEqual([]);
    } finally {
      db.close();
      await server.close();
    }
  }, 20_000);

  it('prunes the store as it records when store.retention_days is set, as `l2desk collect` does', async () => {
    const server = await startSimExchange(
      { seed: 9, symbol: 'BTCUSDT', startPrice: 65000, tickSize: '0.1' },
      { speed: 1 },
    );
    const file = path.join(dir, 'retention.db');
    const db = openDb(file);
    const keepMs = 1500;
    try {
      const config = loadConfig({
        ignoreUserFile: true,
        overrides: { source: 'bybit', 'bybit.url': server.url, 'store.retention_days': keepMs / 86_400_000 },
      });
      const notices: string[] = [];
      const errors: string[] = [];
      const job = await makeCollector(
        config,
        sqliteSessionStore(db, file),
      )({
        symbols: ['BTCUSDT'],
        depth: 50,
        source: 'bybit',
        onError: (m) => errors.push(m),
        onNotice: (m) => notices.push(m),
      });
      await new Promise((r) => setTimeout(r, 4500));
      await job.stop();
      expect(errors).toEqual([]);
      expect(
        notices.some((n) => /^retention: pruned [1-9]\d* L2 updates/.test(n)),
        notices.join('\n'),
      ).toBe(true);
      const s = getSession(db, job.sessions[0].sessionId)!;
      expect(s.lastRecvTs! - s.firstRecvTs!).toBeLessThan(keepMs + 1000 + 1000);
      const [first] = readSession(db, s.id);
      expect(first).toMatchObject({ kind: 'book', type: 'snapshot' });
    } finally {
      db.close();
      await server.close();
    }
  }, 20_000);

  it('refuses several symbols on the simulated market, saying what to do', async () => {
    const db = openDb(path.join(dir, 'sim.db'));
    try {
      const config = loadConfig({ ignoreUserFile: true });
      await expect(
        makeCollector(
          config,
          sqliteSessionStore(db, 'c.db'),
        )({
          symbols: ['BTCUSDT', 'ETHUSDT'],
          depth: 50,
          source: 'sim',
          onError: () => {},
          onNotice: () => {},
        }),
      ).rejects.toThrow(/collect one symbol, or switch the source to Bybit live/);
      expect(db.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});
