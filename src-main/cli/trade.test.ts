import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { ExchangeSimServer } from '../market/exchangeSim/exchangeSimServer.ts';
import { simFeed } from '../market/exchangeSim/feeds.ts';
import { UsageError } from './args.ts';
import { run } from './trade.ts';

describe('l2desk trade', () => {
  it('refuses to run without --paper: there is no real-order path', async () => {
    await expect(run(['--source', 'sim', '--threshold', '1'])).rejects.toThrow(UsageError);
    await expect(run(['--source', 'sim'])).rejects.toThrow(/--paper/);
  });
  it('a replay needs a database', async () => {
    await expect(run(['--paper', '--source', 'replay'])).rejects.toThrow(/--db/);
  });
  it('rejects unknown options and a bad speed', async () => {
    await expect(run(['--paper', '--live'])).rejects.toThrow(/unknown option --live/);
    await expect(run(['--paper', '--speed', '0'])).rejects.toThrow(/--speed/);
  });
});

const model = path.join(PROJECT_ROOT, 'models', 'default.onnx');

describe('l2desk trade as a process', () => {
  // The bundled model is the model engineer's; without it this reports as skipped.
  it.skipIf(!fs.existsSync(model))('Ctrl-C stops cleanly: summary printed, exit code 0', async () => {
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
        'trade',
        '--paper',
        '--source',
        'sim',
        '--speed',
        '5',
        '--no-record',
        '--model',
        model,
      ],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (/paper trading BTCUSDT on sim/.test(out)) {
          clearInterval(t);
          setTimeout(() => {
            child.kill('SIGINT');
            resolve();
          }, 1500);
        }
      }, 50);
      child.on('exit', () => {
        clearInterval(t);
        reject(new Error(`exited early: ${out}`));
      });
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(out).toMatch(/stopping/);
    expect(out).toMatch(/stopped \(interrupted\): final equity 10000\.0000/);
    expect(code).toBe(0);
  });

  it.skipIf(!fs.existsSync(model))(
    'a live symbol with an unknown tick size (--symbol ADAUSDT on bybit) trades on the tick it infers',
    async () => {
      // The local Bybit-compatible server plays a DOGE-like market (tick 0.00001, ~0.15) 25x faster than real time.
      const server = await ExchangeSimServer.start({
        feed: simFeed({
          seed: 3,
          symbol: 'ADAUSDT',
          startPrice: 0.15,
          tickSize: '0.00001',
          levels: 200,
          bookRateHz: 50,
          startMs: Date.UTC(2026, 0, 7),
        }),
        speed: 25,
      });
      try {
        const child = spawn(
          process.execPath,
          [
            path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
            'trade',
            '--paper',
            '--source',
            'bybit',
            '--symbol',
            'ADAUSDT',
            '--url',
            server.url,
            '--duration',
            '60s',
            '--no-record',
            '--model',
            model,
          ],
          { cwd: PROJECT_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
        expect(out).toMatch(/paper trading ADAUSDT on bybit/);
        expect(out).toMatch(/tick size of ADAUSDT inferred from the first snapshot: 0\.00001/);
        expect(out).toMatch(/stopped \(duration reached\): final equity \d+\.\d{4}/);
        expect(out).not.toMatch(/Error|tick size must be/);
        expect(code).toBe(0);
      } finally {
        await server.close();
      }
    },
    30_000,
  );
});
