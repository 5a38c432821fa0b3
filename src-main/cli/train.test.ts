// `l2desk train` end to end through the real CLI (bin/l2desk.mjs, so the trainer worker starts the way users
// start it): sim data collected into a real SQLite file, a model trained, exported, loadable and registered.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { listModels } from '../model/modelRegistry.ts';
import { Predictor } from '../model/predictor.ts';
import { openDb } from '../store/db.ts';
import { run as runTrain } from './train.ts';

const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
let dir: string;
let dbFile: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2train-'));
  dbFile = path.join(dir, 'sim.db');
  const r = await cli([
    'collect',
    '--source',
    'sim',
    '--speed',
    'max',
    '--duration',
    '25m',
    '--db',
    dbFile,
    '--quiet',
  ]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('l2desk train', () => {
  it('--out naming an existing file is refused before the dataset is built', async () => {
    const file = path.join(dir, 'not-a-folder');
    fs.writeFileSync(file, 'x');
    await expect(runTrain(['--db', dbFile, '--out', file])).rejects.toThrow(/--out .* is a file/);
  });

  it('--json trains, exports ONNX + JSON, registers the model and reports validation metrics', async () => {
    const out = path.join(dir, 'out');
    const r = await cli([
      'train',
      '--db',
      dbFile,
      '--horizon',
      '10s',
      '--trials',
      '2',
      '--rounds',
      '60',
      '--out',
      out,
      '--name',
      'm1',
      // 25 minutes of data are 150 horizons of 10 s: fewer than the default minimum, enough for this test
      '--set',
      'train.min_horizons=100',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const rep = JSON.parse(lines[0]) as Record<string, unknown>;
    for (const k of ['r2', 'ic', 'hit_rate']) {
      expect(Number.isFinite(rep[k]), k).toBe(true);
      // a 95% interval beside each, around it
      const ci = rep[`${k}_ci`] as [number, number];
      expect(ci, k).toHaveLength(2);
      expect(ci[0], k).toBeLessThanOrEqual(rep[k] as number);
      expect(ci[1], k).toBeGreaterThanOrEqual(rep[k] as number);
    }
    expect(rep.n_train as number).toBeGreaterThan(500);
    expect(rep.n_valid as number).toBeGreaterThan(100);
    expect(rep.model).toBe(path.join(out, 'm1.onnx'));
    expect(rep.trials).toBe(2);
    // the progress bar went to stderr, not stdout
    expect(r.stderr).toMatch(/building dataset|round/);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'm1.json'), 'utf8'));
    expect(meta.feature_set).toEqual({ version: FEATURE_SET.version, names: [...FEATURE_SET.names] });
    expect(meta.label.horizon_ms).toBe(10_000);
    expect(meta.training.to_ts).toBeGreaterThan(meta.training.from_ts);
    const p = await Predictor.load(rep.model as string, FEATURE_SET);
    try {
      expect(Number.isFinite(await p.predict(new Float32Array(FEATURE_SET.names.length)))).toBe(true);
    } finally {
      await p.close();
    }
    const db = openDb(dbFile);
    try {
      const models = listModels(db);
      expect(models.map((m) => [m.name, m.status, m.horizonMs])).toEqual([['m1', 'challenger', 10_000]]);
      expect(models[0].metrics.r2).toBe(rep.r2);
    } finally {
      db.close();
    }
  });

  it('refuses data spanning fewer independent horizons than train.min_horizons, saying how much more to collect', async () => {
    const out = path.join(dir, 'short');
    const r = await cli([
      'train',
      '--db',
      dbFile,
      '--out',
      out,
      '--name',
      's',
      '--decision-interval',
      '100ms',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /training needs at least 34 minutes of data \(200 independent 10 s horizons\); session \d+ covers 2\d minutes \(1[45]\d horizons\): collect about \d+ minutes more/,
    );
    // no advice that only adds overlapping rows, and nothing written
    expect(r.stderr).not.toMatch(/decision.interval|l2desk collect/);
    expect(fs.existsSync(path.join(out, 's.onnx'))).toBe(false);
    expect(fs.existsSync(path.join(out, 's.json'))).toBe(false);
  });

  it.each([
    { args: ['--session', '99'], code: 1, re: /session 99 is not in/ },
    { args: ['--horizon', 'soon'], code: 2, re: /--horizon: "soon" is not a duration/ },
    { args: ['--trials', '-1'], code: 2, re: /--trials must be an integer >= 0/ },
    { args: ['--bogus'], code: 2, re: /unknown option --bogus/ },
  ])('refuses $args with exit code $code', async ({ args, code, re }) => {
    const r = await cli(['train', '--db', dbFile, '--out', path.join(dir, 'bad'), ...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(re);
    expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
  });
});
