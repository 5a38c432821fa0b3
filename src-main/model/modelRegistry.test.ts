import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../store/db.ts';
import {
  getChampion,
  listDecisions,
  listModels,
  recordDecision,
  registerModel,
  setChampion,
  setStatus,
} from './modelRegistry.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-reg-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('modelRegistry', () => {
  it('registers models, keeps one champion per feature set and horizon, stores decisions', () => {
    const db = openDb(path.join(dir, 'r.db'));
    try {
      const base = { createdAt: 1000, featureSetVersion: 'l2f-1', horizonMs: 10_000, params: { rounds: 5 } };
      const a = registerModel(db, { ...base, path: path.join(dir, 'a.onnx'), metrics: { r2: 0.01 } });
      const b = registerModel(db, {
        ...base,
        createdAt: 2000,
        path: path.join(dir, 'b.onnx'),
        metrics: { r2: 0.02 },
      });
      const other = registerModel(db, {
        ...base,
        horizonMs: 30_000,
        path: path.join(dir, 'c.onnx'),
        metrics: {},
      });
      expect(listModels(db).map((m) => [m.name, m.status])).toEqual([
        ['a', 'challenger'],
        ['c', 'challenger'],
        ['b', 'challenger'],
      ]);
      setChampion(db, a);
      setChampion(db, other);
      expect(getChampion(db, 'l2f-1', 10_000)?.id).toBe(a);
      setChampion(db, b);
      expect(getChampion(db, 'l2f-1', 10_000)?.id).toBe(b);
      expect(listModels(db, { status: 'retired' }).map((m) => m.id)).toEqual([a]);
      // a champion of another horizon is untouched
      expect(getChampion(db, 'l2f-1', 30_000)?.id).toBe(other);
      expect(getChampion(db, 'l2f-1', 10_000)?.metrics).toEqual({ r2: 0.02 });
      // the database itself refuses a second champion
      expect(() => db.prepare(`UPDATE models SET status = 'champion' WHERE id = ?`).run(a)).toThrow(/UNIQUE/);
      setStatus(db, a, 'rejected');
      expect(() => setChampion(db, 999)).toThrow(/not registered/);
      recordDecision(db, {
        decidedAt: 5,
        championId: a,
        challengerId: b,
        promoted: true,
        reason: 'r2 0.02 > 0.01',
        championMetrics: { r2: 0.01 },
        challengerMetrics: { r2: 0.02 },
        evalFrom: 1,
        evalTo: 2,
      });
      expect(listDecisions(db)).toMatchObject([
        { championId: a, challengerId: b, promoted: true, championMetrics: { r2: 0.01 }, evalTo: 2 },
      ]);
    } finally {
      db.close();
    }
  });
});
