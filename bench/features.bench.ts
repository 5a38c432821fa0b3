// features.onBook: book messages/s through SequencedBook.apply + FeatureEngine.onBook (+ compute once per
// simulated second, as the engine does), beside its ceiling: SequencedBook.apply alone on the same messages.
// Also dataset.build: events/s of the whole dataset builder (book, features, sampling, labels).
// Messages: the deterministic synthetic tick-grid stream the feature tests use (BTC-like, 50 Hz, 25 levels).
import { SequencedBook } from '../src-main/book/sequencedBook.ts';
import { TickScale } from '../src-main/book/tickScale.ts';
import { FeatureEngine } from '../src-main/features/featureEngine.ts';
import { N_FEATURES } from '../src-main/features/featureSet.ts';
import { syntheticEvents } from '../src-main/features/testing/syntheticMarket.ts';
import { buildDataset } from '../src-main/model/dataset.ts';
import type { BookMessage } from '../src-shared/market.ts';
import { emit, median } from './lib/report.ts';

const N = Number(process.env.BENCH_N ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const events = syntheticEvents({ durationMs: N * 20, seed: 3 });
const books = events.filter((e): e is BookMessage => e.kind === 'book');

function bookOnly(): number {
  const seq = new SequencedBook(new TickScale('0.1'));
  const t0 = performance.now();
  for (const m of books) seq.apply(m);
  return books.length / ((performance.now() - t0) / 1000);
}

function withFeatures(): number {
  const seq = new SequencedBook(new TickScale('0.1'));
  const fe = new FeatureEngine();
  const out = new Float64Array(N_FEATURES);
  let next = books[0].ts + 1000;
  const t0 = performance.now();
  for (const m of books) {
    if (m.ts > next) {
      fe.compute(next, out);
      next += 1000;
    }
    if (seq.apply(m).status === 'applied') fe.onBook(seq.book, m.ts);
  }
  return books.length / ((performance.now() - t0) / 1000);
}

function dataset(): number {
  const t0 = performance.now();
  buildDataset([{ sessionId: 1, tickSize: '0.1', events }], { decisionIntervalMs: 1000, horizonMs: 10_000 });
  return events.length / ((performance.now() - t0) / 1000);
}

const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
// Interleaved so that no case always runs first on this shared, noisy machine.
for (let i = 0; i < RUNS; i++) {
  const order = [() => a.push(withFeatures()), () => b.push(bookOnly()), () => c.push(dataset())];
  for (let k = 0; k < order.length; k++) order[(i + k) % order.length]();
}
emit({
  bench: 'features.onBook',
  value: Math.round(median(a)),
  unit: 'msgs/s',
  peer: 'book.apply alone (ceiling)',
  peer_value: Math.round(median(b)),
  n: books.length,
  runs: RUNS,
});
emit({
  bench: 'dataset.build',
  value: Math.round(median(c)),
  unit: 'events/s',
  peer: 'features.onBook',
  peer_value: Math.round(median(a)),
  n: events.length,
  runs: RUNS,
});
