// Where the real Bybit orderbook.200 + publicTrade recording lives: beside the project in ../shared/data (README
// there), read in place by tests and benchmarks, never copied in.
import path from 'node:path';
import { PROJECT_ROOT } from '../config/loadConfig.ts';

export const BYBIT_RECORDING = path.resolve(
  PROJECT_ROOT,
  '..',
  'shared',
  'data',
  'bybit',
  'linear_BTCUSDT_orderbook200_trades.jsonl',
);
