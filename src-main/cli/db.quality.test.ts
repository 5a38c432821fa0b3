// `l2desk db quality` on the real Bybit recording imported into a real SQLite file: clean as recorded; with one
// delta cut out and a trade id repeated, the report names both and the exit code says so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeSimSession } from '../backtest/simSession.ts';
import { openDb } from '../store/db.ts';
import { BYBIT_RECORDING as REC } from '../testing/bybitRecording.ts';
import { UsageError } from './args.ts';
import { run } from './db.ts';
import { importFiles } from './import.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2quality-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function importLines(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const dbFile = path.join(dir, `${name}.db`);
  const db = openDb(dbFile);
  try {
    await importFiles(db, [file], { category: 'linear' });
  } finally {
    db.close();
  }
  return dbFile;
}

async function quality(
  dbFile: string,
): Promise<{ code: number; json: { sessions: Array<Record<string, unknown>> } }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const code = await run(['quality', '--db', dbFile, '--json']);
    return { code, json: JSON.parse(String(log.mock.calls.at(-1)?.[0])) };
  } finally {
    log.mockRestore();
  }
}

describe('l2desk db quality', () => {
  const lines = fs.readFileSync(REC, 'utf8').split('\n').filter(Boolean);

  it('the recording as Bybit sent it: no findings, exit code 0', async () => {
    const { code, json } = await quality(await importLines('clean', lines));
    expect(code).toBe(0);
    expect(json.sessions).toHaveLength(1);
    expect(json.sessions[0]).toMatchObject({
      symbol: 'BTCUSDT',
      replayGaps: 0,
      crossed: 0,
      duplicateTradeIds: 0,
      tradesThroughBook: 0,
      latencyMs: null, // an imported dump has only the exchange's clock
      findings: [],
    });
    expect(json.sessions[0].snapshots).toBeGreaterThanOrEqual(1);
  });

  it('a delta cut out and a trade message repeated: both named, exit code 1', async () => {
    const deltas = lines.flatMap((l, i) => (l.includes('"type":"delta"') ? [i] : []));
    const cut = deltas[Math.floor(deltas.length / 2)];
    const tradeLine = lines.findIndex((l) => l.includes('"publicTrade.'));
    const edited = lines.filter((_, i) => i !== cut);
    edited.splice(tradeLine + 1, 0, lines[tradeLine]);
    const { code, json } = await quality(await importLines('faulty', edited));
    expect(code).toBe(1);
    const s = json.sessions[0];
    expect(s.replayGaps).toBe(1);
    expect(s.duplicateTradeIds).toBeGreaterThan(0);
    const findings = s.findings as string[];
    expect(findings.some((f) => /invalid .* of the time \(1 sequence break/.test(f))).toBe(true);
    expect(findings.some((f) => /duplicated trade id/.test(f))).toBe(true);
  });

  it('refuses a bad --silence and reports a missing session', async () => {
    const dbFile = await importLines('one', lines.slice(0, 50));
    await expect(run(['quality', '--db', dbFile, '--silence', 'soon'])).rejects.toThrow(UsageError);
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await run(['quality', '--db', dbFile, '--session', '9'])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/no session 9/);
    } finally {
      err.mockRestore();
    }
  });

  it('an empty file (no L2 Desk tables) is "no sessions", not an SQL error', async () => {
    const dbFile = path.join(dir, 'empty.db');
    fs.writeFileSync(dbFile, '');
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await run(['quality', '--db', dbFile])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/no sessions in .*empty\.db/);
    } finally {
      err.mockRestore();
    }
  });

  it('check on a file too damaged to open answers "integrity FAILED" (exit 1), not "run db check"', async () => {
    const dbFile = await importLines('cut', lines);
    for (const f of [`${dbFile}-wal`, `${dbFile}-shm`]) fs.rmSync(f, { force: true });
    fs.truncateSync(dbFile, Math.floor(fs.statSync(dbFile).size / 2));
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await run(['check', '--db', dbFile])).toBe(1);
      const msg = String(err.mock.calls.at(-1)?.[0]);
      expect(msg).toMatch(/integrity FAILED.*corrupt/);
      expect(msg).not.toMatch(/run `l2desk db check/);
    } finally {
      err.mockRestore();
    }
  });

  it('one-clock data that was not imported (sim --speed max) is not called imported', async () => {
    const dbFile = await importLines('sim', lines.slice(0, 50));
    const db = openDb(dbFile);
    db.prepare("UPDATE sessions SET source = 'sim'").run();
    db.close();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await run(['quality', '--db', dbFile]);
      const out = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(out).toMatch(/feed latency n\/a \(no separate receive clock: sim data on one clock\)/);
    } finally {
      log.mockRestore();
    }
  });

  it('a simulated session whose market clock runs hours ahead (sim --speed max) is judged by its own clock', async () => {
    // `collect --source sim --speed max --duration 2h` stamps its second hour more than an hour after the wall clock.
    const dbFile = path.join(dir, 'ahead.db');
    const db = openDb(dbFile);
    const ahead = Date.now() + 2 * 3_600_000;
    writeSimSession(db, { seed: 5, durationMs: 2 * 60_000, startMs: ahead });
    db.close();
    const sim = await quality(dbFile);
    expect(sim.json.sessions[0]).toMatchObject({ findings: [] });
    expect(sim.code).toBe(0);
    // Recorded data from the future is still refused: a live feed's clock cannot be two hours ahead of ours.
    const db2 = openDb(dbFile);
    db2.prepare("UPDATE sessions SET source = 'bybit'").run();
    db2.close();
    const live = await quality(dbFile);
    expect(live.code).toBe(1);
    expect(JSON.stringify(live.json.sessions[0].findings)).toMatch(/ahead of the wall clock/);
  });
});
