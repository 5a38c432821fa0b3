import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict, type TreeEnsemble } from './gbdt/model.ts';
import { Prng } from './gbdt/prng.ts';
import { DEFAULT_PARAMS, trainGbdt } from './gbdt/train.ts';
import { writeModel } from './modelFiles.ts';
import type { ModelMeta } from './modelMeta.ts';
import { ModelFileError, ModelMismatchError, Predictor } from './predictor.ts';

const NAMES = ['spread_bps', 'imbalance_1', 'ofi_1s', 'ret_5s'];
const SET = { version: 'fs-test-1', names: NAMES };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-pred-'));
let model: TreeEnsemble;
let X: Float32Array;
const N = 500;

function meta(names: string[], version = SET.version): ModelMeta {
  return {
    format: 'l2desk-model',
    format_version: 1,
    name: 'test',
    feature_set: { version, names },
    label: { kind: 'mid_log_return_bps', horizon_ms: 10_000 },
    training: { from_ts: 0, to_ts: 1, sessions: [1] },
    params: { rounds: 20 },
    n_trees: 20,
    metrics: {
      r2: 0.1,
      ic: 0.2,
      hit_rate: 0.55,
      mse: 1,
      n_train: 1,
      n_valid: 1,
      pred_quantiles: {},
      feature_importance: {},
    },
    created_at: 0,
  };
}

beforeAll(() => {
  const rng = new Prng(5);
  const n = 4000;
  const Xt = new Float32Array(n * 4);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < 4; f++) Xt[i * 4 + f] = rng.next() * 2 - 1;
    y[i] = 3 * Xt[i * 4 + 1] - 2 * Xt[i * 4 + 2] + rng.next();
  }
  model = trainGbdt(
    { X: Xt, y, n, nFeatures: 4 },
    { ...DEFAULT_PARAMS, rounds: 20, earlyStoppingRounds: 0 },
  ).model;
  X = Xt.slice(0, N * 4);
  writeModel(path.join(dir, 'good.onnx'), model, meta(NAMES));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Copies good.onnx/json to name.onnx/json, then lets the test damage one of them. */
function variant(name: string, edit: (onnx: string, json: string) => void): string {
  const onnx = path.join(dir, `${name}.onnx`);
  const json = path.join(dir, `${name}.json`);
  fs.copyFileSync(path.join(dir, 'good.onnx'), onnx);
  fs.copyFileSync(path.join(dir, 'good.json'), json);
  edit(onnx, json);
  return onnx;
}

describe('Predictor', () => {
  it('single-row and batch paths agree with the trainer', async () => {
    const p = await Predictor.load(path.join(dir, 'good.onnx'), SET);
    try {
      expect(p.meta.feature_set.names).toEqual(NAMES);
      const ours = predict(model, X, N);
      const batch = await p.predictBatch(X, N);
      for (let i = 0; i < N; i++) {
        const single = await p.predict(X.subarray(i * 4, i * 4 + 4));
        expect(Math.abs(single - ours[i])).toBeLessThan(1e-5);
        expect(batch[i]).toBe(single);
      }
      await expect(p.predict(new Float32Array(3))).rejects.toThrow(/3 values/);
      // Overlapping single-row calls (not awaited one by one) each get their own row's prediction.
      const rows = Array.from({ length: 20 }, (_, i) => X.slice(i * 4, i * 4 + 4));
      const concurrent = await Promise.all(rows.map((r) => p.predict(r)));
      concurrent.forEach((v, i) => expect(Math.abs(v - ours[i])).toBeLessThan(1e-5));
    } finally {
      await p.close();
    }
  });

  it('close() lets the runs already started finish (a hot swap closes the old model right away)', async () => {
    const p = await Predictor.load(path.join(dir, 'good.onnx'), SET);
    const ours = predict(model, X, N);
    const single = p.predict(X.subarray(0, 4));
    const batch = p.predictBatch(X, N);
    await p.close();
    expect(Math.abs((await single) - ours[0])).toBeLessThan(1e-5);
    expect(Math.abs((await batch)[N - 1] - ours[N - 1])).toBeLessThan(1e-5);
    await expect(p.predict(X.subarray(0, 4))).rejects.toThrow(/closed/);
  });

  it.each([
    { what: 'missing', running: [...NAMES, 'tfi_5s'], re: /missing from the model: tfi_5s/ },
    { what: 'extra', running: NAMES.slice(0, 3), re: /extra in the model.*: ret_5s/ },
    {
      what: 'reordered',
      running: [NAMES[0], NAMES[2], NAMES[1], NAMES[3]],
      re: /reordered: imbalance_1 \(model #1, running #2\), ofi_1s \(model #2, running #1\)/,
    },
  ])('refuses a model with $what features, naming them', async ({ running, re }) => {
    const err = await Predictor.load(path.join(dir, 'good.onnx'), {
      version: SET.version,
      names: running,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelMismatchError);
    expect((err as Error).message).toMatch(re);
  });

  it('refuses a model of another feature-set version with the same names', async () => {
    const err = await Predictor.load(path.join(dir, 'good.onnx'), {
      version: 'fs-test-2',
      names: NAMES,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelMismatchError);
    expect((err as Error).message).toMatch(/version fs-test-1 differs from the running fs-test-2/);
  });

  it.each([
    { what: 'a missing .onnx', edit: (o: string) => fs.rmSync(o), re: /cannot be read \(ENOENT\)/ },
    {
      what: 'both files missing',
      edit: (o: string, j: string) => (fs.rmSync(o), fs.rmSync(j)),
      re: /^model file .*both_files_missing\.onnx cannot be read \(ENOENT/,
    },
    {
      what: 'a directory as the model path',
      edit: (o: string) => (fs.rmSync(o), fs.mkdirSync(o)),
      re: /is a directory, not a model file/,
    },
    {
      what: 'a missing .json',
      edit: (_o: string, j: string) => fs.rmSync(j),
      re: /metadata .* cannot be read \(ENOENT\)/,
    },
    {
      what: 'a truncated .onnx',
      edit: (o: string) => fs.writeFileSync(o, fs.readFileSync(o).subarray(0, 200)),
      re: /not a valid ONNX model/,
    },
    {
      what: 'random bytes',
      edit: (o: string) =>
        fs.writeFileSync(o, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24))),
      re: /not a valid ONNX model/,
    },
    {
      what: 'corrupt JSON',
      edit: (_o: string, j: string) => fs.writeFileSync(j, '{"format": "l2desk-model", '),
      re: /not valid JSON/,
    },
    {
      what: 'JSON of another kind',
      edit: (_o: string, j: string) => fs.writeFileSync(j, '{"hello": 1}'),
      re: /not an L2 Desk model description: format/,
    },
  ])('refuses $what with a ModelFileError', async ({ what, edit, re }) => {
    const file = variant(what.replace(/\W+/g, '_'), edit);
    const err = await Predictor.load(file, SET).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(re);
  });

  it('refuses an .onnx whose feature count differs from its metadata', async () => {
    const names = [...NAMES, 'extra_feature'];
    const file = variant('wrong_count', (_o, j) => fs.writeFileSync(j, JSON.stringify(meta(names))));
    const err = await Predictor.load(file, { version: SET.version, names }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(/does not take the 5 features its metadata lists/);
  });
});
