// Append-only chart series kept outside React: charts subscribe and call series.update() per new point, so a
// tick never re-renders a component nor re-sends a whole series.
import type { EquityPoint, PredictionPoint, PricePoint } from '../../src-shared/ipc.ts';

export class SeriesBuffer<T> {
  private points: T[] = [];
  private readonly subs = new Set<{
    onReset: (all: readonly T[]) => void;
    onAppend: (added: readonly T[]) => void;
  }>();
  constructor(private readonly cap: number) {}

  reset(all: readonly T[]): void {
    this.points = all.slice(-this.cap);
    this.subs.forEach((s) => s.onReset(this.points));
  }
  append(added: readonly T[]): void {
    if (added.length === 0) return;
    for (const p of added) this.points.push(p);
    if (this.points.length > this.cap * 1.5) {
      // Trimmed in chunks (amortised O(1)); subscribers (charts keep their own copy of the data) are reset to
      // the capped series, or a chart open for days would grow without bound.
      this.points = this.points.slice(-this.cap);
      this.subs.forEach((s) => s.onReset(this.points));
      return;
    }
    this.subs.forEach((s) => s.onAppend(added));
  }
  all(): readonly T[] {
    return this.points;
  }
  subscribe(onReset: (all: readonly T[]) => void, onAppend: (added: readonly T[]) => void): () => void {
    const s = { onReset, onAppend };
    this.subs.add(s);
    onReset(this.points);
    return () => this.subs.delete(s);
  }
}

export const prices = new SeriesBuffer<PricePoint>(20_000);
export const predictions = new SeriesBuffer<PredictionPoint>(20_000);
export const equity = new SeriesBuffer<EquityPoint>(20_000);
