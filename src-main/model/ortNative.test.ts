import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { createSyncSession } from './ortNative.ts';
import { Predictor } from './predictor.ts';
import { FEATURE_SET } from '../features/featureSet.ts';

const MODEL = path.join(PROJECT_ROOT, 'models', 'default.onnx');
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const };

describe('synchronous native session', () => {
  it('gives exactly the public async API outputs, row by row and in a batch', async () => {
    const bytes = fs.readFileSync(MODEL);
    const sync = createSyncSession(bytes, OPTIONS);
    expect(sync).not.toBeNull();
    const pub = await ort.InferenceSession.create(bytes, OPTIONS);
    const nf = FEATURE_SET.names.length;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2;
    const n = 500;
    const rows = Float32Array.from({ length: n * nf }, rnd);
    const batch = new ort.Tensor('float32', rows, [n, nf]);
    const want = (await pub.run({ features: batch })).prediction.data as Float32Array;
    expect(sync!.run({ features: batch }, 'prediction')).toEqual(want);
    for (let i = 0; i < n; i += 37) {
      const one = new ort.Tensor('float32', rows.slice(i * nf, (i + 1) * nf), [1, nf]);
      expect(sync!.run({ features: one }, 'prediction')[0]).toBe(want[i]);
    }
    // the predictor takes the synchronous path and agrees with it
    const p = await Predictor.load(MODEL, FEATURE_SET);
    expect(p.synchronous).toBe(true);
    expect(p.predictNow(rows.subarray(0, nf))).toBe(want[0]);
    expect(await p.predict(rows.subarray(nf, 2 * nf))).toBe(want[1]);
    expect(() => p.predictNow(new Float32Array(nf - 1))).toThrow(/row has 22 values, the model takes 23/);
    await p.close();
    expect(() => p.predictNow(rows.subarray(0, nf))).toThrow(/closed/);
    sync!.dispose();
    await pub.release();
  });

  it("throws onnxruntime's own error on bytes that are not a model", () => {
    expect(() => createSyncSession(new Uint8Array([1, 2, 3, 4, 5]), OPTIONS)).toThrow(
      /protobuf parsing failed/,
    );
  });
});
