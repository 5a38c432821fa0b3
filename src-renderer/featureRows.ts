// The Features panel's rows: each feature's latest value, its z-score against the session's running mean and
// standard deviation, and the model's gain importance; most important first. Pure, so it is unit-tested.
import type { FeaturesView } from '../src-shared/ipc.ts';

export interface FeatureRow {
  name: string;
  value: number | null;
  mean: number | null;
  std: number | null;
  /** NaN when it cannot be told (no value, fewer than two, or no spread). */
  z: number;
  /** Gain share (0..1); null when the model's metadata has none for this feature. */
  importance: number | null;
}

/** (x − mean) / std; NaN when any is missing or the feature has not varied. */
export function zScore(x: number | null, mean: number | null, std: number | null): number {
  if (x === null || mean === null || std === null || !(std > 0)) return NaN;
  // A spread this small against the mean is float noise (a constant feature seen through float32).
  if (std <= 1e-9 * Math.max(1, Math.abs(mean))) return NaN;
  return (x - mean) / std;
}

/** Sorted by importance (highest first), then features without one in the feature set's order. */
export function featureRows(view: FeaturesView, importance?: Record<string, number> | null): FeatureRow[] {
  const rows = view.names.map((name, i) => {
    const value = view.values[i] ?? null;
    const mean = view.mean[i] ?? null;
    const std = view.std[i] ?? null;
    const imp = importance?.[name];
    return {
      name,
      value,
      mean,
      std,
      z: zScore(value, mean, std),
      importance: typeof imp === 'number' && Number.isFinite(imp) ? imp : null,
      i,
    };
  });
  rows.sort((a, b) => {
    if (a.importance !== null && b.importance !== null && a.importance !== b.importance)
      return b.importance - a.importance;
    if ((a.importance === null) !== (b.importance === null)) return a.importance === null ? 1 : -1;
    return a.i - b.i;
  });
  return rows.map(({ i: _i, ...r }) => r);
}

/**
 * Where a z-score bar is drawn in a box whose centre is the mean: left edge and width in percent of the box,
 * clipped at ±clip standard deviations.
 */
export function zBar(z: number, clip = 3): { left: number; width: number } {
  if (!Number.isFinite(z)) return { left: 50, width: 0 };
  const w = (Math.min(Math.abs(z), clip) / clip) * 50;
  return { left: z < 0 ? 50 - w : 50, width: w };
}

/** A feature value in a narrow column: about 3 significant digits whatever its scale, no exponent below 1e6. */
export function compact(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1e6) return x.toExponential(2);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.001) return x.toPrecision(3);
  return x.toExponential(1);
}
