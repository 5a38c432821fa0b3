// Importing a file whose content was imported before is refused (no duplicate sessions) unless --force.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importFiles } from '../importer/importFiles.ts';
import { openDb } from '../store/db.ts';
import { run } from './import.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2imp-dup-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function bookLines(firstPrice: number): string {
  const snap = {
    topic: 'orderbook.50.BTCUSDT',
    type: 'snapshot',
    ts: 1_700_000_000_000,
    data: {
      s: 'BTCUSDT',
      b: [[String(firstPrice), '1']],
      a: [[String(firstPrice + 0.1), '2']],
      u: 1,
      seq: 10,
    },
    cts: 1_700_000_000_000,
  };
  const delta = {
    ...snap,
    type: 'delta',
    ts: 1_700_000_000_100,
    data: { s: 'BTCUSDT', b: [[String(firstPrice - 0.1), '3']], a: [], u: 2, seq: 11 },
  };
  return `${JSON.stringify(snap)}\n${JSON.stringify(delta)}\n`;
}

async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  const errors: string[] = [];
  const origErr = console.error;
  const origLog = console.log;
  console.error = (...a: unknown[]) => void errors.push(a.join(' '));
  console.log = () => undefined;
  try {
    return { value: await fn(), err: errors.join('\n') };
  } finally {
    console.error = origErr;
    console.log = origLog;
  }
}

const sessionCount = (file: string) => {
  const db = openDb(file);
  try {
    return (db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('import of the same content twice', () => {
  const a = path.join(dir, 'a.jsonl');
  fs.writeFileSync(a, bookLines(50_000));
  const copy = path.join(dir, 'copy-of-a.jsonl');
  fs.copyFileSync(a, copy);
  const b = path.join(dir, 'b.jsonl');
  fs.writeFileSync(b, bookLines(50_001));

  it('is refused with the earlier sessions named, exit 1, and no session added (also under another name)', async () => {
    const db = path.join(dir, 'cli.db');
    expect((await quietly(() => run(['--db', db, '--quiet', a]))).value).toBe(0);
    expect(sessionCount(db)).toBe(1);
    const again = await quietly(() => run(['--db', db, '--quiet', copy]));
    expect(again.value).toBe(1);
    expect(again.err).toMatch(/imported before \(same content\) as session 1: skipped\. Add --force/);
    expect(sessionCount(db)).toBe(1);
  });

  it('--force imports it again; other content is imported as usual', async () => {
    const db = path.join(dir, 'force.db');
    expect((await quietly(() => run(['--db', db, '--quiet', a]))).value).toBe(0);
    expect((await quietly(() => run(['--db', db, '--quiet', '--force', a]))).value).toBe(0);
    expect((await quietly(() => run(['--db', db, '--quiet', b]))).value).toBe(0);
    expect(sessionCount(db)).toBe(3);
  });

  it('importFiles lists the duplicate and imports the rest of the files', async () => {
    const file = path.join(dir, 'api.db');
    const db = openDb(file);
    try {
      await importFiles(db, [a], { category: 'linear' });
      const res = await importFiles(db, [copy, b], { category: 'linear' });
      expect(res.duplicates).toEqual([{ file: copy, sessions: [1] }]);
      expect(res.sessions.map((s) => s.sessionId)).toEqual([2]);
    } finally {
      db.close();
    }
  });
});
