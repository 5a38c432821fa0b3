// The model registry of a ClickHouse store: the models and model_decisions tables of an SQLite file's registry
// (model/modelRegistry.ts). `train --db clickhouse://…` registers the model it wrote; `trade --paper` with live
// retraining keeps its registry in its working file and saves it here with the run. A model's status changes are new
// versions of its row (ReplacingMergeTree(version), read FINAL); ids are the store's own (after its highest), and a
// saved registry is remapped onto them. Saving is idempotent: a model already stored (same file, name and creation
// time) and a decision already stored (same time and models) are not stored again, so a save cut short and retried
// (a killed trade's working file) adds nothing twice.
import type { ModelDecision, ModelRecord, ModelStatus, NewModel } from '../../model/modelRegistry.ts';
import { listDecisions, listModels } from '../../model/modelRegistry.ts';
import type { Db } from '../db.ts';
import { describeClickHouseError, insertJson, queryJson, type ClickHouseStore } from './connection.ts';
import { claimIds } from './idClaims.ts';
import { ensureTable } from './cluster.ts';
import { MODEL_DECISIONS_DDL, MODELS_DDL, SHARD_BY_ID } from './schema.ts';
import path from 'node:path';

interface ModelRow {
  id: string | number;
  path: string;
  name: string;
  created_at: string | number;
  feature_set_version: string;
  horizon_ms: string | number;
  metrics: string;
  params: string;
  status: ModelStatus;
}

interface DecisionRow {
  id: string | number;
  decided_at: string | number;
  champion_id: string | number | null;
  challenger_id: string | number | null;
  promoted: number;
  reason: string;
  champion_metrics: string | null;
  challenger_metrics: string | null;
  eval_from: string | number | null;
  eval_to: string | number | null;
}

const num = (v: string | number): number => Number(v);
const optNum = (v: string | number | null): number | null => (v === null ? null : Number(v));

function json(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {}; // a damaged cell reads as empty metrics, never as a failure of the whole list
  }
}

/** True when the server says a table is not there (a store made before the registry, opened read-only). */
function missingTable(e: unknown): boolean {
  return /UNKNOWN_TABLE|doesn't exist|Code: 60\b/i.test(String((e as Error)?.message ?? e));
}

async function ensureTables(ch: ClickHouseStore): Promise<void> {
  await ensureTable(ch, MODELS_DDL(ch.url.database), SHARD_BY_ID);
  await ensureTable(ch, MODEL_DECISIONS_DDL(ch.url.database), SHARD_BY_ID);
}

/** A registry query's rows; none when the store has no registry yet (its tables are made on first write). */
async function registryRows<T>(ch: ClickHouseStore, sql: string): Promise<T[]> {
  try {
    return await queryJson<T>(ch, sql);
  } catch (e) {
    if (missingTable(e)) return [];
    throw describeClickHouseError(ch.name, e);
  }
}

/** The store's models, oldest first (empty when it has no registry yet). */
export async function listModelsIn(ch: ClickHouseStore): Promise<ModelRecord[]> {
  const rows = await registryRows<ModelRow>(
    ch,
    // version selected though unused: 18.16 fails FINAL through a cluster's Distributed table without it.
    `SELECT id, path, name, created_at, feature_set_version, horizon_ms, metrics, params, status, version
     FROM ${ch.table('models')} FINAL ORDER BY created_at, id`,
  );
  return rows.map((r) => ({
    id: num(r.id),
    path: r.path,
    name: r.name,
    createdAt: num(r.created_at),
    featureSetVersion: r.feature_set_version,
    horizonMs: num(r.horizon_ms),
    metrics: json(r.metrics) ?? {},
    params: json(r.params) ?? {},
    status: r.status,
  }));
}

/** The store's retraining decisions, oldest first. */
export async function listDecisionsIn(ch: ClickHouseStore): Promise<(ModelDecision & { id: number })[]> {
  const rows = await registryRows<DecisionRow>(
    ch,
    `SELECT id, decided_at, champion_id, challenger_id, promoted, reason, champion_metrics, challenger_metrics,
            eval_from, eval_to
     FROM ${ch.table('model_decisions')} FINAL ORDER BY decided_at, id`,
  );
  return rows.map((r) => ({
    id: num(r.id),
    decidedAt: num(r.decided_at),
    championId: optNum(r.champion_id),
    challengerId: optNum(r.challenger_id),
    promoted: Number(r.promoted) === 1,
    reason: r.reason,
    championMetrics: json(r.champion_metrics),
    challengerMetrics: json(r.challenger_metrics),
    evalFrom: optNum(r.eval_from) ?? undefined,
    evalTo: optNum(r.eval_to) ?? undefined,
  }));
}

/** The first of `count` new ids of the table, claimed so that no other writer takes them (idClaims.ts). */
function nextId(ch: ClickHouseStore, table: 'models' | 'model_decisions', count = 1): Promise<number> {
  return claimIds(ch, table, count, `SELECT max(id) AS m FROM ${ch.table(table)}`);
}

function modelRow(id: number, m: Omit<ModelRecord, 'id'>, version: number): Record<string, unknown> {
  return {
    id,
    path: m.path,
    name: m.name,
    created_at: m.createdAt,
    feature_set_version: m.featureSetVersion,
    horizon_ms: Math.round(m.horizonMs),
    metrics: JSON.stringify(m.metrics),
    params: JSON.stringify(m.params),
    status: m.status,
    version,
  };
}

/** Adds a model to the store's registry (a challenger unless told otherwise); returns its id there. */
export async function registerModelIn(ch: ClickHouseStore, m: NewModel): Promise<number> {
  try {
    await ensureTables(ch);
    const id = await nextId(ch, 'models');
    const rec: Omit<ModelRecord, 'id'> = {
      path: path.resolve(m.path),
      name: m.name ?? path.basename(m.path, '.onnx'),
      createdAt: m.createdAt,
      featureSetVersion: m.featureSetVersion,
      horizonMs: m.horizonMs,
      metrics: m.metrics as Record<string, unknown>,
      params: m.params as Record<string, unknown>,
      status: m.status ?? 'challenger',
    };
    await insertJson(ch, ch.table('models'), [modelRow(id, rec, 1)]);
    return id;
  } catch (e) {
    throw describeClickHouseError(ch.name, e);
  }
}

const modelKey = (m: Pick<ModelRecord, 'path' | 'name' | 'createdAt'>) =>
  `${m.path}\n${m.name}\n${m.createdAt}`;

/**
 * Saves an SQLite file's registry (a trade's working file) into the store; returns local id → store id of its
 * models. A champion saved here retires the store's champion of the same feature set and horizon, as promoting it
 * in one file would.
 */
export async function saveRegistry(ch: ClickHouseStore, db: Db): Promise<Map<number, number>> {
  const local = listModels(db);
  const decisions = listDecisions(db);
  const ids = new Map<number, number>();
  if (local.length === 0 && decisions.length === 0) return ids;
  try {
    await ensureTables(ch);
    const stored = await listModelsIn(ch);
    const byKey = new Map(stored.map((m) => [modelKey(m), m.id]));
    const fresh = local.filter((m) => !byKey.has(modelKey(m))).length;
    let next = fresh > 0 ? await nextId(ch, 'models', fresh) : 0;
    // Above every version stored so far, whatever the clocks of the machines that wrote them said.
    const [v] = await queryJson<{ v: string }>(ch, `SELECT max(version) AS v FROM ${ch.table('models')}`);
    const now = Math.max(Date.now(), Number(v?.v ?? 0) + 1);
    const rows: Record<string, unknown>[] = [];
    for (const m of local) {
      const known = byKey.get(modelKey(m));
      if (known !== undefined) {
        ids.set(m.id, known);
        continue;
      }
      ids.set(m.id, next);
      rows.push(modelRow(next++, m, now));
    }
    // Champions of the same key elsewhere in the store step down (a newer version of their row).
    const champions = new Set(
      local.filter((m) => m.status === 'champion').map((m) => `${m.featureSetVersion}\n${m.horizonMs}`),
    );
    const mine = new Set(ids.values());
    for (const s of stored)
      if (
        s.status === 'champion' &&
        !mine.has(s.id) &&
        champions.has(`${s.featureSetVersion}\n${s.horizonMs}`)
      )
        rows.push(modelRow(s.id, { ...s, status: 'retired' }, now));
    if (rows.length > 0) await insertJson(ch, ch.table('models'), rows);

    const storedDecisions = await listDecisionsIn(ch);
    const decisionKey = (d: ModelDecision) =>
      `${d.decidedAt}\n${d.championId}\n${d.challengerId}\n${d.promoted}`;
    const seen = new Set(storedDecisions.map(decisionKey));
    const toSave = decisions
      .map((d) => ({
        ...d,
        championId: d.championId === null ? null : (ids.get(d.championId) ?? null),
        challengerId: d.challengerId === null ? null : (ids.get(d.challengerId) ?? null),
      }))
      .filter((d) => !seen.has(decisionKey(d)));
    let nextDecision = toSave.length > 0 ? await nextId(ch, 'model_decisions', toSave.length) : 0;
    const drows: Record<string, unknown>[] = [];
    for (const mapped of toSave) {
      drows.push({
        id: nextDecision++,
        decided_at: mapped.decidedAt,
        champion_id: mapped.championId,
        challenger_id: mapped.challengerId,
        promoted: mapped.promoted ? 1 : 0,
        reason: mapped.reason,
        champion_metrics: mapped.championMetrics ? JSON.stringify(mapped.championMetrics) : null,
        challenger_metrics: mapped.challengerMetrics ? JSON.stringify(mapped.challengerMetrics) : null,
        eval_from: mapped.evalFrom ?? null,
        eval_to: mapped.evalTo ?? null,
      });
    }
    if (drows.length > 0) await insertJson(ch, ch.table('model_decisions'), drows);
    return ids;
  } catch (e) {
    throw describeClickHouseError(ch.name, e);
  }
}
