import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { listDecisions } from '../model/modelRegistry.ts';
import { writeConstantModel } from '../model/testing/constantModel.ts';
import { openDb } from '../store/db.ts';
import { UsageError } from './args.ts';
import { run } from './trade.ts';
import { startSimExchange } from '../market/exchangeSim/testing/simExchangeHarness.ts';

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
      const server = await startSimExchange(
        { seed: 3, symbol: 'ADAUSDT', startPrice: 0.15, tickSize: '0.00001', startMs: Date.UTC(2026, 0, 7) },
        { speed: 25 },
      );
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
            // A live source's run lasts this long on the receive (wall) clock, whatever the market's speed (issue 8).
            '--duration',
            '6s',
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
        // exchange-sim answers instruments-info like Bybit, so the grid comes from there before any snapshot;
        // that is information, printed as a note, never as a warning
        expect(out).toMatch(/^note: tick size of ADAUSDT from the exchange's instrument info: 0\.00001/m);
        expect(out).not.toMatch(/^warning: .*(instrument info|tick size of|lot size of)/m);
        expect(out).not.toMatch(/inferred from the first snapshot/);
        expect(out).toMatch(/stopped \(duration reached\): final equity \d+\.\d{4}/);
        expect(out).toMatch(
          /^costs: shortfall [+-]?\d+\.\d{3} bps \(latency [+-]?\d+\.\d{3}, spread\+walk [+-]?\d+\.\d{3}\), fees -?\d+\.\d{3} bps; alpha -?\d+\.\d\d → net -?\d+\.\d\d/m,
        );
        expect(out).not.toMatch(/Error|tick size must be/);
        expect(code).toBe(0);
      } finally {
        await server.close();
      }
    },
    30_000,
  );
});

describe('l2desk trade on an exchange it cannot reach', () => {
  // A port nobody listens on: the source keeps retrying with backoff, so its start never completes. The time limits
  // are a loaded CI machine's (a process start and model load took most of the old 30 s there once), not the runs'.
  const closedPortUrl = async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as net.AddressInfo;
    await new Promise<void>((r) => srv.close(() => r()));
    return `ws://127.0.0.1:${port}/v5/public/linear`;
  };
  const start = (url: string, extra: string[]) => {
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
        'trade',
        '--paper',
        '--source',
        'bybit',
        '--url',
        url,
        '--no-record',
        '--model',
        model,
        ...extra,
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    return { child, exit, out: () => out };
  };

  it.skipIf(!fs.existsSync(model))(
    '--duration ends the run although no connection ever succeeded, saying no data came',
    async () => {
      const run = start(await closedPortUrl(), ['--duration', '3s']);
      const code = await run.exit;
      expect(run.out()).toMatch(/^warning: .*reconnecting in \d+ ms/m);
      expect(run.out()).toMatch(/stopped \(duration reached\): final equity 10000\.0000/);
      expect(run.out()).toMatch(/no market data received from the bybit source/);
      expect(code).toBe(1);
    },
    90_000,
  );

  it.skipIf(!fs.existsSync(model))(
    'Ctrl-C stops it while it is still trying to connect',
    async () => {
      // Interrupted the moment the first reconnect is said, when the run moves from waiting for the feed to trading:
      // a signal there was once ignored (the run went on retrying) or met by the default action (no summary). Three
      // runs at once, since the window was narrow.
      const runs = await Promise.all([0, 1, 2].map(async () => start(await closedPortUrl(), [])));
      await Promise.all(
        runs.map(async (run) => {
          await vi.waitFor(() => expect(run.out()).toMatch(/reconnecting in/), {
            timeout: 40_000,
            interval: 5,
          });
          run.child.kill('SIGINT');
          const code = await run.exit;
          expect(run.out()).toMatch(/stopped \(interrupted\)/);
          expect(code).toBe(0);
        }),
      );
    },
    90_000,
  );

  it.skipIf(!fs.existsSync(model))(
    '--duration 30d (beyond setTimeout’s 24.8-day limit) keeps it running until Ctrl-C',
    async () => {
      const run = start(await closedPortUrl(), ['--duration', '30d']);
      await vi.waitFor(() => expect(run.out()).toMatch(/reconnecting in/), { timeout: 40_000 });
      await new Promise((r) => setTimeout(r, 500));
      run.child.kill('SIGINT');
      expect(await run.exit).toBe(0);
      expect(run.out()).toMatch(/stopped \(interrupted\)/);
    },
    90_000,
  );

  it.skipIf(!fs.existsSync(model))(
    'a gap is printed once when it opens and once, as resynced, when it closes',
    async () => {
      const server = await startSimExchange({ seed: 4 }, { speed: 1 });
      try {
        // Stopped once the gap has closed (Ctrl-C), not at a fixed duration a loaded machine could end too soon.
        const run = start(server.url, ['--duration', '60s']);
        await vi.waitFor(() => expect(server.stats.connections).toBeGreaterThan(0), { timeout: 10_000 });
        await new Promise((r) => setTimeout(r, 1000));
        server.inject('gap');
        await vi.waitFor(() => expect(run.out()).toMatch(/GAP sequence closed/), { timeout: 20_000 });
        await new Promise((r) => setTimeout(r, 300));
        run.child.kill('SIGINT');
        expect(await run.exit).toBe(0);
        const out = run.out();
        expect(out.match(/GAP sequence: .*trading paused/g)).toHaveLength(1);
        expect(out).toMatch(/GAP sequence closed: book resynced after \d+ ms/);
      } finally {
        await server.close();
      }
    },
    90_000,
  );
});

describe('l2desk trade --paper with live retraining', () => {
  // A real run: the simulator feeds the engine (at 20x: the challenger's training in the worker must end well before
  // the 9 min of sim time do, on a loaded machine too; at 30x a loaded CI run once swapped too late) and a real SQLite file; every 5 min of sim time a challenger is
  // trained in the worker on the stored feed. The champion is deliberately poor (always +50 bps, far outside the labels' spread)
  // so that the challenger wins on the held-out newest data whatever the market, and is swapped in while the engine keeps
  // deciding. The simulator's random seed is fixed so the run is the same every time.
  it('stores a decision with both models’ metrics and keeps deciding across the swap', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2trade-rt-'));
    try {
      const dbFile = path.join(dir, 'live.db');
      const bad = path.join(dir, 'bad.onnx');
      writeConstantModel(bad, 50, 'bad');
      const cfg = path.join(dir, 'config.yaml');
      fs.writeFileSync(
        cfg,
        [
          'retrain: { every: 5m, window: 5m }',
          'features: { decision_interval: 500ms }',
          // a 5 min window: far fewer horizons than the default training minimum (200, 34 min of data)
          'train: { rounds: 30, folds: 2, early_stopping_rounds: 10, min_samples_leaf: 20, min_horizons: 10 }',
          'tuning: { trials: 0 }',
        ].join('\n'),
      );
      const lines: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
        lines.push(a.map(String).join(' '));
      });
      let code: number;
      try {
        code = await run([
          '--paper',
          '--source',
          'sim',
          '--seed',
          '3',
          '--speed',
          '20',
          '--duration',
          '9m',
          '--db',
          dbFile,
          '--model',
          bad,
          '--config',
          cfg,
          '--quiet',
        ]);
      } finally {
        spy.mockRestore();
      }
      expect(code).toBe(0);
      if (process.env.L2_DEBUG) console.log(lines.join('\n'));
      const decisionLine = lines.find((l) => /^retrain #\d+ at /.test(l));
      expect(decisionLine, lines.join('\n')).toMatch(
        /PROMOTED .*champion mse .* challenger mse .*trained on \[/,
      );
      // The round learnt from the feed's rows built as it was stored, not from a replay of the recorded session.
      expect(lines.join('\n')).toMatch(/the features of session \d+ come from memory \(\d+ rows\)/);
      const swap = lines.map((l) => /now trading with .* \(from (.+)\)$/.exec(l)).find((m) => m);
      expect(swap, lines.join('\n')).toBeTruthy();
      const swapAt = Date.parse((swap as RegExpExecArray)[1]);

      const db = openDb(dbFile, { mustExist: true });
      try {
        const [dec] = listDecisions(db);
        expect(dec.promoted).toBe(true);
        const champ = dec.championMetrics as Record<string, number>;
        const chall = dec.challengerMetrics as Record<string, number>;
        // (a constant champion has no rank correlation: its IC is stored as null)
        for (const m of [champ, chall])
          for (const k of ['mse', 'r2', 'hit_rate', 'n']) expect(m[k]).toEqual(expect.any(Number));
        expect(chall.ic).toEqual(expect.any(Number));
        expect(chall.mse).toBeLessThan(champ.mse);
        expect(chall.trainTo + 10_000).toBeLessThanOrEqual(dec.evalFrom as number);
        expect(dec.evalTo).toBe(dec.decidedAt);
        // The run's predictions: the poor champion's constant before the swap, the challenger's after, and no
        // decision dropped around it (one prediction per 500 ms grid point once the features are warm).
        const runId = (db.prepare('SELECT max(id) AS id FROM runs').get() as { id: number }).id;
        const preds = db
          .prepare('SELECT ts, value FROM predictions WHERE run_id = ? ORDER BY ts')
          .all(runId) as { ts: number; value: number }[];
        const before = preds.filter((p) => p.ts < dec.decidedAt);
        const after = preds.filter((p) => p.ts > swapAt);
        expect(before.length).toBeGreaterThan(300);
        expect(before.every((p) => Math.abs(p.value - 50) < 1e-6)).toBe(true);
        expect(after.length).toBeGreaterThan(20);
        expect(after.some((p) => Math.abs(p.value - 50) > 1e-3)).toBe(true);
        const around = preds.filter((p) => p.ts >= dec.decidedAt - 10_000);
        for (let i = 1; i < around.length; i++) expect(around[i].ts - around[i - 1].ts).toBe(500);
        // The swap is stored with the run (runs.model stays the starting model), and it attributes every
        // prediction: the champion's constant before from_ts, the challenger's from it on.
        const runRow = db.prepare('SELECT model FROM runs WHERE id = ?').get(runId) as { model: string };
        expect(runRow.model).toBe(bad);
        const swaps = db
          .prepare('SELECT from_ts, model, previous FROM run_models WHERE run_id = ? ORDER BY from_ts')
          .all(runId) as { from_ts: number; model: string; previous: string }[];
        expect(swaps).toHaveLength(1);
        const challengerPath = (
          db.prepare('SELECT path FROM models WHERE id = ?').get(dec.challengerId) as { path: string }
        ).path;
        expect(swaps[0]).toEqual({ from_ts: swapAt, model: challengerPath, previous: bad });
        expect(fs.existsSync(swaps[0].model)).toBe(true);
        expect(preds.filter((p) => p.ts < swapAt).every((p) => Math.abs(p.value - 50) < 1e-6)).toBe(true);
        const byChallenger = preds.filter((p) => p.ts >= swapAt);
        expect(byChallenger.length).toBeGreaterThan(20);
        expect(byChallenger.every((p) => Math.abs(p.value - 5) > 1e-6)).toBe(true);
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
