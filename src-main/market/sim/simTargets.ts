// What "calibrated to Bybit BTCUSDT linear" means in numbers: the band each calibration statistic of the default
// simulator must fall in over a few simulated hours (sim.test.ts holds the simulator to them; `sim calibrate` marks
// a statistic outside them). Bands, not points: a real session varies by hour, and so does a seeded path.
import type { MarketStats } from './marketStats.ts';

export const SIM_TARGET_BANDS: Partial<Record<keyof MarketStats, readonly [min: number, max: number]>> = {
  // 0.7-1 bps/√s measured on Bybit BTCUSDT (issue 8); ≈ 30-70% a year.
  vol_bps_per_sqrt_s: [0.5, 1.2],
  // A liquid market: 10 s returns close to uncorrelated.
  ret10_autocorr: [-0.1, 0.1],
  // One tick (0.1) nearly always on BTCUSDT linear.
  spread_one_tick_share: [0.85, 1],
  // orderbook.50 pushes every 20 ms when something changed.
  book_msgs_per_s: [35, 50.5],
  trades_per_s: [1, 30],
  // Median print a few thousandths of a BTC, mean around a tenth (heavy tail): the shared recording, 0.007 and 0.126.
  trade_size_p50: [0.002, 0.02],
  trade_size_mean: [0.03, 0.5],
  // A modest edge: a trained model's out-of-sample IC lands in 0.02-0.2 (simCalibration.test.ts).
  imbalance_ic: [0.02, 0.25],
  flow_ic: [-0.02, 0.2],
};
