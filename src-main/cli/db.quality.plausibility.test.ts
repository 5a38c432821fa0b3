// Implausible values in a real SQLite file: `l2desk db quality` names them (a session stored before the checks
// existed), and `l2desk import` refuses them, storing each refusal as a gap that the report counts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { importFiles } from '../importer/importFiles.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { createSession } from '../store/sessions.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { BYBIT_RECORDING as REC } from '../testing/bybitRecording.ts';
import { run } from './db.ts';

const YEAR_MS = 365.25 * 24 * 3_600_000;
const lines = fs.readFileSync(REC, 'utf8').split('\n').filter(Boolean);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2plaus-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function quality(dbFile: string): Promise<{ code: number; s: Record<string, unknown>; text: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const code = await run(['quality', '--db', dbFile, '--json']);
    const json = JSON.parse(String(log.mock.calls.at(-1)?.[0])) as { sessions: Record<string, unknown>[] };
    log.mockClear();
    await run(['quality', '--db', dbFile]);
    return { code, s: json.sessions[0], text: log.mock.calls.map((c) => String(c[0])).join('\n') };
  } finally {
    log.mockRestore();
  }
}

/** The recording with four values poisoned, as parsed messages (what an unchecked recorder stored). */
function poisoned(recvLagMs = 40, poison = true): MarketMessage[] {
  const out: MarketMessage[] = [];
  let deltas = 0;
  let trades = 0;
  for (const l of lines) {
    const obj = JSON.parse(l) as { ts: number };
    const f = parseRawMessage(obj, obj.ts + recvLagMs);
    if (f.type !== 'book' && f.type !== 'trades') continue;
    const m = f.msg;
    if (!poison) {
      out.push(m);
      continue;
    }
    if (m.kind === 'book' && m.type === 'delta' && ++deltas === 100 && m.bids.length > 0)
      m.bids[0] = [m.bids[0][0], 1e300];
    if (m.kind === 'book' && m.type === 'delta' && deltas === 300) m.ts += 100 * YEAR_MS;
    if (m.kind === 'trades') {
      trades++;
      if (trades === 3) m.trades[0] = { ...m.trades[0], price: 1e-28 };
      if (trades === 5) m.trades[0] = { ...m.trades[0], ts: 8.64e15 };
    }
    out.push(m);
  }
  return out;
}

describe('implausible values in stored and imported data', () => {
  function store(dbFile: string, msgs: MarketMessage[]): void {
    const db = openDb(dbFile);
    const sid = createSession(db, {
      source: 'bybit',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 200,
      tickSize: '0.1',
      startedAt: msgs[0].recvTs,
    });
    const w = new SessionWriter(db, sid);
    for (const m of msgs) w.writeMessage(m);
    w.close(msgs[msgs.length - 1].recvTs);
    db.close();
  }

  it('db quality reports values stored unchecked (size 1e300, price 1e-28, year 275760, 100 years ahead)', async () => {
    const dbFile = path.join(dir, 'old.db');
    store(dbFile, poisoned());
    const { code, s, text } = await quality(dbFile);
    expect(code).toBe(1);
    expect(s.implausible).toMatchObject({
      bookMessages: 2,
      trades: 2,
      byKind: { price: 1, size: 1, time: 2, tick: 0 },
    });
    const findings = s.findings as string[];
    expect(findings.some((f) => /2 book message\(s\) and 2 trade\(s\) with implausible values/.test(f))).toBe(
      true,
    );
    expect(text).toMatch(/implausible values: 2 book message\(s\), 2 trade\(s\)/);
    expect(text).not.toMatch(/no findings/);
  });

  it('a session on a simulator clock (30 days behind ours) has no time findings', async () => {
    const dbFile = path.join(dir, 'sim-clock.db');
    store(dbFile, poisoned(30 * 24 * 3_600_000, false));
    const { code, s } = await quality(dbFile);
    expect(s.implausible).toMatchObject({ bookMessages: 0, trades: 0 });
    expect(code).toBe(1); // latency p99 over a second: a finding, but not an implausible one
  });

  it('import refuses the same values: stored as implausible gaps, never as data', async () => {
    const edited = lines.map((l, i) => {
      const o = JSON.parse(l) as Record<string, unknown> & { data: unknown };
      if (i === 120 && o.type === 'delta') {
        const d = o.data as { b: string[][] };
        if (d.b.length > 0) d.b[0][1] = '1e300';
      }
      if (Array.isArray(o.data) && i > 200)
        (o.data as Record<string, unknown>[])[0].p = '0.0000000000000000000000000001';
      return JSON.stringify(o);
    });
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, edited.join('\n') + '\n');
    const dbFile = path.join(dir, 'imp.db');
    const db = openDb(dbFile);
    const res = await importFiles(db, [file], { category: 'linear' });
    expect(res.sessions).toHaveLength(1);
    const sid = res.sessions[0].sessionId;
    const gaps: string[] = [];
    for (const ev of readSession(db, sid)) {
      if (ev.kind === 'gap') gaps.push(`${ev.gap.reason}: ${ev.gap.detail}`);
      else if (ev.kind === 'book')
        for (const [, size] of [...ev.bids, ...ev.asks]) expect(size).toBeLessThan(1e12);
      else for (const t of ev.trades) expect(t.price).toBeGreaterThan(1000);
    }
    db.close();
    expect(
      gaps.filter((g) => /^implausible: delta u=\d+ \(line 121\) refused: implausible size/.test(g)),
    ).toHaveLength(1);
    expect(
      gaps.filter((g) => /^implausible: trades refused: implausible price/.test(g)).length,
    ).toBeGreaterThan(0);

    const { code, s } = await quality(dbFile);
    expect(code).toBe(1);
    expect(s.implausible).toMatchObject({ bookMessages: 0, trades: 0 });
    expect((s.refused as { implausible: number }).implausible).toBe(gaps.length);
  });
});
