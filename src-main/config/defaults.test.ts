// Guards against the seed system's bug: a default threshold that no honest prediction of the bundled model
// can cross, so that the app shows no signals out of the box.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from './loadConfig.ts';

describe('bundled defaults', () => {
  it('set a threshold that the bundled model crosses sometimes, but not on most decisions', () => {
    const config = loadConfig({ ignoreUserFile: true });
    const meta = JSON.parse(
      fs.readFileSync(path.join(PROJECT_ROOT, config.model.path.replace(/\.onnx$/, '.json')), 'utf8'),
    ) as { metrics: { pred_quantiles: Record<string, number> } };
    const q = meta.metrics.pred_quantiles;
    const absP99 = Math.max(Math.abs(q.p01), Math.abs(q.p99));
    const absP50 = Math.abs(q.p50);
    expect(config.trading.threshold).toBeLessThan(absP99);
    expect(config.trading.threshold).toBeGreaterThan(absP50);
  });
});
