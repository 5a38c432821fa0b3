// The metadata JSON written beside every X.onnx: what the model expects (feature names, order and set version),
// what it predicts (horizon), what it was trained on, how, and how well it did. The predictor checks it on load.
import fs from 'node:fs';
import { z } from 'zod';

export const MODEL_FORMAT = 'l2desk-model';
export const MODEL_FORMAT_VERSION = 1;

const quantiles = z.record(z.string(), z.number());
const interval = z.tuple([z.number(), z.number()]);

export const modelMetricsSchema = z.object({
  /** Validation R² of the final model on the held-out (embargoed) fold. */
  r2: z.number(),
  /** Information coefficient: Spearman rank correlation of prediction and label. */
  ic: z.number(),
  /** Share of validation rows with sign(prediction) = sign(label), over rows with a non-zero label. */
  hit_rate: z.number(),
  mse: z.number(),
  /** 95% intervals of r2, ic and hit_rate from a moving-block bootstrap over the validation rows (blocks of at
   * least one label horizon: the rows' labels overlap). Absent from older models, or when undefined. */
  r2_ci: interval.optional(),
  ic_ci: interval.optional(),
  hit_rate_ci: interval.optional(),
  n_train: z.number().int().nonnegative(),
  n_valid: z.number().int().nonnegative(),
  /** Quantiles of the validation predictions (keys "p01", "p05", ... "p99"), in label units. */
  pred_quantiles: quantiles,
  /** Quantiles of |label| on validation: for comparing with the trading threshold. */
  label_abs_quantiles: quantiles.optional(),
  /** Gain importance per feature name, summing to 1. */
  feature_importance: z.record(z.string(), z.number()),
  /** Mean metrics of the chosen parameters on the rows tuning selected on (optimistic: the best of the trials):
   * earlier walk-forward folds, or with one fold an inner split of the training rows. Never the holdout. */
  cv: z
    .object({
      r2: z.number(),
      ic: z.number(),
      hit_rate: z.number(),
      folds: z.number().int(),
      selected_on: z.enum(['walk_forward_folds', 'inner_split']).optional(),
    })
    .optional(),
});
export type ModelMetrics = z.infer<typeof modelMetricsSchema>;

export const modelMetaSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  format_version: z.literal(MODEL_FORMAT_VERSION),
  name: z.string(),
  feature_set: z.object({ version: z.string(), names: z.array(z.string()).min(1) }),
  label: z.object({ kind: z.literal('mid_log_return_bps'), horizon_ms: z.number().positive() }),
  training: z.object({
    from_ts: z.number(),
    to_ts: z.number(),
    sessions: z.array(z.number().int()),
    decision_interval_ms: z.number().nonnegative().optional(),
    /** What each training session is (source, simulator seed, fingerprint): backtest flags the same data as in
     * sample whatever its clock (see dataIdentity.ts). Absent from older models. */
    data: z
      .array(
        z.object({
          session: z.number().int(),
          source: z.string(),
          symbol: z.string(),
          seed: z.number().int().nullable(),
          fingerprint: z.string(),
          first_recv_ts: z.number(),
        }),
      )
      .optional(),
  }),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  n_trees: z.number().int().nonnegative(),
  metrics: modelMetricsSchema,
  /** Creation time (ms since epoch), given by the caller. */
  created_at: z.number(),
});
export type ModelMeta = z.infer<typeof modelMetaSchema>;

/** `dir/x.onnx` → `dir/x.json`. */
export function metaPathFor(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/i, '') + '.json';
}

export function writeModelMeta(onnxPath: string, meta: ModelMeta): string {
  const file = metaPathFor(onnxPath);
  fs.writeFileSync(file, JSON.stringify(modelMetaSchema.parse(meta), null, 2) + '\n');
  return file;
}
