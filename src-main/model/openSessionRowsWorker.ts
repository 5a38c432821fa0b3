// Worker-thread entry that follows the open sessions of an SQLite store across retraining rounds (storedSessionTail.ts)
// and answers each round with their rows. Its followers live as long as the worker, so a round reads only what the
// sessions gained since the last one. Started by openSessionRows.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db.ts';
import { sessionSources, type DatasetOptions } from './dataset.ts';
import type { SessionRows } from './featureCache.ts';
import { StoredSessionTail } from './storedSessionTail.ts';

export interface OpenRowsWorkerInput {
  dbFile: string;
  opts: DatasetOptions;
  /** Set when started through src-main/tsWorkerBoot.mjs: this module's URL. */
  entry?: string;
}

export interface OpenRowsRequest {
  req: number;
  /** The round's sessions (empty: the trainer's rule, every session of the newest session's symbol). */
  sessionIds: number[];
  /** Sessions whose rows the caller has already (the traded feed's, built as it is stored). */
  exclude: number[];
}

export type OpenRowsReply =
  { req: number; rows: SessionRows[]; notes: string[] } | { req: number; error: string };

if (!parentPort) throw new Error('openSessionRowsWorker.ts must run in a worker thread');
const port = parentPort;
const { dbFile, opts } = workerData as OpenRowsWorkerInput;
const tails = new Map<number, StoredSessionTail>();

port.on('message', (m: OpenRowsRequest) => {
  let reply: OpenRowsReply;
  try {
    // Opened per round, read-only use: between rounds the worker holds no handle on the file.
    const db = openDb(dbFile, { mustExist: true, migrate: false });
    try {
      const { sessions } = sessionSources(db, m.sessionIds);
      const rows: SessionRows[] = [];
      const notes: string[] = [];
      const open = new Set<number>();
      for (const s of sessions) {
        if (s.endedAt !== null || m.exclude.includes(s.id)) continue;
        open.add(s.id);
        let t = tails.get(s.id);
        if (!t) tails.set(s.id, (t = new StoredSessionTail(s.id, opts)));
        const r = t.advance(db);
        if (r.rows === null) {
          notes.push(`session ${s.id} is read whole this round: ${r.why}`);
          continue;
        }
        rows.push(r.rows);
        notes.push(
          r.restarted
            ? `session ${s.id} is read again from its start: ${r.restarted}`
            : `session ${s.id} (still recording): ${r.events} new events read, ${r.rows.nRows} rows`,
        );
      }
      // Sessions that ended or left the round: their followers go (an ended one's rows are the feature cache's).
      for (const id of [...tails.keys()]) if (!open.has(id)) tails.delete(id);
      reply = { req: m.req, rows, notes };
    } finally {
      db.close();
    }
  } catch (e) {
    reply = { req: m.req, error: (e as Error).message ?? String(e) };
  }
  port.postMessage(reply);
});
