import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, niceThreshold, type Diagnosis } from './diagnose.ts';
import { run as runPredictions } from './predictions.ts';
import { syntheticEvents } from '../features/testing/syntheticMarket.ts';
import { openDb } from '../store/db.ts';
import { storeEvents } from '../store/testing/storeEvents.ts';
import { capture, makeFixture, type Fixture } from './predictionsFixture.ts';

let fx: Fixture;
let maxAbs: number;
let p95: number;
beforeAll(async () => {
  fx = makeFixture();
  const r = JSON.parse(
    (await capture(runPredictions, ['--db', fx.db, '--model', fx.model, '--json'])).out,
  ) as { max_abs: number; abs_quantiles: { p95: number } };
  maxAbs = r.max_abs;
  p95 = r.abs_quantiles.p95;
});
afterAll(() => fx?.cleanup());

const diag = async (...extra: string[]) => {
  const { code, out } = await capture(run, ['--db', fx.db, '--model', fx.model, '--json', ...extra]);
  return { code, d: JSON.parse(out) as Diagnosis };
};

describe('l2desk diagnose', () => {
  it('names the cause: a threshold above every prediction, with a threshold that would work', async () => {
    // the classic mistake: threshold 0.5 against predictions that never exceed 0.2
    const threshold = maxAbs * 2.5;
    const { code, d } = await diag('--threshold', String(threshold));
    expect(code).toBe(0);
    expect(d.signals).toMatchObject({ buy: 0, sell: 0 });
    expect(d.findings.map((f) => f.code)).toContain('threshold_above_all_predictions');
    expect(d.verdict).toMatch(/No signals because the threshold .* is above every prediction/);
    expect(d.verdict).not.toMatch(/seed/i);
    expect(d.suggestedThreshold).toBe(niceThreshold(p95));
    expect(d.suggestedThreshold!).toBeGreaterThan(0);
    expect(d.suggestedThreshold!).toBeLessThan(maxAbs);
    // and the suggestion does produce signals
    const ok = await diag('--threshold', String(d.suggestedThreshold));
    expect(ok.d.findings.map((f) => f.code)).not.toContain('threshold_above_all_predictions');
    expect(ok.d.signals!.buy + ok.d.signals!.sell).toBeGreaterThan(0);
    expect(ok.d.verdict).toMatch(/There are signals/);
  });

  it('text output says it in plain words', async () => {
    const { code, out } = await capture(run, [
      '--db',
      fx.db,
      '--model',
      fx.model,
      '--threshold',
      String(maxAbs * 2),
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/integrity ok/);
    expect(out).toMatch(/model matches feature set/);
    expect(out).toMatch(/ERROR threshold .* is above every prediction/);
    expect(out).toMatch(/Try --threshold /);
    expect(out).toMatch(/WARN .*inside the model's training span/);
  });

  it('a threshold just below the largest prediction is not the bug: the strongest predictions signal', async () => {
    const { d } = await diag('--threshold', String(maxAbs * 0.999));
    const codes = d.findings.map((f) => f.code);
    expect(codes).not.toContain('threshold_above_all_predictions');
    expect(codes.some((c) => c === 'few_signals' || c === 'signals')).toBe(true);
    expect(d.signals!.buy + d.signals!.sell).toBeGreaterThan(0);
  });

  it('judges the rows `predictions` judges, on the configured feed latency too', async () => {
    // Data with one clock (as imports and the simulator store it): trading.feed_latency moves its decisions on the
    // receive clock.
    const file = path.join(fx.dir, 'one-clock.db');
    const db = openDb(file);
    const T0 = 1_700_000_000_000;
    const events = syntheticEvents({ durationMs: 200_000, seed: 5 }).map((e) =>
      e.kind === 'gap' ? e : { ...e, recvTs: e.ts },
    );
    storeEvents(db, events, { startedAt: T0, endedAt: T0 + 200_000 });
    db.close();
    const common = ['--db', file, '--model', fx.model, '--json'];
    const summary = async (...extra: string[]) =>
      JSON.parse((await capture(runPredictions, [...common, ...extra])).out) as { n: number; mean: number };
    const set = ['--set', 'trading.feed_latency=700ms'];
    const p = await summary(...set);
    const d = JSON.parse((await capture(run, [...common, ...set])).out) as Diagnosis;
    expect(p.n).toBeGreaterThan(50);
    expect([d.predictions?.n, d.predictions?.mean]).toEqual([p.n, p.mean]);
    expect(p.mean).not.toBe((await summary()).mean);
  });

  it("judges the edge against the sessions' own fees: spot's round trip is not linear's", async () => {
    const spotDb = path.join(fx.dir, 'spot.db');
    fs.copyFileSync(fx.db, spotDb);
    const db = openDb(spotDb);
    db.prepare("UPDATE sessions SET category = 'spot'").run();
    db.close();
    // A spot fee so high that any edge is below it, and signals to judge.
    const args = ['--model', fx.model, '--json', '--threshold', String(p95 / 2)];
    const fee = ['--set', 'trading.spot_taker_fee=0.005'];
    const spot = JSON.parse((await capture(run, ['--db', spotDb, ...args, ...fee])).out) as Diagnosis;
    const edge = spot.findings.find((f) => f.code === 'edge_below_fees');
    expect(edge?.message).toMatch(/less than a spot taker round trip \(100 bps\)$/);
    expect(spot.verdict).toMatch(/below the spot taker round-trip fee \(100 bps\)/);
    const linear = JSON.parse((await capture(run, ['--db', fx.db, ...args, ...fee])).out) as Diagnosis;
    expect(JSON.stringify(linear.findings)).not.toMatch(/100 bps/);
  });

  it('names a feature-set mismatch as the cause (exit 1)', async () => {
    const { code, out } = await capture(run, ['--db', fx.db, '--model', fx.mismatched, '--json']);
    const d = JSON.parse(out) as Diagnosis;
    expect(code).toBe(1);
    expect(d.findings.find((f) => f.code === 'model_mismatch')?.message).toMatch(
      /reordered: imb_l5 .*imb_l1|reordered: imb_l1/,
    );
    expect(d.verdict).toMatch(/trained on different features \(reordered imb_l/);
  });

  it("a missing database is named, and the threshold is still judged from the model's validation predictions", async () => {
    const a = await capture(run, [
      '--db',
      path.join(fx.dir, 'nope.db'),
      '--model',
      fx.model,
      '--threshold',
      String(maxAbs * 3),
      '--json',
    ]);
    expect(a.code).toBe(1);
    const d = JSON.parse(a.out) as Diagnosis;
    const codes = d.findings.map((f) => f.code);
    expect(codes).toContain('db_missing');
    expect(codes).toContain('threshold_above_all_predictions');
    expect(d.verdict).toMatch(/above every prediction .*validation predictions/);
    expect(d.verdict).toMatch(/No stored data to check it on: .*nope\.db does not exist/);
    expect(d.suggestedThreshold!).toBeGreaterThan(0);
    expect(d.suggestedThreshold!).toBeLessThan(maxAbs);
    // a threshold inside the validation range is not blamed
    const b = await capture(run, [
      '--db',
      path.join(fx.dir, 'nope.db'),
      '--model',
      fx.model,
      '--threshold',
      String(p95 / 2),
      '--json',
    ]);
    expect((JSON.parse(b.out) as Diagnosis).findings.map((f) => f.code)).not.toContain(
      'threshold_above_all_predictions',
    );
  });

  it('unknown sessions and a missing model file are named (exit 1)', async () => {
    const c = await capture(run, ['--db', fx.db, '--model', fx.model, '--session', '99', '--json']);
    expect(c.code).toBe(1);
    expect((JSON.parse(c.out) as Diagnosis).verdict).toMatch(/Session\(s\) 99 are not in/);
    const b = await capture(run, ['--db', fx.db, '--model', path.join(fx.dir, 'nope.onnx'), '--json']);
    expect(b.code).toBe(1);
    expect((JSON.parse(b.out) as Diagnosis).findings.map((f) => f.code)).toContain('model_file');
  });

  it.each([
    [0.2345, 0.23],
    [1.99, 1.9],
    [12.5, 12],
    [0.0071, 0.0071],
    [0, 0],
  ])('niceThreshold(%d) = %d', (x, want) => {
    expect(niceThreshold(x)).toBe(want);
  });
});
