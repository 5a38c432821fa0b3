// Read-ahead worker bootstrap when running from TypeScript sources (tsx CLI, vitest): on Node 20 a worker ignores
// `--import tsx` in execArgv for its entry file, so tsx is registered here, in the worker, before the real entry
// (workerData.entry, a .ts URL) is imported. Same as src-main/model/trainerWorkerBoot.mjs.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
