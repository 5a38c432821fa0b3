// The IPC event names as a runtime list, with no dependencies: the sandboxed Electron preload imports it to
// refuse subscriptions to anything that is not in the contract (src-shared/ipc.ts checks it is complete).
export const EVENT_NAMES = [
  'market/book',
  'market/prices',
  'model/predictions',
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
] as const;
