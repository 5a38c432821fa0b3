import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../src-shared/ipc.ts';
import { betterModel } from './appService.ts';

const model = (metrics: Record<string, number>): ModelInfo => ({
  name: 'm',
  path: '/m.onnx',
  featureSetVersion: 'v',
  trainedAt: null,
  metrics,
});

describe('betterModel (auto-accept rule)', () => {
  it.each([
    [{ ic: 0.3 }, null, true], // nothing to beat
    [{ ic: 0.3, mse: 2 }, { ic: 0.2, mse: 1 }, true], // scale-free IC decides before MSE
    [{ ic: 0.1, mse: 1 }, { ic: 0.2, mse: 2 }, false],
    [{ r2: 0.05 }, { r2: 0.01 }, true],
    [{ mse: 0.9 }, { mse: 1.0 }, true], // only MSE in common: lower wins
    [{ mse: 1.1 }, { mse: 1.0 }, false],
    [{ ic: 0.3 }, { mse: 1 }, false], // nothing comparable: keep the current model
  ])('%j vs %j → %s', (cand, cur, want) => {
    expect(betterModel(model(cand), cur ? model(cur) : null)).toBe(want);
  });
});
