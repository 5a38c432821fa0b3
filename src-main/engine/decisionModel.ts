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

/** One window of a ScheduledModel: `model` decides at times in [from, to); null: no model, no decision. */
export interface ModelWindow {
  from: number;
  to: number;
  model: DecisionModel | null;
}

/**
 * A model per time window (a walk-forward backtest: each window traded by a model trained only on data before
 * it). Pure: the answer at `ts` is the answer of the model whose window holds `ts`; before the first window,
 * after the last and in a window without a model it is NaN (no decision), so nothing trades before the first
 * out-of-sample model exists. Windows are sorted and do not overlap.
 */
export class ScheduledModel implements DecisionModel {
  readonly needsFeatures: boolean;
  constructor(readonly windows: readonly ModelWindow[]) {
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      if (!(w.from < w.to)) throw new RangeError(`window ${i} is empty or reversed: [${w.from}, ${w.to})`);
      if (i > 0 && w.from < windows[i - 1].to)
        throw new RangeError(
          `window ${i} starts at ${w.from}, before window ${i - 1} ends (${windows[i - 1].to})`,
        );
    }
    this.needsFeatures = windows.some((w) => w.model?.needsFeatures === true);
  }

  /** Index of the window holding `ts`, or -1. */
  indexAt(ts: number): number {
    let lo = 0;
    let hi = this.windows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = this.windows[mid];
      if (ts < w.from) hi = mid - 1;
      else if (ts >= w.to) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  predict(row: Float32Array, ts: number): Promise<number> | number {
    const i = this.indexAt(ts);
    const m = i < 0 ? null : this.windows[i].model;
    return m ? m.predict(row, ts) : NaN;
  }
}
