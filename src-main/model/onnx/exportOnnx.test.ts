import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { predict } from '../gbdt/model.ts';
import { Prng } from '../gbdt/prng.ts';
import { trainGbdt, DEFAULT_PARAMS } from '../gbdt/train.ts';
import { constantEnsemble } from '../testing/constantModel.ts';
import { exportOnnx } from './exportOnnx.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-onnx-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function synth(n: number, nf: number, seed: number) {
  const rng = new Prng(seed);
  const X = new Float32Array(n * nf);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < nf; f++)
      X[i * nf + f] = rng.next() < 0.3 ? Math.round(rng.next() * 4) : rng.next() * 10 - 5;
    y[i] = Math.sin(X[i * nf]) * 3 + X[i * nf + 1] * X[i * nf + 2] * 0.2 + rng.next();
  }
  return { X, y, n, nFeatures: nf };
}

async function runOrt(file: string, X: Float32Array, n: number, nf: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ features: new ort.Tensor('float32', X, [n, nf]) });
    expect(out.prediction.dims).toEqual([n, 1]);
    return out.prediction.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('exportOnnx', () => {
  it("onnxruntime reproduces the trainer's predictions within 1e-5 on 10k rows", async () => {
    const nf = 8;
    const train = synth(20_000, nf, 1);
    const test = synth(10_000, nf, 2);
    // Test rows sitting exactly on split thresholds check the <= rule on both sides.
    const { model } = trainGbdt(train, {
      ...DEFAULT_PARAMS,
      rounds: 60,
      maxDepth: 5,
      bins: 32,
      earlyStoppingRounds: 0,
    });
    for (let i = 0; i < 2000; i++) {
      const k = (i * 7919) % model.feature.length;
      if (model.feature[k] >= 0) test.X[i * nf + model.feature[k]] = model.threshold[k];
    }
    const file = path.join(dir, 'm.onnx');
    exportOnnx(model, file, {
      featureNames: Array.from({ length: nf }, (_, f) => `f${f}`),
      featureSetVersion: 't1',
    });
    const ours = predict(model, test.X, test.n);
    const theirs = await runOrt(file, test.X, test.n, nf);
    let maxDiff = 0;
    for (let i = 0; i < test.n; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    // The model is not trivial: predictions vary.
    expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(1);
  });

  it('NaN features follow the same branch (right) in both', async () => {
    const nf = 3;
    const train = synth(3000, nf, 3);
    const { model } = trainGbdt(train, {
      ...DEFAULT_PARAMS,
      rounds: 10,
      maxDepth: 3,
      earlyStoppingRounds: 0,
    });
    const X = new Float32Array([NaN, 1, 2, 0.5, NaN, NaN, NaN, NaN, NaN]);
    const file = path.join(dir, 'nan.onnx');
    exportOnnx(model, file, { featureNames: ['a', 'b', 'c'], featureSetVersion: 't1' });
    const theirs = await runOrt(file, X, 3, nf);
    const ours = predict(model, X, 3);
    for (let i = 0; i < 3; i++) expect(Math.abs(theirs[i] - ours[i])).toBeLessThan(1e-5);
  });

  it('exports a model without trees as its base value', async () => {
    const m = constantEnsemble(1.5, 2);
    const file = path.join(dir, 'empty.onnx');
    exportOnnx(m, file, { featureNames: ['a', 'b'], featureSetVersion: 't1' });
    const out = await runOrt(file, new Float32Array([1, 2, 3, 4]), 2, 2);
    expect(Array.from(out)).toEqual([1.5, 1.5]);
  });

  it('rejects a feature-name list of the wrong length', () => {
    const train = synth(500, 2, 4);
    const { model } = trainGbdt(train, {
      ...DEFAULT_PARAMS,
      rounds: 2,
      earlyStoppingRounds: 0,
      minSamplesLeaf: 5,
    });
    expect(() =>
      exportOnnx(model, path.join(dir, 'x.onnx'), { featureNames: ['a'], featureSetVersion: 't' }),
    ).toThrow(/1 feature names/);
  });
});
