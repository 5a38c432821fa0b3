// The engine's port to the model: a prediction for the feature row at a decision time. Adapters: the ONNX
// predictor (the real thing), a recorder that remembers every prediction of a run, and a replay of recorded
// predictions that lets a threshold sweep re-run only the cheap signal → broker part (no features, no model).

/** What the engine needs from src-main/model/predictor.ts's Predictor (which satisfies it structurally). */
export interface RowPredictor {
  predict(row: Float32Array): Promise<number>;
  /** Present and usable when the predictor can answer without an event-loop hop. */
  readonly synchronous?: boolean;
  predictNow?(row: Float32Array): number;
}

export interface DecisionModel {
  /** False when predictions do not depend on the row (recorded predictions): the engine skips the features. */
  readonly needsFeatures: boolean;
  /** Prediction at decision time `ts`; NaN means "no prediction" (the decision is skipped). */
  predict(row: Float32Array, ts: number): Promise<number> | number;
}

export class PredictorModel implements DecisionModel {
  readonly needsFeatures = true;
  constructor(private readonly predictor: RowPredictor) {}
  predict(row: Float32Array): Promise<number> | number {
    // The synchronous path keeps a replay free of a macrotask per decision; results are the same numbers.
    if (this.predictor.synchronous && this.predictor.predictNow) return this.predictor.predictNow(row);
    return this.predictor.predict(row);
  }
}

/** Wraps a model and records (decision time → prediction) for a later RecordedModel. */
export class RecordingModel implements DecisionModel {
  readonly needsFeatures: boolean;
  readonly recorded = new Map<number, number>();
  constructor(private readonly inner: DecisionModel) {
    this.needsFeatures = inner.needsFeatures;
  }
  predict(row: Float32Array, ts: number): Promise<number> | number {
    const r = this.inner.predict(row, ts);
    if (typeof r === 'number') {
      this.recorded.set(ts, r);
      return r;
    }
    return r.then((v) => {
      this.recorded.set(ts, v);
      return v;
    });
  }
}

/**
 * Plays back predictions recorded by a RecordingModel over the same session. The engine still decides only where
 * the recorded run did (a missing time answers NaN), so the signal → broker path sees exactly the same inputs.
 */
export class RecordedModel implements DecisionModel {
  readonly needsFeatures = false;
  constructor(private readonly values: ReadonlyMap<number, number>) {}
  predict(_row: Float32Array, ts: number): number {
    const v = this.values.get(ts);
    return v === undefined ? NaN : v;
  }
}
