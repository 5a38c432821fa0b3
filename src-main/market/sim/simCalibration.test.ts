// The simulator's edge is modest and real, and the calibration fit finds parameters it is shown. Slower tests
// (tens of seconds): hours of simulated market through the project's dataset builder and trainer.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/loadConfig.ts';
import { buildDataset } from '../../model/dataset.ts';
import { predict } from '../../model/gbdt/model.ts';
import { spearman } from '../../model/metrics.ts';
import { simMessages } from '../../model/simData.ts';
import { runTraining } from '../../model/trainer.ts';
import { jobFromDataset, settingsFromConfig } from '../../model/trainPipeline.ts';
import { fitSimParams, simulatedStats, type SimInstrument } from './simCalibration.ts';
import { DEFAULT_SIM_PARAMS } from './simGenerator.ts';

// A 10 Hz book (Bybit's depth-200 rate) keeps hours of market cheap; the dynamics per second are the same.
const config = loadConfig({
  ignoreUserFile: true,
  overrides: { source: 'sim', 'sim.book_rate_hz': 10, 'sim.seed': 7 },
});

function dataset(seed: number, hours: number) {
  return buildDataset(
    [
      {
        sessionId: seed,
        tickSize: '0.1',
        events: simMessages({ config, durationMs: hours * 3600_000, seed }),
      },
    ],
    { decisionIntervalMs: config.features.decision_interval, horizonMs: config.model.horizon },
  );
}

describe('simulated market edge', () => {
  it('a model trained on one path has an out-of-sample IC between 0.02 and 0.2 on another path', () => {
    const train = dataset(7, 3);
    const out = runTraining(jobFromDataset(train, { ...settingsFromConfig(config, 1), trials: 0 }));
    // The trainer's own holdout (the newest rows, after an embargo) …
    expect(out.metrics.ic).toBeGreaterThan(0.02);
    expect(out.metrics.ic).toBeLessThan(0.2);
    // … and six hours of a path it never saw.
    const test = dataset(8, 6);
    const ic = spearman(predict(out.model, test.X, test.nRows), test.y);
    expect(ic).toBeGreaterThan(0.02);
    expect(ic).toBeLessThan(0.2);
  }, 240_000);
});

describe('fitSimParams', () => {
  const inst: SimInstrument = {
    symbol: 'BTCUSDT',
    startPrice: 65_000,
    tickSize: '0.1',
    depth: 50,
    bookRateHz: 10,
    levels: 200,
  };

  it('recovers the volatility and trade rate of a market simulated with other parameters', () => {
    const truth = { sigmaBps: 1.3, lambdaM: 7 };
    const real = simulatedStats(inst, truth, 11, 3600_000);
    const fit = fitSimParams(real, inst, { seed: 12, durationMs: 1800_000, rounds: 2 });
    expect(fit.params.sigmaBps).toBeGreaterThan(truth.sigmaBps * 0.85);
    expect(fit.params.sigmaBps).toBeLessThan(truth.sigmaBps * 1.15);
    expect(fit.params.lambdaM).toBeGreaterThan(truth.lambdaM * 0.8);
    expect(fit.params.lambdaM).toBeLessThan(truth.lambdaM * 1.2);
    expect(fit.fitted.vol_bps_per_sqrt_s / real.vol_bps_per_sqrt_s).toBeCloseTo(1, 0);
    expect(fit.notes.join('\n')).not.toMatch(/volatility kept|trade rate and sizes kept/);
  }, 180_000);

  it('keeps what a short or motionless session cannot tell, and says why', () => {
    const real = simulatedStats(inst, { sigmaBps: 0.01, lambdaM: 0.01 }, 3, 60_000);
    const fit = fitSimParams(real, inst, { seed: 4, durationMs: 600_000, rounds: 1 });
    expect(fit.params.lambdaM).toBe(DEFAULT_SIM_PARAMS.lambdaM);
    expect(fit.params.kappa).toBe(DEFAULT_SIM_PARAMS.kappa);
    expect(fit.notes.join('\n')).toMatch(/trade rate and sizes kept: \d+ trades/);
    expect(fit.notes.join('\n')).toMatch(/edge .* kept: the session spans 60 s/);
  });
});
