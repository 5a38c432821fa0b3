// Runs an exported model with onnxruntime-node: one session per model, reused for every call (run synchronously
// through the native binding where reachable, see ortNative.ts); the single-row path copies into one
// preallocated tensor. Loading checks the metadata against the running feature
// set, so a model built for other features is refused with the difference named (the classic "feature count
// mismatch" bug), and a missing or corrupt file is a ModelFileError telling the user what to do.
import * as ort from 'onnxruntime-node';
import { metaPathFor, modelMetaSchema, type ModelMeta } from './modelMeta.ts';
import {
  DEFAULT_MODEL_FILE_LIMITS,
  ModelFileError,
  readModelFileBytes,
  type ModelFileLimits,
} from './modelFileReader.ts';
import { createSyncSession, type SyncSession } from './ortNative.ts';

export { ModelFileError, type ModelFileLimits } from './modelFileReader.ts';

export interface FeatureSetSpec {
  version: string;
  names: readonly string[];
}

export interface FeatureDiff {
  /** In the running feature set, not in the model. */
  missing: string[];
  /** In the model, not in the running feature set. */
  extra: string[];
  /** In both, at different positions: name with model index → running index. */
  reordered: { name: string; model: number; running: number }[];
  versionModel: string;
  versionRunning: string;
}

export class ModelMismatchError extends Error {
  override name = 'ModelMismatchError';
  constructor(
    message: string,
    readonly diff: FeatureDiff,
  ) {
    super(message);
  }
}

/** Differences between a model's feature list and the running one (empty lists and equal versions: a match). */
export function diffFeatures(model: FeatureSetSpec, running: FeatureSetSpec): FeatureDiff {
  const inModel = new Map(model.names.map((n, i) => [n, i]));
  const inRunning = new Map(running.names.map((n, i) => [n, i]));
  const missing = running.names.filter((n) => !inModel.has(n));
  const extra = model.names.filter((n) => !inRunning.has(n));
  // Compare the order of the common names only, so one missing feature does not report every later one as moved.
  const commonModel = model.names.filter((n) => inRunning.has(n));
  const commonRunning = running.names.filter((n) => inModel.has(n));
  const reordered: FeatureDiff['reordered'] = [];
  commonModel.forEach((n, i) => {
    if (commonRunning[i] !== n)
      reordered.push({ name: n, model: inModel.get(n) as number, running: inRunning.get(n) as number });
  });
  return { missing, extra, reordered, versionModel: model.version, versionRunning: running.version };
}

export function describeDiff(d: FeatureDiff, file: string): string | null {
  const parts: string[] = [];
  if (d.missing.length) parts.push(`missing from the model: ${d.missing.join(', ')}`);
  if (d.extra.length) parts.push(`extra in the model (not computed by this build): ${d.extra.join(', ')}`);
  if (d.reordered.length) {
    const shown = d.reordered.slice(0, 8).map((r) => `${r.name} (model #${r.model}, running #${r.running})`);
    parts.push(
      `reordered: ${shown.join(', ')}${d.reordered.length > 8 ? ` and ${d.reordered.length - 8} more` : ''}`,
    );
  }
  if (parts.length === 0 && d.versionModel !== d.versionRunning) {
    parts.push(
      `same names, but feature-set version ${d.versionModel} differs from the running ${d.versionRunning}`,
    );
  }
  if (parts.length === 0) return null;
  return (
    `model ${file} was trained on feature set ${d.versionModel}, this build computes ${d.versionRunning}: ` +
    `${parts.join('; ')}. Retrain it with \`l2desk train\` (or \`npm run train:default\` for the bundled model).`
  );
}

/** Reads and validates X.json beside X.onnx. */
export function readModelMeta(
  onnxPath: string,
  limits: ModelFileLimits = DEFAULT_MODEL_FILE_LIMITS,
): ModelMeta {
  const file = metaPathFor(onnxPath);
  let text: string;
  try {
    text = readModelFileBytes(file, 'meta', limits.metaBytes).toString('utf8');
  } catch (e) {
    const m = (e as Error).message;
    // A missing or unreadable .json is most often a model copied without its pair: say so.
    throw new ModelFileError(
      / cannot be read /.test(m)
        ? `${m}; every model is a pair X.onnx + X.json — re-export or retrain it`
        : m,
      file,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(
      `model metadata ${file} is not valid JSON (${(e as Error).message}); retrain or restore the file`,
      file,
    );
  }
  const parsed = modelMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFileError(
      `model metadata ${file} is not an L2 Desk model description: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      file,
    );
  }
  return parsed.data;
}

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** The loaded model: the native session run synchronously where reachable, else the public async API. */
type Runner = { kind: 'sync'; session: SyncSession } | { kind: 'async'; session: ort.InferenceSession };

export class Predictor {
  private readonly nf: number;
  private readonly row: Float32Array;
  private readonly rowTensor: ort.Tensor;
  private closed = false;
  /** The shared single-row tensor is in use by an async call that has not finished yet. */
  private rowBusy = false;
  /** Async runs started and not finished: close() waits for them (a hot swap closes the old model right after). */
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(
    private readonly runner: Runner,
    readonly meta: ModelMeta,
    readonly path: string,
  ) {
    this.nf = meta.feature_set.names.length;
    this.row = new Float32Array(this.nf);
    this.rowTensor = new ort.Tensor('float32', this.row, [1, this.nf]);
  }

  /** Loads X.onnx + X.json, refusing a model whose features differ from `expected` or whose files are bad. */
  static async load(
    onnxPath: string,
    expected: FeatureSetSpec,
    limits: ModelFileLimits = DEFAULT_MODEL_FILE_LIMITS,
  ): Promise<Predictor> {
    // The .onnx itself first: a wrong path (or a folder of models) is named as such, not as a missing .json. The
    // reader refuses anything but a regular file under the size cap before reading a byte (/dev/zero, a FIFO).
    const bytes = readModelFileBytes(onnxPath, 'onnx', limits.onnxBytes);
    const meta = readModelMeta(onnxPath, limits);
    const msg = describeDiff(diffFeatures(meta.feature_set, expected), onnxPath);
    if (msg) throw new ModelMismatchError(msg, diffFeatures(meta.feature_set, expected));
    let runner: Runner;
    try {
      const sync = createSyncSession(bytes, SESSION_OPTIONS);
      runner = sync
        ? { kind: 'sync', session: sync }
        : { kind: 'async', session: await ort.InferenceSession.create(bytes, SESSION_OPTIONS) };
    } catch (e) {
      throw new ModelFileError(
        `model file ${onnxPath} is not a valid ONNX model (${firstLine(e)}); retrain it or restore the file`,
        onnxPath,
      );
    }
    const p = new Predictor(runner, meta, onnxPath);
    const { inputNames, outputNames } = runner.session;
    if (!inputNames.includes('features') || !outputNames.includes('prediction')) {
      await p.release();
      throw new ModelFileError(
        `model file ${onnxPath} has inputs [${inputNames}] and outputs [${outputNames}]; expected features → prediction`,
        onnxPath,
      );
    }
    // One trial run proves the graph takes exactly as many features as the metadata lists.
    try {
      await p.predict(new Float32Array(p.nf));
    } catch (e) {
      await p.release();
      throw new ModelFileError(
        `model file ${onnxPath} does not take the ${p.nf} features its metadata lists (${firstLine(e)}); the .onnx and .json do not belong together`,
        onnxPath,
      );
    }
    return p;
  }

  get featureCount(): number {
    return this.nf;
  }

  /** True when predictNow is available (the native session was reachable). */
  get synchronous(): boolean {
    return this.runner.kind === 'sync';
  }

  /** Prediction for one row, computed before returning (no event-loop hop); only when `synchronous`. */
  predictNow(row: Float32Array | Float64Array): number {
    this.checkRow(row, 'predictNow');
    if (this.runner.kind !== 'sync')
      throw new Error('predictNow: this onnxruntime-node has no synchronous path');
    this.row.set(row);
    return this.runner.session.run({ features: this.rowTensor }, 'prediction')[0];
  }

  /** Prediction for one row of `featureCount` values, in label units (bps). */
  async predict(row: Float32Array | Float64Array): Promise<number> {
    if (this.runner.kind === 'sync') return this.predictNow(row);
    this.checkRow(row, 'predict');
    // onnxruntime-node reads the input when the run starts, on a later tick (setImmediate), not when run() is
    // called: a call overlapping another must not overwrite the shared row, so it gets its own tensor.
    if (this.rowBusy) {
      const out = await this.runAsync(new ort.Tensor('float32', Float32Array.from(row), [1, this.nf]));
      return out[0];
    }
    this.rowBusy = true;
    try {
      this.row.set(row);
      return (await this.runAsync(this.rowTensor))[0];
    } finally {
      this.rowBusy = false;
    }
  }

  /** Predictions for n rows (row-major, n × featureCount). `rows` is read when the run starts: keep it unchanged until the promise settles. */
  async predictBatch(rows: Float32Array, n: number): Promise<Float32Array> {
    if (rows.length !== n * this.nf)
      throw new RangeError(`predictBatch: ${rows.length} values for ${n} rows of ${this.nf} features`);
    if (this.closed) throw new Error('predictBatch: predictor is closed');
    if (n === 0) return new Float32Array(0);
    const features = new ort.Tensor('float32', rows, [n, this.nf]);
    if (this.runner.kind === 'sync') return this.runner.session.run({ features }, 'prediction').slice();
    return this.runAsync(features);
  }

  private checkRow(row: Float32Array | Float64Array, what: string): void {
    if (row.length !== this.nf)
      throw new RangeError(`${what}: row has ${row.length} values, the model takes ${this.nf}`);
    if (this.closed) throw new Error(`${what}: predictor is closed`);
  }

  private async runAsync(features: ort.Tensor): Promise<Float32Array> {
    if (this.runner.kind !== 'async') throw new Error('runAsync on a synchronous runner');
    const r = this.runner.session.run({ features });
    this.inflight.add(r);
    const done = () => this.inflight.delete(r);
    r.then(done, done);
    return (await r).prediction.data as Float32Array;
  }

  private async release(): Promise<void> {
    if (this.runner.kind === 'sync') this.runner.session.dispose();
    else await this.runner.session.release();
  }

  /** Refuses new runs at once, lets the runs already started finish, then releases the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    await this.release();
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
