// The IPC version and event names as runtime values with no dependencies (no zod): the renderer bundle needs no
// schema code, and the sandboxed Electron preload imports it to
// refuse subscriptions to anything that is not in the contract (src-shared/ipc.ts checks it is complete).
/**
 * Bumped on any incompatible change to the contract; the page and the engine must agree.
 * 2: the app/notice event, and Snapshot.notices (a v1 engine has none).
 * Additive since, no bump (a page must not rely on them): model/features, Snapshot.features, ModelInfo.importance,
 * market/trades, Snapshot.trades, the jobs/cancel command, the 'queued' retrain phase and `ahead` on job progress,
 * AppErrorEvent.key and the app/cleared event.
 */
export const IPC_VERSION = 2;

export const EVENT_NAMES = [
  'market/book',
  'market/prices',
  'market/trades',
  'model/predictions',
  'model/features',
  'trading/signals',
  'trading/fills',
  'trading/portfolio',
  'trading/equity',
  'trading/threshold',
  'app/status',
  'collect/progress',
  'retrain/progress',
  'retrain/result',
  'backtest/progress',
  'backtest/result',
  'sessions/changed',
  'models/changed',
  'app/error',
  'app/notice',
  'app/cleared',
] as const;
