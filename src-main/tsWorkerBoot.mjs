// Worker bootstrap when running from TypeScript sources (tsx CLI, vitest), shared by every worker (trainer, backtest,
// read-ahead): on Node 20 a worker ignores `--import tsx` in execArgv for its entry file, so tsx is registered here, in
// the worker, before the real entry (workerData.entry, a .ts URL) is imported — the same way bin/l2desk.mjs starts the
// CLI. Built JavaScript starts its worker entries directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
