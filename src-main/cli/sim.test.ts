// `l2desk sim calibrate` on the real shared recording: its statistics beside the simulator's, a fitted parameter file
// that collect accepts, and clear refusals. Real SQLite, the real importer and simulator.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { readSimParamsFile, SimParamsError } from '../market/sim/simParamsFile.ts';
import { DEFAULT_SIM_PARAMS } from '../market/sim/simGenerator.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { UsageError } from './args.ts';
import { run as runCollect } from './collect.ts';
import { run as runImport } from './import.ts';
import { run as runSim } from './sim.ts';

const SAMPLE = path.join(
  PROJECT_ROOT,
  '..',
  'shared',
  'data',
  'bybit',
  'linear_BTCUSDT_orderbook200_trades.jsonl',
);
let dir: string;
let dbFile: string;

/** Runs a command in-process; returns its exit code and what it printed on stdout and stderr. */
async function capture(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const elog = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const ew = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err.push(String(c));
    return true;
  });
  try {
    const code = await f();
    return { code, out: out.join('\n'), err: err.join('') };
  } finally {
    log.mockRestore();
    elog.mockRestore();
    ew.mockRestore();
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2sim-'));
  dbFile = path.join(dir, 'real.db');
  const r = await capture(() => runImport(['--db', dbFile, SAMPLE]));
  expect(r.code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('l2desk sim calibrate', () => {
  it("prints the recording's statistics beside the simulator's, with the BTCUSDT bands", async () => {
    const r = await capture(() => runSim(['calibrate', '--db', dbFile, '--hours', '0.1', '--seed', '3']));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /session 1: import BTCUSDT depth 200, tick 0\.1; simulator: 0\.1 h from 65114\.\d+, random seed 3/,
    );
    // The recording: 414 book messages over 43.5 s, a one-tick spread throughout, median print 0.007 BTC.
    expect(r.out).toMatch(/book messages\/s\s+9\.5\s+\d+\.\d\s+35…50\.5/);
    expect(r.out).toMatch(/spread one tick \(share\)\s+1\.000\s+0\.9\d\d/);
    expect(r.out).toMatch(/trade size median\s+0\.0070/);
    expect(r.out).toMatch(/volatility \(bps\/√s, 10 s returns\)\s+0\.000\s+(0\.[5-9]|1\.[01])\d*/);
    expect(r.out).toContain('note: the session spans 44 s');
    expect(r.out).toContain('--set sim.book_rate_hz=10');
  });

  it('--write fits a parameter file (what the recording cannot tell is kept, with notes) that collect takes', async () => {
    const file = path.join(dir, 'fit.yaml');
    const r = await capture(() =>
      runSim([
        'calibrate',
        '--db',
        dbFile,
        '--hours',
        '0.1',
        '--seed',
        '3',
        '--rounds',
        '1',
        '--write',
        file,
        '--json',
      ]),
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as {
      session: { stats: { trade_size_p50: number } };
      fitted: { params: Record<string, number>; notes: string[] };
    };
    expect(json.session.stats.trade_size_p50).toBe(0.007);
    expect(json.fitted.notes.join('\n')).toMatch(/volatility kept: .*mid never moved/);
    const params = readSimParamsFile(file);
    expect(params).toEqual(json.fitted.params);
    expect(params.sigmaBps).toBe(DEFAULT_SIM_PARAMS.sigmaBps);
    expect(params.lambdaM).toBeLessThan(DEFAULT_SIM_PARAMS.lambdaM); // 1.3 prints/s in the recording
    // collect on the fitted simulator: another path than the built-in one from the same seed.
    const text = async (name: string, extra: string[]) => {
      const f = path.join(dir, `${name}.db`);
      const c = await capture(() =>
        runCollect([
          '--source',
          'sim',
          '--speed',
          'max',
          '--duration',
          '10s',
          '--seed',
          '5',
          '--db',
          f,
          ...extra,
        ]),
      );
      expect(c.code).toBe(0);
      const db = openDb(f);
      try {
        return [...readSession(db, 1)].filter((e) => e.kind === 'trades').length;
      } finally {
        db.close();
      }
    };
    expect(await text('fitted', ['--sim-params', file])).toBeLessThan(await text('builtin', []));
  });

  it('refuses a bad parameter file, a missing session and an unknown subcommand, saying what is wrong', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ sigmaBps: 0.8, sigmaBsp: 1 }));
    expect(() => readSimParamsFile(bad)).toThrow(SimParamsError);
    expect(() => readSimParamsFile(bad)).toThrow(/unknown simulator parameter "sigmaBsp"/);
    fs.writeFileSync(bad, 'phi: 0.9\n');
    expect(() => readSimParamsFile(bad)).toThrow(/phi must be a number between 0 and 0\.45, got 0\.9/);
    await expect(runSim(['calibrate', '--db', dbFile, '--sim-params', bad])).rejects.toThrow(UsageError);
    await expect(runSim(['calibrate', '--db', dbFile, '--session', '9'])).rejects.toThrow(/no session 9 in /);
    await expect(runSim(['fit', '--db', dbFile])).rejects.toThrow(/unknown sim command "fit"/);
  });
});
