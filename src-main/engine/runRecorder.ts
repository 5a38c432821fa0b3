// Records a run in SQLite (tables of migrations 200, 220, 100 and 250): one run row, then predictions (with the feature row
// behind each, when the engine computed one), signals, orders, fills, equity and risk halts, buffered and written in one transaction per batch (every `batchRows` rows or after a second, and on
// close), so a fast replay does not pay a transaction per row.
import type Database from 'better-sqlite3';
import type { HaltRule, RiskHalt } from '../../src-shared/riskHalt.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import type { Db } from '../store/db.ts';
import type { Metrics } from '../trading/metrics.ts';
import type { PortfolioSnapshot } from '../trading/portfolio.ts';
import type { Fill, Order } from '../trading/types.ts';
import type { SignalEvent } from './events.ts';
import type { RunSink } from './runSink.ts';

export interface NewRun {
  kind: 'paper' | 'backtest';
  source: string;
  sessionId: number | null;
  symbol: string;
  model: string | null;
  threshold: number;
  params: Record<string, unknown>;
  startedAt: number;
}

const num = (x: number) => (Number.isFinite(x) ? x : null);

// features.vals is float32 little-endian; a Float32Array's bytes are the platform's order, so say so on the
// (unsupported) big-endian platforms instead of writing rows a reader would misread.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Registers the running feature set once per database; refuses a stored set of the same version with other names
 * (a formula or order changed without bumping FEATURE_SET.version, and old rows would be misread).
 */
export function registerFeatureSet(
  db: Db,
  set: { version: string; names: readonly string[] } = FEATURE_SET,
  now: () => number = Date.now,
): void {
  const names = JSON.stringify(set.names);
  db.prepare('INSERT OR IGNORE INTO feature_sets (version, names, created_at) VALUES (?, ?, ?)').run(
    set.version,
    names,
    now(),
  );
  const stored = db.prepare('SELECT names FROM feature_sets WHERE version = ?').pluck().get(set.version);
  if (stored !== names)
    throw new Error(
      `feature set ${set.version} is stored in ${db.name} with other names (${String(stored)}): ` +
        'bump FEATURE_SET.version when features change',
    );
}

export class RunRecorder implements RunSink {
  readonly runId: number;
  private readonly rows: (() => void)[] = [];
  private readonly insPred: Database.Statement;
  private readonly insFeatures: Database.Statement;
  private readonly insSignal: Database.Statement;
  private readonly upsertOrder: Database.Statement;
  private readonly insFill: Database.Statement;
  private readonly insEquity: Database.Statement;
  private readonly upsertHalt: Database.Statement;
  private readonly flushTx: () => void;
  private closed = false;
  private lastFlush: number;
  private readonly maxAgeMs = 1000;

  constructor(
    private readonly db: Db,
    run: NewRun,
    private readonly batchRows = 2000,
    /** Wall clock for the run's end time (the run row is bookkeeping, not part of the simulation). */
    private readonly now: () => number = Date.now,
  ) {
    const r = db
      .prepare(
        'INSERT INTO runs (kind, source, session_id, symbol, model, threshold, params, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        run.kind,
        run.source,
        run.sessionId,
        run.symbol,
        run.model,
        run.threshold,
        JSON.stringify(run.params),
        run.startedAt,
      );
    this.runId = Number(r.lastInsertRowid);
    this.lastFlush = now();
    this.insPred = db.prepare('INSERT INTO predictions (run_id, ts, value, mid) VALUES (?, ?, ?, ?)');
    if (LITTLE_ENDIAN) registerFeatureSet(db, FEATURE_SET, now);
    this.insFeatures = db.prepare('INSERT INTO features (run_id, ts, feature_set, vals) VALUES (?, ?, ?, ?)');
    this.insSignal = db.prepare(
      'INSERT INTO signals (run_id, ts, signal, prediction, threshold, price, target, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.upsertOrder = db.prepare(
      `INSERT INTO orders (run_id, order_id, side, type, qty, price, reason, sent_ts, arrived_ts, status, filled_qty, avg_fill_price, fees, note, done_ts, decision_mid, arrival_mid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, order_id) DO UPDATE SET arrived_ts = excluded.arrived_ts, status = excluded.status,
         filled_qty = excluded.filled_qty, avg_fill_price = excluded.avg_fill_price, fees = excluded.fees,
         note = excluded.note, done_ts = excluded.done_ts, arrival_mid = excluded.arrival_mid`,
    );
    this.insFill = db.prepare(
      'INSERT INTO fills (run_id, order_id, ts, side, price, qty, fee, liquidity, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insEquity = db.prepare(
      'INSERT INTO equity (run_id, ts, balance, position, entry_price, realized, unrealized, fees, equity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.upsertHalt = db.prepare(
      `INSERT INTO run_halts (run_id, ts, rule, reason, resumed_ts, resume_reason) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, ts, rule) DO UPDATE SET resumed_ts = excluded.resumed_ts, resume_reason = excluded.resume_reason`,
    );
    this.flushTx = db.transaction(() => {
      for (const w of this.rows) w();
    });
  }

  prediction(ts: number, value: number, mid: number, features?: Float32Array): void {
    if (features && LITTLE_ENDIAN) {
      // One copy of the engine's reused row; the Buffer is a view of that copy (no per-row encoding).
      const vals = Buffer.from(
        features.buffer.slice(features.byteOffset, features.byteOffset + features.byteLength),
      );
      this.push(() => {
        this.insPred.run(this.runId, ts, value, num(mid));
        this.insFeatures.run(this.runId, ts, FEATURE_SET.version, vals);
      });
    } else {
      this.push(() => this.insPred.run(this.runId, ts, value, num(mid)));
    }
  }

  signal(s: SignalEvent): void {
    this.push(() =>
      this.insSignal.run(
        this.runId,
        s.ts,
        s.signal,
        s.prediction,
        s.threshold,
        num(s.price),
        s.target,
        s.reason,
      ),
    );
  }

  order(o: Order): void {
    const v = [
      o.id,
      o.side,
      o.type,
      o.qty,
      num(o.price),
      o.reason,
      o.sentTs,
      num(o.arrivedTs),
      o.status,
      o.filledQty,
      num(o.avgFillPrice),
      o.fees,
      o.note,
      num(o.doneTs),
      num(o.decisionMid),
      num(o.arrivalMid),
    ];
    this.push(() => this.upsertOrder.run(this.runId, ...v));
  }

  fill(f: Fill): void {
    this.push(() =>
      this.insFill.run(this.runId, f.orderId, f.ts, f.side, f.price, f.qty, f.fee, f.liquidity, f.reason),
    );
  }

  equity(s: PortfolioSnapshot): void {
    this.push(() =>
      this.insEquity.run(
        this.runId,
        s.ts,
        s.balance,
        s.position,
        num(s.entryPrice),
        s.realizedPnl,
        s.unrealizedPnl,
        s.fees,
        s.equity,
      ),
    );
  }

  /** A risk halt began, or (the same halt with resumedTs) ended: one row per halt, its resumption updates it. */
  halt(h: RiskHalt): void {
    const v = [h.ts, h.rule, h.reason, num(h.resumedTs ?? NaN), h.resumeReason];
    this.push(() => this.upsertHalt.run(this.runId, ...v));
  }

  /**
   * The run's model was swapped (live retraining promoted a challenger): decisions at or after engine time
   * `fromTs` are `model`'s. Written at once (a swap is rare), so the attribution is stored even if the run later crashes.
   */
  modelChanged(fromTs: number, model: string, previous: string | null): void {
    this.db
      .prepare('INSERT INTO run_models (run_id, from_ts, model, previous, swapped_at) VALUES (?, ?, ?, ?, ?)')
      .run(this.runId, fromTs, model, previous, this.now());
  }

  flush(): void {
    this.lastFlush = this.now();
    if (this.rows.length === 0) return;
    this.flushTx();
    this.rows.length = 0;
  }

  close(m: Metrics, final: PortfolioSnapshot): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.db
      .prepare('UPDATE runs SET ended_at = ?, metrics = ?, final = ? WHERE id = ?')
      .run(this.now(), JSON.stringify(m), JSON.stringify(final), this.runId);
  }

  private push(w: () => void): void {
    this.rows.push(w);
    // By size for fast replays, by age for live runs (a crash then loses at most about a second of records).
    if (this.rows.length >= this.batchRows || this.now() - this.lastFlush >= this.maxAgeMs) this.flush();
  }
}

/** The stored risk halts of a run, in time order (none for runs recorded before schema v250). */
export function readRunHalts(db: Db, runId: number): RiskHalt[] {
  const rows = db
    .prepare(
      'SELECT ts, rule, reason, resumed_ts, resume_reason FROM run_halts WHERE run_id = ? ORDER BY ts, rowid',
    )
    .all(runId) as {
    ts: number;
    rule: HaltRule;
    reason: string;
    resumed_ts: number | null;
    resume_reason: string | null;
  }[];
  return rows.map((r) => ({
    ts: r.ts,
    rule: r.rule,
    reason: r.reason,
    resumedTs: r.resumed_ts,
    resumeReason: r.resume_reason,
  }));
}
