import { describe, expect, it } from 'vitest';
import type { FeaturesView } from '../src-shared/ipc.ts';
import { compact, featureRows, zBar, zScore } from './featureRows.ts';

const view: FeaturesView = {
  t: 1_000,
  featureSetVersion: 'x',
  names: ['spread_bps', 'imb_l1', 'ofi_1s', 'rv_5s'],
  values: [0.02, -0.5, null, 3],
  mean: [0.02, 0.1, 0, 1],
  std: [0, 0.3, 1, 0.5],
  n: 40,
};

describe('zScore', () => {
  it('is (x − mean) / std, and NaN when it cannot be told', () => {
    expect(zScore(-0.5, 0.1, 0.3)).toBeCloseTo(-2, 12);
    expect(zScore(3, 1, 0.5)).toBe(4);
    expect(zScore(null, 0, 1)).toBeNaN();
    expect(zScore(1, null, 1)).toBeNaN();
    expect(zScore(1, 0, null)).toBeNaN();
    expect(zScore(1, 1, 0)).toBeNaN(); // never varied
    expect(zScore(100.000001, 100, 1e-10)).toBeNaN(); // float noise around a constant
  });
});

describe('featureRows', () => {
  it('sorts by gain importance, features without one last in feature-set order', () => {
    const rows = featureRows(view, { ofi_1s: 0.1, rv_5s: 0.6, imb_l1: 0.3 });
    expect(rows.map((r) => r.name)).toEqual(['rv_5s', 'imb_l1', 'ofi_1s', 'spread_bps']);
    expect(rows[0]).toMatchObject({ value: 3, importance: 0.6, z: 4 });
    expect(rows[1].z).toBeCloseTo(-2, 12);
    expect(rows[2].z).toBeNaN(); // no value
    expect(rows[3]).toMatchObject({ importance: null });
    expect(rows[3].z).toBeNaN(); // no spread
  });

  it('keeps the feature-set order when the model has no importance', () => {
    expect(featureRows(view, undefined).map((r) => r.name)).toEqual(view.names);
    expect(featureRows(view, {}).every((r) => r.importance === null)).toBe(true);
  });
});

describe('zBar', () => {
  it('grows from the centre towards the side of the sign, clipped at ±3 sd', () => {
    expect(zBar(0)).toEqual({ left: 50, width: 0 });
    expect(zBar(1.5)).toEqual({ left: 50, width: 25 });
    expect(zBar(-1.5)).toEqual({ left: 25, width: 25 });
    expect(zBar(-10)).toEqual({ left: 0, width: 50 });
    expect(zBar(7)).toEqual({ left: 50, width: 50 });
    expect(zBar(NaN)).toEqual({ left: 50, width: 0 });
  });
});

describe('compact', () => {
  it('shows about three significant digits at any scale', () => {
    expect(compact(null)).toBe('—');
    expect(compact(NaN)).toBe('—');
    expect(compact(0)).toBe('0');
    expect(compact(12345.6)).toBe('12,346');
    expect(compact(-123.45)).toBe('-123.5');
    expect(compact(1.23456)).toBe('1.23');
    expect(compact(-0.0123456)).toBe('-0.0123');
    expect(compact(0.00001234)).toBe('1.2e-5');
    expect(compact(2.5e7)).toBe('2.50e+7');
  });
});
