// The model tests trade with: the bundled models/default.onnx when it exists and matches the running feature
// set, else a tiny GBDT trained on the given session with the real trainer and exported to ONNX.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config/loadConfig.ts';
import { FEATURE_SET } from '../../features/featureSet.ts';
import { Predictor } from '../../model/predictor.ts';
import type { Db } from '../../store/db.ts';
import { trainTinyModel } from './tinyModel.ts';

export async function testModelPath(
  db: Db,
  sessionId: number,
  dir: string,
): Promise<{ path: string; bundled: boolean }> {
  const bundled = path.join(PROJECT_ROOT, 'models', 'default.onnx');
  if (fs.existsSync(bundled)) {
    try {
      const p = await Predictor.load(bundled, FEATURE_SET);
      await p.close();
      return { path: bundled, bundled: true };
    } catch {
      // stale or mismatched bundled model: fall through to a fresh one
    }
  }
  return { path: trainTinyModel(db, sessionId, path.join(dir, 'tiny.onnx')), bundled: false };
}
