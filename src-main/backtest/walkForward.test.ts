// The walk-forward plan (windows tile the session; every model's data ends one horizon before its window) and the
// ScheduledModel that trades each window with its own model. End to end (training, replay): cli/backtest.walkForward.test.ts.
import { describe, expect, it } from 'vitest';
import { RecordedModel, ScheduledModel } from '../engine/decisionModel.ts';
import { inSampleOf } from './backtest.ts';
import { MIN_WINDOW_HORIZONS, planWalkForward, walkForwardSettingsError } from './walkForward.ts';

const M = 60_000;
const H = 10_000;
const base = { horizonMs: H, decisionIntervalMs: 1000 };

describe('planWalkForward', () => {
  it.each([
    { span: 60 * M, window: 20 * M, every: 10 * M, n: 4 },
    { span: 61 * M, window: 20 * M, every: 10 * M, n: 5 },
    { span: 35 * M, window: 10 * M, every: 7 * M, n: 4 },
    { span: 20 * M, window: 20 * M, every: 5 * M, n: 0 },
    { span: 10 * M, window: 20 * M, every: 5 * M, n: 0 },
  ])('span $span ms, window $window, every $every: $n windows', ({ span, window, every, n }) => {
    const start = 1_767_614_400_000;
    const end = start + span;
    const plan = planWalkForward(start, end, { ...base, trainWindowMs: window, everyMs: every });
    expect(plan).toHaveLength(n);
    if (n === 0) return;
    // Windows tile [start + window, end]: contiguous, the first at t_0, the last starting before the end.
    expect(plan[0].tradeFrom).toBe(start + window);
    for (let k = 0; k < plan.length; k++) {
      const w = plan[k];
      expect(w.index).toBe(k);
      expect(w.tradeTo - w.tradeFrom).toBe(every);
      if (k > 0) expect(w.tradeFrom).toBe(plan[k - 1].tradeTo);
      // Training data: the window before, up to one horizon (the embargo) before the first decision.
      expect(w.trainTo).toBe(w.tradeFrom - H);
      expect(w.trainFrom).toBe(w.tradeFrom - window);
      expect(w.trainFrom).toBeGreaterThanOrEqual(start);
    }
    expect(plan[plan.length - 1].tradeFrom).toBeLessThan(end);
    expect(plan[plan.length - 1].tradeTo).toBeGreaterThanOrEqual(end);
  });

  it.each([
    [{ trainWindowMs: 20 * M, everyMs: 0 }, /must be > 0/],
    [{ trainWindowMs: 20 * M, everyMs: -5 }, /must be > 0/],
    [{ trainWindowMs: 20 * M, everyMs: 500 }, /shorter than the decision interval/],
    [{ trainWindowMs: MIN_WINDOW_HORIZONS * H - 1, everyMs: M }, /at least 10 horizons/],
    [{ trainWindowMs: NaN, everyMs: M }, /at least/],
    // 200 horizons of training data need (200 + 1) x 10 s + the 30 s feature warm-up = 34 min of window
    [
      { trainWindowMs: 34 * M - 1, everyMs: M, minHorizons: 200 },
      /train window \(33m59\.999s\) is too short for training, which needs data covering 200 label horizons .* at least 34m00s/,
    ],
  ])('refuses %o', (s, re) => {
    expect(walkForwardSettingsError({ ...base, ...s })).toMatch(re);
    expect(() => planWalkForward(0, 100 * M, { ...base, ...s })).toThrow(re);
  });

  it('accepts the smallest train window', () => {
    expect(
      walkForwardSettingsError({ ...base, trainWindowMs: MIN_WINDOW_HORIZONS * H, everyMs: 1000 }),
    ).toBeNull();
    expect(
      walkForwardSettingsError({ ...base, trainWindowMs: 34 * M, everyMs: M, minHorizons: 200 }),
    ).toBeNull();
  });
});

describe('ScheduledModel', () => {
  // Each inner model answers a distinct constant at every time: the answer names the model that gave it.
  const times = [0, 999, 1000, 1500, 1999, 2000, 2999, 3000, 5000];
  const constant = (v: number) => new RecordedModel(new Map(times.map((t) => [t, v])));
  const row = new Float32Array(1);

  it('answers with the model of the window holding the time, NaN outside any window or without a model', () => {
    const m = new ScheduledModel([
      { from: 1000, to: 2000, model: constant(1) },
      { from: 2000, to: 3000, model: constant(2) },
      { from: 3000, to: 4000, model: null },
    ]);
    const got = times.map((t) => m.predict(row, t));
    expect(got).toEqual([NaN, NaN, 1, 1, 1, 2, 2, NaN, NaN]);
    expect(times.map((t) => m.indexAt(t))).toEqual([-1, -1, 0, 0, 0, 1, 1, 2, -1]);
  });

  it('needs features only when one of its models does', () => {
    expect(new ScheduledModel([{ from: 0, to: 1, model: constant(1) }]).needsFeatures).toBe(false);
    expect(new ScheduledModel([{ from: 0, to: 1, model: null }]).needsFeatures).toBe(false);
  });

  it('refuses empty, reversed or overlapping windows', () => {
    expect(() => new ScheduledModel([{ from: 5, to: 5, model: null }])).toThrow(/empty or reversed/);
    expect(
      () =>
        new ScheduledModel([
          { from: 0, to: 10, model: null },
          { from: 9, to: 20, model: null },
        ]),
    ).toThrow(/before window 0 ends/);
  });
});

describe('inSampleOf', () => {
  const span = { from_ts: 100, to_ts: 200, sessions: [1] };
  it('counts decision times inside the deciding model’s training span, ends included', () => {
    const s = inSampleOf([50, 100, 150, 200, 201], () => span, span);
    expect(s).toMatchObject({ decisions: 5, in_sample: 3, share: 0.6, training: span });
  });
  it('is unknown without a training span, and without decisions', () => {
    expect(inSampleOf([1, 2], null, null).share).toBeNull();
    expect(inSampleOf([], () => span, span).share).toBeNull();
  });
  it('asks per decision for a model that changes (walk-forward)', () => {
    const s = inSampleOf([150, 250], (t) => (t < 200 ? span : { from_ts: 0, to_ts: 190 }), null);
    expect(s).toMatchObject({ decisions: 2, in_sample: 1, share: 0.5 });
  });
});
