// The Collect button's adapter against a real loopback exchange-sim and a real SQLite file: a symbol nobody knows the
// tick of is stored with the tick the source inferred from the data, not the '' it started with.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { startSimExchange } from '../market/exchangeSim/testing/simExchangeHarness.ts';
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
        db,
      )({
        symbol: 'FOOUSDT',
        depth: 50,
        source: 'bybit',
        onError: (m) => errors.push(m),
        onNotice: (m) => notices.push(m),
      });
      const deadline = Date.now() + 5_000;
      while (job.messages() < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await job.stop();
      const s = getSession(db, job.sessionId);
      expect(s).toMatchObject({ source: 'bybit', symbol: 'FOOUSDT', tickSize: '0.00001' });
      expect(s?.endedAt).not.toBeNull();
      expect(s?.messages).toBe(job.messages());
      expect(s?.messages).toBeGreaterThanOrEqual(20);
      let stored = 0;
      for (const e of readSession(db, job.sessionId)) if (e.kind !== 'gap') stored++;
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
});
