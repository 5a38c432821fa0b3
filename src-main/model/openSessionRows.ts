// The rows of the open sessions a retraining round learns from, kept by a worker that follows them across rounds
// (openSessionRowsWorker.ts, storedSessionTail.ts): a round reads what those sessions gained since the last round
// instead of replaying them from their start. The worker is started on the first round and lives until close(); it
// does not keep the process alive between rounds.
import { Worker } from 'node:worker_threads';
import type { DatasetOptions } from './dataset.ts';
import type { SessionRows } from './featureCache.ts';
import type { OpenRowsReply, OpenRowsRequest, OpenRowsWorkerInput } from './openSessionRowsWorker.ts';

export interface OpenRows {
  /** The open sessions' rows, each the rows a build of the stored session gives now. */
  rows: SessionRows[];
  /** A line per open session: how its rows were had this round. */
  notes: string[];
}

/** From TypeScript sources (tsx, vitest) through tsWorkerBoot.mjs; from built JavaScript directly. */
function workerEntry(): { file: URL; entry?: string } {
  const entry = new URL('./openSessionRowsWorker.ts', import.meta.url);
  if (import.meta.url.endsWith('.ts'))
    return { file: new URL('../tsWorkerBoot.mjs', import.meta.url), entry: entry.href };
  return { file: new URL('./openSessionRowsWorker.js', import.meta.url) };
}

export class OpenSessionRows {
  private worker: Worker | null = null;
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: OpenRows) => void; reject: (e: Error) => void }
  >();

  constructor(
    private readonly dbFile: string,
    private readonly opts: Omit<DatasetOptions, 'onProgress'>,
  ) {}

  /** The rows of the round's open sessions, but those in `exclude` (rows the caller has already). */
  rows(sessionIds: readonly number[], exclude: readonly number[] = []): Promise<OpenRows> {
    const w = this.start();
    const req = this.next++;
    return new Promise<OpenRows>((resolve, reject) => {
      this.waiting.set(req, { resolve, reject });
      // Alive while a round waits for it; between rounds the process may exit without closing it.
      w.ref();
      const msg: OpenRowsRequest = { req, sessionIds: [...sessionIds], exclude: [...exclude] };
      w.postMessage(msg);
    });
  }

  /** Stops the worker; its followers are gone (a later round starts them again). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.fail(new Error('closed'));
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const { file, entry } = workerEntry();
    const input: OpenRowsWorkerInput = { dbFile: this.dbFile, opts: this.opts, entry };
    const w = new Worker(file, { workerData: input });
    w.unref();
    w.on('message', (r: OpenRowsReply) => {
      const p = this.waiting.get(r.req);
      if (!p) return;
      this.waiting.delete(r.req);
      if (this.waiting.size === 0) w.unref();
      if ('error' in r) p.reject(new Error(r.error));
      else p.resolve({ rows: r.rows, notes: r.notes });
    });
    // A worker that fails or exits takes its followers with it: the next round starts a new one.
    const lost = (e: Error) => {
      if (this.worker === w) this.worker = null;
      this.fail(e);
    };
    w.on('error', lost);
    w.on('exit', (code) => lost(new Error(`the open sessions' worker stopped (exit code ${code})`)));
    this.worker = w;
    return w;
  }

  private fail(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }
}
