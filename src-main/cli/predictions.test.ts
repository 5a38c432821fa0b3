import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { buildDatasetFromDb } from '../model/dataset.ts';
import { Predictor } from '../model/predictor.ts';
import { openDb } from '../store/db.ts';
import { histogramLines, run, thresholdRow } from './predictions.ts';
import { capture, makeFixture, type Fixture } from './predictionsFixture.ts';

let fx: Fixture;
beforeAll(() => {
  fx = makeFixture();
});
afterAll(() => fx?.cleanup());

interface Ladder {
  threshold: number;
  source: string;
  buy: number;
  sell: number;
}

describe('l2desk predictions', () => {
  it('--json: the model over every stored decision, quantiles, and a threshold ladder with the configured one', async () => {
    const { code, out } = await capture(run, ['--db', fx.db, '--model', fx.model, '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out) as {
      n: number;
      quantiles: Record<string, number>;
      abs_quantiles: Record<string, number>;
      max_abs: number;
      ladder: Ladder[];
      sessions: number[];
    };
    // the same rows the dataset builder gives, predicted through onnxruntime's batch path
    const db = openDb(fx.db, { mustExist: true, migrate: false });
    const ds = buildDatasetFromDb(db, [], { decisionIntervalMs: 1000, horizonMs: 10_000 });
    db.close();
    expect(r.n).toBe(ds.nRows);
    expect(r.sessions).toEqual([fx.sessionId]);
    expect((r as unknown as { in_sample: number }).in_sample).toBe(r.n); // the fixture model was trained on these very rows
    const p = await Predictor.load(fx.model, FEATURE_SET);
    const pred = await p.predictBatch(ds.X, ds.nRows);
    await p.close();
    expect(r.max_abs).toBeCloseTo(Math.max(...[...pred].map(Math.abs)), 5);
    expect(r.quantiles.min).toBeLessThan(r.quantiles.max); // the model is not constant
    // ladder: sorted, has the configured threshold and quantile rungs, counts match a direct count
    const configured = loadConfig({ ignoreUserFile: true }).trading.threshold;
    const ts = r.ladder.map((l) => l.threshold);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(r.ladder.some((l) => l.source.includes('config') && l.threshold === configured)).toBe(true);
    const p95 = r.ladder.find((l) => l.source.includes('p95|pred|'))!;
    expect(p95.threshold).toBeCloseTo(r.abs_quantiles.p95, 6);
    for (const l of r.ladder) {
      expect(l.buy).toBe([...pred].filter((x) => x > l.threshold).length);
      expect(l.sell).toBe([...pred].filter((x) => x < -l.threshold).length);
    }
    // about 5 % of decisions exceed the 95th percentile of |prediction|
    expect((p95.buy + p95.sell) / r.n).toBeGreaterThan(0.02);
    expect((p95.buy + p95.sell) / r.n).toBeLessThan(0.08);
  });

  it('text: a histogram, the quantiles and the ladder', async () => {
    const { code, out } = await capture(run, ['--db', fx.db, '--model', fx.model, '--threshold', '0.05']);
    expect(code).toBe(0);
    expect(out).toMatch(/histogram:/);
    expect(out).toMatch(/#{10,}/);
    expect(out).toMatch(/p50 /);
    expect(out).toMatch(/--threshold/);
    expect(out).toMatch(/p95\|pred\|/);
  });

  it('refuses a model of another feature set, naming the difference', async () => {
    await expect(capture(run, ['--db', fx.db, '--model', fx.mismatched])).rejects.toThrow(/reordered: imb_l/);
  });
});

describe('prediction helpers', () => {
  it.each([
    // pred, y, threshold -> buy, sell, hit rate, edge
    { pred: [2, -2, 0.5, 3], y: [1, 1, 5, -2], t: 1, buy: 2, sell: 1, hit: 1 / 3, edge: (1 - 1 - 2) / 3 },
    { pred: [0.1, -0.1], y: [1, -1], t: 0.5, buy: 0, sell: 0, hit: NaN, edge: NaN },
    { pred: [1, 1], y: [0, 2], t: 0, buy: 2, sell: 0, hit: 1, edge: 1 }, // zero labels are not judged
  ])('thresholdRow %#', ({ pred, y, t, buy, sell, hit, edge }) => {
    const r = thresholdRow(pred, y, t, 'x', 1);
    expect([r.buy, r.sell]).toEqual([buy, sell]);
    expect(r.hitRate).toEqual(hit);
    expect(r.meanEdgeBps).toEqual(edge);
  });
  it('histogram marks the bins holding ±threshold', () => {
    const lines = histogramLines([-1, -0.5, 0, 0.5, 1], 0.3, 4);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/-threshold/);
    expect(lines[2]).toMatch(/\+threshold/);
    expect(histogramLines([0.2, 0.2], 1)).toEqual(['all 2 predictions equal 0.2']);
  });
});
