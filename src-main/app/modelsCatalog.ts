// Lists the models a user can trade with: every X.onnx that has its X.json metadata beside it, in the bundled
// models/ folder and the folder retrained models are written to.
import fs from 'node:fs';
import path from 'node:path';
import type { ModelInfo } from '../../src-shared/ipc.ts';
import { DEFAULT_MODEL_FILE_LIMITS, readModelFileBytes } from '../model/modelFileReader.ts';

type Meta = {
  name?: unknown;
  feature_set?: { version?: unknown };
  metrics?: Record<string, unknown>;
  created_at?: unknown;
};

/** The headline validation metrics shown in the UI (numbers only, short names). */
export function headlineMetrics(m: Record<string, unknown> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!m) return out;
  for (const [k, label] of [
    ['ic', 'ic'],
    ['r2', 'r2'],
    ['hit_rate', 'hitRate'],
    ['mse', 'mse'],
    ['n_train', 'nTrain'],
    ['n_valid', 'nValid'],
  ] as const) {
    const v = m[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[label] = v;
  }
  return out;
}

/** The 95% intervals of the headline metrics (metrics.ic_ci, ...), under the headline names; nothing when absent. */
export function intervalsOf(m: Record<string, unknown> | undefined): {
  intervals?: Record<string, [number, number]>;
} {
  const out: Record<string, [number, number]> = {};
  for (const [k, label] of [
    ['ic_ci', 'ic'],
    ['r2_ci', 'r2'],
    ['hit_rate_ci', 'hitRate'],
  ] as const) {
    const v = m?.[k];
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      out[label] = [v[0] as number, v[1] as number];
  }
  return Object.keys(out).length ? { intervals: out } : {};
}

/** The trainer's gain importance per feature (metrics.feature_importance), numbers only; nothing when absent. */
export function importanceOf(v: unknown): { importance?: Record<string, number> } {
  if (!v || typeof v !== 'object') return {};
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'number' && Number.isFinite(x)) out[k] = x;
  return Object.keys(out).length ? { importance: out } : {};
}

export function readModelInfo(onnxPath: string): ModelInfo | null {
  const metaFile = onnxPath.replace(/\.onnx$/i, '') + '.json';
  try {
    // Bounded read: a models folder may hold anything, and listing it must not read a FIFO or a huge file.
    const text = readModelFileBytes(metaFile, 'meta', DEFAULT_MODEL_FILE_LIMITS.metaBytes).toString('utf8');
    const meta = JSON.parse(text) as Meta;
    return {
      name: typeof meta.name === 'string' ? meta.name : path.basename(onnxPath, '.onnx'),
      path: onnxPath,
      featureSetVersion: String(meta.feature_set?.version ?? '?'),
      trainedAt: typeof meta.created_at === 'number' ? meta.created_at : null,
      metrics: headlineMetrics(meta.metrics),
      ...importanceOf(meta.metrics?.feature_importance),
      ...intervalsOf(meta.metrics),
    };
  } catch {
    return null;
  }
}

export function listModels(dirs: readonly string[]): ModelInfo[] {
  const out: ModelInfo[] = [];
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.filter((x) => x.endsWith('.onnx')).sort()) {
      const info = readModelInfo(path.join(dir, n));
      if (info) out.push(info);
    }
  }
  return out;
}
