// The runs one connection records during a backtest, and how a backtest cut short (cancelled, interrupted, failed)
// closes them: the app's backtest worker and `l2desk backtest` on Ctrl-C, so no run stays "unfinished".
import type { Db } from '../store/db.ts';

/** Notes the id of every run this connection inserts (a TEMP trigger sees only this connection's writes). */
export function trackRuns(db: Db): void {
  db.exec(`CREATE TEMP TABLE worker_runs (id INTEGER PRIMARY KEY);
    CREATE TEMP TRIGGER worker_run_started AFTER INSERT ON main.runs
    BEGIN INSERT INTO worker_runs (id) VALUES (new.id); END;`);
}

/**
 * Ends the pass that was cut short (the last run of this connection, which the engine may already have closed with partial
 * metrics) and any run left open: `params.cancelled` (or `params.failed`) says the run is not a whole result.
 * Passes that finished before the cancel stay as they are.
 */
export function endUnfinishedRuns(db: Db, cancelled: boolean, now: () => number = Date.now): void {
  db.prepare(
    `UPDATE runs SET ended_at = coalesce(ended_at, ?), params = json_set(params, ?, json('true'))
     WHERE id IN (SELECT id FROM temp.worker_runs)
       AND (ended_at IS NULL OR id = (SELECT max(id) FROM temp.worker_runs))`,
  ).run(now(), cancelled ? '$.cancelled' : '$.failed');
}
