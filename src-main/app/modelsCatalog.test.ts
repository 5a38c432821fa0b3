// The model info the app shows: headline metrics and the gain importance the Features panel sorts by.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { importanceOf, readModelInfo } from './modelsCatalog.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-catalog-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('readModelInfo', () => {
  it("carries the bundled model's gain importance for every feature, summing to 1", () => {
    const info = readModelInfo(path.join(PROJECT_ROOT, 'models', 'default.onnx'));
    expect(info?.importance).toBeDefined();
    const imp = info!.importance!;
    expect(Object.keys(imp).sort()).toEqual([...FEATURE_SET.names].sort());
    expect(Object.values(imp).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('has no importance when the metadata has none (the panel then shows —)', () => {
    const onnx = path.join(dir, 'bare.onnx');
    fs.writeFileSync(path.join(dir, 'bare.json'), JSON.stringify({ name: 'bare', metrics: { ic: 0.1 } }));
    const info = readModelInfo(onnx);
    expect(info).toMatchObject({ name: 'bare', metrics: { ic: 0.1 } });
    expect(info).not.toHaveProperty('importance');
  });
});

describe('importanceOf', () => {
  it('keeps finite numbers only', () => {
    expect(importanceOf({ a: 0.5, b: 'x', c: null, d: Infinity, e: 0.25 })).toEqual({
      importance: { a: 0.5, e: 0.25 },
    });
    expect(importanceOf(undefined)).toEqual({});
    expect(importanceOf({ a: 'x' })).toEqual({});
  });
});
