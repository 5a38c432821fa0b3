// A multi-entry zip cut short (an interrupted download) at several points, with sizes in the local headers or
// in data descriptors: every complete entry before the cut is imported whole, the entry that was cut up to its
// last whole line, and the report names the truncation and the cut entry.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDb } from '../store/db.ts';
import { getSession, type SessionInfo } from '../store/sessions.ts';
import type { Db } from '../store/db.ts';
import { BYBIT_RECORDING as REC } from '../testing/bybitRecording.ts';
import { sqliteSessionStore } from '../store/sqliteSessionStore.ts';
import { bookAt } from './book.ts';
import { importFiles, run as runImport } from './import.ts';
import { makeZip } from './testing/zipWriter.ts';

type Lv = [number, number];

/** Independent reference: a Map fold of the book lines (no importer or book code). */
function fold(lines: string[], depth: number): { ts: number; bids: Lv[]; asks: Lv[] } {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let ts = 0;
  for (const line of lines) {
    const o = JSON.parse(line) as {
      topic: string;
      type: string;
      ts: number;
      data: { b: string[][]; a: string[][] };
    };
    if (!o.topic.startsWith('orderbook.')) continue;
    if (o.type === 'snapshot') {
      bids.clear();
      asks.clear();
    }
    for (const [side, levels] of [
      [bids, o.data.b],
      [asks, o.data.a],
    ] as const)
      for (const [p, s] of levels) {
        if (Number(s) === 0) side.delete(Number(p));
        else side.set(Number(p), Number(s));
      }
    ts = o.ts;
  }
  const top = (m: Map<number, number>, desc: boolean): Lv[] =>
    [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, depth);
  return { ts, bids: top(bids, true), asks: top(asks, false) };
}

let dir: string;
/** Entry name → its lines: the real recording as BTCUSDT, as ETHUSDT, and its first 100 lines as SOLUSDT. */
const entries: Array<{ name: string; symbol: string; lines: string[] }> = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2import-zipcut-'));
  const rec = fs
    .readFileSync(REC, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const as = (symbol: string, lines: string[]) => lines.map((l) => l.replaceAll('BTCUSDT', symbol));
  entries.push(
    { name: '2026-08-09_BTCUSDT_ob200.data', symbol: 'BTCUSDT', lines: rec },
    { name: '2026-08-09_ETHUSDT_ob200.data', symbol: 'ETHUSDT', lines: as('ETHUSDT', rec) },
    { name: '2026-08-09_SOLUSDT_ob200.data', symbol: 'SOLUSDT', lines: as('SOLUSDT', rec.slice(0, 100)) },
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function importCut(zip: Buffer, cutAt: number) {
  const file = path.join(dir, `cut${++n}.zip`);
  fs.writeFileSync(file, zip.subarray(0, cutAt));
  const db = openDb(path.join(dir, `cut${n}.db`));
  const res = await importFiles(db, [file], { category: 'linear' });
  return { res, db, file };
}

/** The session of `symbol` holds exactly the entry's first `k` lines (all of them when `whole`). */
async function checkEntry(
  db: Db,
  sessions: SessionInfo[],
  e: (typeof entries)[number],
  whole: boolean,
): Promise<number> {
  const s = sessions.find((x) => x.symbol === e.symbol)!;
  expect(s, e.symbol).toBeDefined();
  const k = s.messages;
  if (whole) expect(k).toBe(e.lines.length);
  else expect(k).toBeLessThan(e.lines.length);
  const b = (await bookAt(sqliteSessionStore(db, 'test.db'), s, undefined, 20))!;
  expect({ ts: b.ts, bids: b.bids, asks: b.asks }).toEqual(fold(e.lines.slice(0, k), 20));
  return k;
}

describe('import: a multi-entry zip cut short', () => {
  for (const dataDescriptor of [false, true]) {
    const kind = dataDescriptor ? 'sizes in data descriptors' : 'sizes in local headers';
    it(`${kind}: cut inside the second entry, inside the third's header, inside the central directory`, async () => {
      const zip = makeZip(
        entries.map((e) => ({ name: e.name, data: Buffer.from(e.lines.join('\n') + '\n') })),
        { dataDescriptor },
      );
      const at = (i: number) => zip.indexOf(Buffer.from(entries[i].name)) - 30; // local header offsets
      const cdAt = zip.readUInt32LE(zip.length - 22 + 16); // central directory offset, from its end record
      expect(at(0)).toBe(0);
      expect(cdAt).toBeGreaterThan(at(2));

      // 1. Inside the second entry's data, at two depths: the first entry whole, the second up to the cut.
      let lastK = 0;
      for (const frac of [0.3, 0.8]) {
        const cut = Math.floor(at(1) + 60 + (at(2) - at(1) - 60) * frac);
        const { res, db } = await importCut(zip, cut);
        try {
          expect(res.truncatedZips).toHaveLength(1);
          expect(res.truncatedZips[0]).toMatchObject({
            complete: [entries[0].name],
            cutEntry: entries[1].name,
          });
          const sessions = res.sessions.map((s) => getSession(db, s.sessionId)!);
          expect(sessions.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
          await checkEntry(db, sessions, entries[0], true);
          const k = await checkEntry(db, sessions, entries[1], false);
          expect(k).toBeGreaterThan(lastK); // a later cut keeps more
          lastK = k;
          // The report: the archive's problem first, and the cut entry's read error.
          expect(res.listedBadLines[0]).toMatchObject({
            line: 0,
            reason: expect.stringMatching(/truncated zip/),
          });
          expect(res.listedBadLines.some((b) => b.source.endsWith(entries[1].name) && b.line > 0)).toBe(true);
        } finally {
          db.close();
        }
      }
      expect(lastK).toBeGreaterThan(100);

      // 2. Inside the third entry's local header: two whole entries, nothing of the third.
      {
        const { res, db } = await importCut(zip, at(2) + 12);
        try {
          expect(res.truncatedZips[0]).toMatchObject({
            complete: [entries[0].name, entries[1].name],
            cutEntry: expect.stringMatching(/header of the next entry/),
          });
          const sessions = res.sessions.map((s) => getSession(db, s.sessionId)!);
          expect(sessions.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
          await checkEntry(db, sessions, entries[0], true);
          await checkEntry(db, sessions, entries[1], true);
        } finally {
          db.close();
        }
      }

      // 3. Inside the central directory: every entry whole, none cut.
      {
        const { res, db } = await importCut(zip, cdAt + 20);
        try {
          expect(res.truncatedZips[0]).toMatchObject({ complete: entries.map((e) => e.name) });
          expect(res.truncatedZips[0].cutEntry).toBeUndefined();
          const sessions = res.sessions.map((s) => getSession(db, s.sessionId)!);
          for (const e of entries) await checkEntry(db, sessions, e, true);
        } finally {
          db.close();
        }
      }

      // 4. Inside the first entry: its whole lines before the cut.
      {
        const { res, db } = await importCut(zip, Math.floor(at(1) / 2));
        try {
          expect(res.truncatedZips[0]).toMatchObject({ complete: [], cutEntry: entries[0].name });
          const sessions = res.sessions.map((s) => getSession(db, s.sessionId)!);
          expect(await checkEntry(db, sessions, entries[0], false)).toBeGreaterThan(50);
        } finally {
          db.close();
        }
      }
    });
  }

  it('the CLI says the archive was truncated and which entry was cut', async () => {
    const zip = makeZip(entries.map((e) => ({ name: e.name, data: Buffer.from(e.lines.join('\n')) })));
    const file = path.join(dir, 'cli.zip');
    const at2 = zip.indexOf(Buffer.from(entries[1].name)) - 30;
    fs.writeFileSync(file, zip.subarray(0, at2 + 5000));
    const errs: string[] = [];
    const out: string[] = [];
    const err = vi.spyOn(console, 'error').mockImplementation((s: string) => void errs.push(s));
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    try {
      expect(await runImport(['--db', path.join(dir, 'cli.db'), '--quiet', file])).toBe(0);
    } finally {
      err.mockRestore();
      log.mockRestore();
    }
    expect(out).toHaveLength(2);
    expect(errs.join('\n')).toMatch(
      /cli\.zip is a truncated zip: 1 complete entry read; entry 2026-08-09_ETHUSDT_ob200\.data was cut short/,
    );
  });
});
