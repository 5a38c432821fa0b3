// `l2desk models`: the model registry of a store: every model `train` registered or live retraining produced, with
// its status (champion: the one in use for its feature set and horizon; challenger; rejected; retired) and its
// validation metrics, and live retraining's champion/challenger decisions with both models' scores on the same
// unseen window. Over an SQLite file or a ClickHouse store alike.
import { formatDuration } from '../../src-shared/duration.ts';
import { loadConfig } from '../config/loadConfig.ts';
import type { ModelDecision, ModelRecord } from '../model/modelRegistry.ts';
import { openSessionStore, type StoredRegistry } from '../store/sessionStore.ts';
import { Args, UsageError } from './args.ts';
import { safeText } from './safeText.ts';

export const summary = 'the model registry: trained models, the champion in use, retraining decisions';

const USAGE = `usage: l2desk models [--db FILE|clickhouse://HOST:PORT/DATABASE] [--limit N] [--json] [--config FILE]
  Lists the models registered in the store, newest first: id, status, name, created, feature set, horizon, and
  validation R², IC and hit rate; then live retraining's decisions, newest first: when, kept or promoted, why, and
  both models' scores on the same unseen window.
  status: champion (in use for its feature set and horizon) | challenger (trained, not in use) | rejected (lost a
  retraining decision) | retired (a former champion)
  --limit N   at most N models and N decisions (default 50)
  --json      {"models": [...], "decisions": [...]} on stdout`;

const KNOWN = ['db', 'limit', 'json', 'config', 'help'];

async function readRegistry(db: string): Promise<StoredRegistry> {
  const store = await openSessionStore(db);
  try {
    return await store.registry();
  } finally {
    await store.close();
  }
}

type ModelDecisionRow = ModelDecision & { id: number };

const fixed = (v: unknown, digits: number): string =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
const when = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function printModels(models: ModelRecord[]): void {
  if (models.length === 0) {
    console.log('no models registered yet: `l2desk train` registers the model it writes');
    return;
  }
  console.log('  id  status      created              horizon  R²       IC       hit rate  name');
  for (const m of models) {
    const hit = typeof m.metrics.hit_rate === 'number' ? `${(m.metrics.hit_rate * 100).toFixed(1)}%` : '—';
    console.log(
      `${String(m.id).padStart(4)}  ${m.status.padEnd(10)}  ${when(m.createdAt)}  ${formatDuration(m.horizonMs).padEnd(7)}  ` +
        `${fixed(m.metrics.r2, 4).padStart(7)}  ${fixed(m.metrics.ic, 4).padStart(7)}  ${hit.padStart(8)}  ` +
        `${safeText(m.name)} (${safeText(m.featureSetVersion)}; ${safeText(m.path)})`,
    );
  }
}

function printDecisions(decisions: ModelDecisionRow[]): void {
  if (decisions.length === 0) return;
  console.log('\nretraining decisions (scores on the same unseen window):');
  for (const d of decisions) {
    const score = (m: object | null) => {
      const r = m as Record<string, unknown> | null;
      return r ? `R² ${fixed(r.r2, 4)} IC ${fixed(r.ic, 4)}` : '—';
    };
    console.log(
      `  ${when(d.decidedAt)}  ${d.promoted ? 'promoted' : 'kept    '}  challenger #${d.challengerId ?? '—'} ` +
        `(${score(d.challengerMetrics)}) vs champion #${d.championId ?? '—'} (${score(d.championMetrics)}): ` +
        safeText(d.reason),
    );
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['json', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const limit = args.num('limit') ?? 50;
  if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive integer');
  const config = loadConfig({
    configFile: args.str('config'),
    overrides: args.str('db') ? { db: args.req('db') } : {},
  });
  const reg = await readRegistry(config.db);
  const models = reg.models.slice().reverse().slice(0, limit);
  const decisions = reg.decisions.slice().reverse().slice(0, limit);
  if (args.bool('json')) {
    console.log(
      JSON.stringify({
        models: models.map((m) => ({
          id: m.id,
          status: m.status,
          name: m.name,
          path: m.path,
          created_at: m.createdAt,
          feature_set: m.featureSetVersion,
          horizon_ms: m.horizonMs,
          metrics: m.metrics,
        })),
        decisions: decisions.map((d) => ({
          id: d.id,
          decided_at: d.decidedAt,
          promoted: d.promoted,
          reason: d.reason,
          champion_id: d.championId,
          challenger_id: d.challengerId,
          champion_metrics: d.championMetrics,
          challenger_metrics: d.challengerMetrics,
          eval_from: d.evalFrom ?? null,
          eval_to: d.evalTo ?? null,
        })),
      }),
    );
    return 0;
  }
  printModels(models);
  printDecisions(decisions);
  return 0;
}
