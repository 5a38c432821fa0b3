// The models table: every trained model file is registered with its metrics and parameters; one champion per
// (feature set, horizon) is the model in use, challengers wait, rejected ones stay for the record. Retraining
// decisions (champion vs challenger on the same out-of-sample window) are stored with both models' metrics.
import path from 'node:path';
import type { Db } from '../store/db.ts';

export type ModelStatus = 'champion' | 'challenger' | 'rejected' | 'retired';

export interface ModelRecord {
  id: number;
  path: string;
  name: string;
  createdAt: number;
  featureSetVersion: string;
  horizonMs: number;
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  status: ModelStatus;
}

export interface NewModel {
  path: string;
  name?: string;
  createdAt: number;
  featureSetVersion: string;
  horizonMs: number;
  metrics: object;
  params: object;
  status?: Exclude<ModelStatus, 'champion'>;
}

interface Row {
  id: number;
  path: string;
  name: string;
  created_at: number;
  feature_set_version: string;
  horizon_ms: number;
  metrics: string;
  params: string;
  status: ModelStatus;
}

const fromRow = (r: Row): ModelRecord => ({
  id: r.id,
  path: r.path,
  name: r.name,
  createdAt: r.created_at,
  featureSetVersion: r.feature_set_version,
  horizonMs: r.horizon_ms,
  metrics: JSON.parse(r.metrics) as Record<string, unknown>,
  params: JSON.parse(r.params) as Record<string, unknown>,
  status: r.status,
});

/** Adds a model (as a challenger unless told otherwise); returns its id. Use setChampion to make it the one in use. */
export function registerModel(db: Db, m: NewModel): number {
  const info = db
    .prepare(
      `INSERT INTO models (path, name, created_at, feature_set_version, horizon_ms, metrics, params, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      path.resolve(m.path),
      m.name ?? path.basename(m.path, '.onnx'),
      m.createdAt,
      m.featureSetVersion,
      Math.round(m.horizonMs),
      JSON.stringify(m.metrics),
      JSON.stringify(m.params),
      m.status ?? 'challenger',
    );
  return Number(info.lastInsertRowid);
}

export function getModel(db: Db, id: number): ModelRecord | undefined {
  const r = db.prepare('SELECT * FROM models WHERE id = ?').get(id) as Row | undefined;
  return r && fromRow(r);
}

export function listModels(
  db: Db,
  filter: { status?: ModelStatus; featureSetVersion?: string; horizonMs?: number } = {},
): ModelRecord[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.status) {
    where.push('status = ?');
    args.push(filter.status);
  }
  if (filter.featureSetVersion) {
    where.push('feature_set_version = ?');
    args.push(filter.featureSetVersion);
  }
  if (filter.horizonMs !== undefined) {
    where.push('horizon_ms = ?');
    args.push(Math.round(filter.horizonMs));
  }
  const sql = `SELECT * FROM models ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`;
  return (db.prepare(sql).all(...args) as Row[]).map(fromRow);
}

export function getChampion(db: Db, featureSetVersion: string, horizonMs: number): ModelRecord | undefined {
  return listModels(db, { status: 'champion', featureSetVersion, horizonMs })[0];
}

/** Makes `id` the champion of its (feature set, horizon); the previous champion is retired. One transaction. */
export function setChampion(db: Db, id: number): void {
  db.transaction(() => {
    const m = getModel(db, id);
    if (!m) throw new Error(`model ${id} is not registered`);
    db.prepare(
      `UPDATE models SET status = 'retired' WHERE status = 'champion' AND feature_set_version = ? AND horizon_ms = ? AND id != ?`,
    ).run(m.featureSetVersion, m.horizonMs, id);
    db.prepare(`UPDATE models SET status = 'champion' WHERE id = ?`).run(id);
  })();
}

export function setStatus(db: Db, id: number, status: Exclude<ModelStatus, 'champion'>): void {
  const r = db.prepare('UPDATE models SET status = ? WHERE id = ?').run(status, id);
  if (r.changes === 0) throw new Error(`model ${id} is not registered`);
}

export interface ModelDecision {
  decidedAt: number;
  championId: number | null;
  challengerId: number | null;
  promoted: boolean;
  reason: string;
  championMetrics: object | null;
  challengerMetrics: object | null;
  evalFrom?: number;
  evalTo?: number;
}

export function recordDecision(db: Db, d: ModelDecision): number {
  const info = db
    .prepare(
      `INSERT INTO model_decisions (decided_at, champion_id, challenger_id, promoted, reason, champion_metrics, challenger_metrics, eval_from, eval_to)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      d.decidedAt,
      d.championId,
      d.challengerId,
      d.promoted ? 1 : 0,
      d.reason,
      d.championMetrics ? JSON.stringify(d.championMetrics) : null,
      d.challengerMetrics ? JSON.stringify(d.challengerMetrics) : null,
      d.evalFrom ?? null,
      d.evalTo ?? null,
    );
  return Number(info.lastInsertRowid);
}

export function listDecisions(db: Db): (ModelDecision & { id: number })[] {
  const rows = db.prepare('SELECT * FROM model_decisions ORDER BY id').all() as {
    id: number;
    decided_at: number;
    champion_id: number | null;
    challenger_id: number | null;
    promoted: number;
    reason: string;
    champion_metrics: string | null;
    challenger_metrics: string | null;
    eval_from: number | null;
    eval_to: number | null;
  }[];
  return rows.map((r) => ({
    id: r.id,
    decidedAt: r.decided_at,
    championId: r.champion_id,
    challengerId: r.challenger_id,
    promoted: r.promoted === 1,
    reason: r.reason,
    championMetrics: r.champion_metrics ? (JSON.parse(r.champion_metrics) as object) : null,
    challengerMetrics: r.challenger_metrics ? (JSON.parse(r.challenger_metrics) as object) : null,
    evalFrom: r.eval_from ?? undefined,
    evalTo: r.eval_to ?? undefined,
  }));
}
