// Why a backtest pass made no trade: one table of cases, from the first thing that can stop trading to the last.
import { describe, expect, it } from 'vitest';
import { whyNoTrades, type NoTradesFacts } from './noTrades.ts';

const base: NoTradesFacts = {
  fills: 0,
  predictions: 500,
  threshold: 0.5,
  maxAbsPrediction: 2,
  halts: [],
  dataSpanMs: 600_000,
  warmupMs: 30_000,
};

describe('whyNoTrades', () => {
  it.each<[string, Partial<NoTradesFacts>, RegExp | null]>([
    ['a pass that traded', { fills: 3 }, null],
    [
      'a session shorter than the warm-up',
      { predictions: 0, dataSpanMs: 20_000, maxAbsPrediction: null },
      /^no trades: the session holds 20s of data, shorter than the features' warm-up \(30s\), so the model never predicted$/,
    ],
    ['no prediction on a long session', { predictions: 0 }, /^no trades: the model made no prediction/],
    [
      'a threshold above every prediction',
      { maxAbsPrediction: 0.4213, threshold: 4 },
      /^no trades: the threshold 4 bps is above every prediction \(the largest \|prediction\| of 500 was 0\.421 bps\): lower the threshold$/,
    ],
    [
      'halted by the daily-loss limit',
      { halts: ['halted at 14:03:12: daily loss limit 2.00% reached; still halted at the end'] },
      /^no trades: the risk rules halted trading \(halted at 14:03:12: daily loss limit 2\.00% reached; still halted at the end\)$/,
    ],
    [
      'signals the risk rules did not turn into fills',
      {},
      /^no trades: predictions crossed the threshold, but the risk rules/,
    ],
    [
      'every buy or sell signal under the minimum order value',
      { tradeSignals: 1204, belowMinimum: 1204 },
      /^no trades: every buy or sell signal \(1,204\) asked for an order worth less than the minimum order value \(risk\.min_order_notional, or the exchange's when higher\) or less than one lot: raise risk\.notional$/,
    ],
    [
      'some signals under the minimum, others not',
      { tradeSignals: 12, belowMinimum: 11 },
      /^no trades: predictions crossed the threshold, but the risk rules/,
    ],
    [
      'unknown predictions (a run not stored)',
      { maxAbsPrediction: null },
      /^no trades: no prediction of 500 led to a filled order \(the threshold 0\.5 bps may be above every prediction/,
    ],
  ])('%s', (_, over, want) => {
    const got = whyNoTrades({ ...base, ...over });
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});
