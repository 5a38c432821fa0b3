// trade --paper --source bybit against the real exchange-sim on 127.0.0.1 with a symbol it refuses: the command
// ends at once (not after --duration) with exit code 1 and the refusal's message, and records no run and no session.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { cleanupAfterEach, startSimExchange } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { openDb } from '../store/db.ts';
import { listSessions } from '../store/sessions.ts';

const model = path.join(PROJECT_ROOT, 'models', 'default.onnx');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2trade-refused-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const cleanups = cleanupAfterEach();

async function trade(argv: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
      'trade',
      '--paper',
      '--source',
      'bybit',
      '--model',
      model,
      ...argv,
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { code, out };
}

function rowsIn(file: string): { sessions: number; runs: number } {
  const db = openDb(file);
  try {
    const runs = db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number };
    return { sessions: listSessions(db).length, runs: runs.n };
  } finally {
    db.close();
  }
}

it.skipIf(!fs.existsSync(model))(
  'an unknown symbol: exit 1 at once with the refusal, no run and no session recorded',
  async () => {
    const server = await startSimExchange({ seed: 21 });
    cleanups.push(() => server.close());
    const dbFile = path.join(dir, 'unknown.db');
    // --duration 60m: only the refusal can end it in time; with --db the run would be recorded there.
    const { code, out } = await trade([
      '--symbol',
      'ETHUSDT',
      '--url',
      server.url,
      '--duration',
      '60m',
      '--db',
      dbFile,
    ]);
    expect(out).toMatch(
      /^trade: the exchange refused the subscription to ETHUSDT on linear \(error:handler not found,topic:orderbook\.50\.ETHUSDT.*\): check the symbol and --category .*; nothing was recorded$/m,
    );
    expect(out).not.toMatch(/reconnecting|paper trading|final equity/);
    expect(code).toBe(1);
    expect(rowsIn(dbFile)).toEqual({ sessions: 0, runs: 0 });
  },
  60_000,
);

it.skipIf(!fs.existsSync(model))(
  'a spot-only symbol on linear: the same, naming the category',
  async () => {
    const server = await startSimExchange(
      { seed: 22, symbol: 'ETHUSDT', startPrice: 3400, tickSize: '0.01' },
      { listings: { ETHUSDT: ['spot'] } },
    );
    cleanups.push(() => server.close());
    const { code, out } = await trade([
      '--symbol',
      'ETHUSDT',
      '--category',
      'linear',
      '--url',
      server.urlFor('linear'),
      '--duration',
      '60m',
      '--no-record',
    ]);
    expect(out).toMatch(/refused the subscription to ETHUSDT on linear .*check the symbol and --category/);
    expect(code).toBe(1);
  },
  60_000,
);
