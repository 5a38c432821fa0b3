// `collect --source sim`: a fresh random seed on every run (printed, stored in the session's seed column), and
// `--seed N` repeats the path exactly. Real simulator, real SQLite files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MODEL_SEED } from '../market/sim/simSeed.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { getSession } from '../store/sessions.ts';
import { run as runCollect } from './collect.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2seed-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Collects 20 simulated seconds; returns the printed seed, the stored one and the messages on the session's clock. */
async function collect(name: string, extra: string[] = []) {
  const dbFile = path.join(dir, `${name}.db`);
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  let code: number;
  try {
    code = await runCollect([
      '--source',
      'sim',
      '--speed',
      'max',
      '--duration',
      '20s',
      '--db',
      dbFile,
      '--quiet',
      ...extra,
    ]);
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
  expect(code).toBe(0);
  const printed = /random seed (\d+) \(repeat this path with --seed \1\)/.exec(err.join(''));
  const db = openDb(dbFile);
  try {
    const s = getSession(db, 1)!;
    const t0 = s.firstRecvTs ?? 0;
    // Wall-clock start differs per run: compare on the session's own clock.
    const text = [...readSession(db, 1)]
      .map((e) => {
        if (e.kind === 'gap') return 'gap';
        const rel = { ...e, ts: e.ts - t0, recvTs: e.recvTs - t0 };
        if (e.kind === 'book') return JSON.stringify({ ...rel, cts: e.cts - t0 });
        return JSON.stringify({ ...rel, trades: e.trades.map((t) => ({ ...t, ts: t.ts - t0 })) });
      })
      .join('\n');
    return { printed: printed ? Number(printed[1]) : null, stored: s.seed, meta: s.meta.seed, text };
  } finally {
    db.close();
  }
}

describe('collect --source sim: random seeds', () => {
  it('draws a fresh seed on every run, prints it and stores it with the session', async () => {
    const a = await collect('a');
    const b = await collect('b');
    expect(a.printed).not.toBeNull();
    expect(a.stored).toBe(a.printed);
    expect(a.meta).toBe(a.printed);
    expect(b.stored).toBe(b.printed);
    expect(a.stored).not.toBe(b.stored);
    expect(a.stored).not.toBe(DEFAULT_MODEL_SEED);
    expect(a.text.length).toBeGreaterThan(1000);
    expect(a.text).not.toBe(b.text);
  });

  it('--seed N twice stores the same path, and a printed seed repeats the run it came from', async () => {
    const a = await collect('s1', ['--seed', '77']);
    const b = await collect('s2', ['--seed', '77']);
    expect(a.stored).toBe(77);
    expect(b.stored).toBe(77);
    expect(b.text).toBe(a.text);
    const fresh = await collect('f1');
    const again = await collect('f2', ['--seed', String(fresh.printed)]);
    expect(again.text).toBe(fresh.text);
  });
});
