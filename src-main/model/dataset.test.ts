import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import { storeEvents } from '../store/testing/storeEvents.ts';
import type { BookMessage } from '../../src-shared/market.ts';
import { FEATURE_SET } from '../features/featureSet.ts';
import { buildDataset, buildDatasetFromDb, sessionSources, type DatasetEvent } from './dataset.ts';
import { syntheticEvents, rng } from '../features/testing/syntheticMarket.ts';

const T0 = 1_700_000_000_000;
const opts = { decisionIntervalMs: 1000, horizonMs: 10_000 };

function rowOf(ds: ReturnType<typeof buildDataset>, i: number): Float32Array {
  return ds.X.subarray(i * ds.nFeatures, (i + 1) * ds.nFeatures);
}

describe('buildDataset', () => {
  it('samples every decision interval after the warm-up, in FEATURE_SET order, with finite values', () => {
    const ds = buildDataset(
      [{ sessionId: 7, tickSize: '0.1', events: syntheticEvents({ durationMs: 120_000 }) }],
      opts,
    );
    expect(ds.names).toEqual(FEATURE_SET.names);
    expect(ds.nFeatures).toBe(FEATURE_SET.names.length);
    expect(ds.X.length).toBe(ds.nRows * ds.nFeatures);
    // warm after 30 s, last label needs 10 s of future: decision times 30..110 s on the receive clock (the last
    // message, sent at 120 s, is received 3 ms later: it proves the mid at 120 s)
    expect(ds.nRows).toBeGreaterThanOrEqual(78);
    expect(ds.nRows).toBeLessThanOrEqual(81);
    expect(ds.ts[0]).toBeGreaterThanOrEqual(T0 + 30_000);
    expect(ds.ts[ds.nRows - 1] + opts.horizonMs).toBeLessThan(T0 + 120_000 + 3);
    for (let i = 1; i < ds.nRows; i++) expect(ds.ts[i] - ds.ts[i - 1]).toBe(1000);
    for (const v of ds.X) expect(Number.isFinite(v)).toBe(true);
    expect(ds.sessionIds).toEqual([7]);
    expect([...ds.session].every((s) => s === 7)).toBe(true);
    expect(new Set(ds.y).size).toBeGreaterThan(5); // labels vary
  });

  it('is causal: perturbing every message after t leaves every sample at or before t bit-identical', () => {
    const base = syntheticEvents({ durationMs: 150_000, seed: 3 });
    const ref = buildDataset([{ sessionId: 1, tickSize: '0.1', events: base }], opts);
    for (const cutMs of [45_000, 80_000, 111_500]) {
      const cut = T0 + cutMs;
      const r = rng(cutMs);
      // Arbitrary changes to everything stamped after the cut: sizes, new deep levels, trade sides and sizes,
      // plus extra trades; update ids stay consecutive so the future stays a valid (different) book.
      const perturbed: DatasetEvent[] = base.map((ev) => {
        if (ev.kind === 'gap' || ev.ts <= cut) return ev;
        if (ev.kind === 'book') {
          const m: BookMessage = {
            ...ev,
            bids: ev.bids.map(([p, s]) => [p, s === 0 ? 0 : Math.round(r() * 9000 + 1) / 1000] as const),
            asks: [
              ...ev.asks.map(([p, s]) => [p, s === 0 ? 0 : Math.round(r() * 9000 + 1) / 1000] as const),
              [999999.9, 5],
            ],
          };
          return m;
        }
        return {
          ...ev,
          trades: [
            ...ev.trades.map((t) => ({
              ...t,
              side: r() < 0.5 ? ('Buy' as const) : ('Sell' as const),
              size: r() * 50,
            })),
            { ...ev.trades[0], id: 'extra', size: 100 },
          ],
        };
      });
      const alt = buildDataset([{ sessionId: 1, tickSize: '0.1', events: perturbed }], opts);
      let compared = 0;
      let labelsCompared = 0;
      for (let i = 0; i < ref.nRows && ref.ts[i] <= cut; i++) {
        expect(alt.ts[i]).toBe(ref.ts[i]);
        expect(Buffer.from(rowOf(alt, i).buffer, rowOf(alt, i).byteOffset, 4 * alt.nFeatures)).toEqual(
          Buffer.from(rowOf(ref, i).buffer, rowOf(ref, i).byteOffset, 4 * ref.nFeatures),
        );
        compared++;
        // a label looking only up to t + H <= cut must not change either
        if (ref.ts[i] + opts.horizonMs < cut) {
          expect(Object.is(alt.y[i], ref.y[i])).toBe(true);
          labelsCompared++;
        }
      }
      expect(compared).toBeGreaterThan(10);
      expect(labelsCompared).toBeGreaterThan(0);
      // and the perturbation does change what comes after the cut (so this test can fail)
      const after = ref.ts.findIndex((t) => t > cut + 1000);
      expect(after).toBeGreaterThanOrEqual(0);
      expect(after).toBeLessThan(alt.nRows);
      expect(alt.ts[after]).toBe(ref.ts[after]);
      expect(Buffer.from(rowOf(alt, after).slice().buffer)).not.toEqual(
        Buffer.from(rowOf(ref, after).slice().buffer),
      );
    }
  });

  it('labels are the future mid log return in bps on a hand-made mid path', () => {
    // One snapshot every 500 ms; mid path known exactly. Spread 0.2 around the mid.
    const mids: [number, number][] = [];
    const events: DatasetEvent[] = [];
    for (let k = 0; k <= 120; k++) {
      const t = k * 500;
      const mid = 100 + Math.round(10 * Math.sin(k / 7)) / 10 + (k >= 80 ? 2 : 0); // jumps 2 at 40 s
      mids.push([t, mid]);
      const bid = Math.round((mid - 0.1) * 10) / 10;
      const ask = Math.round((mid + 0.1) * 10) / 10;
      events.push({
        kind: 'book',
        type: 'snapshot',
        symbol: 'X',
        depth: 1,
        ts: T0 + t,
        cts: 0,
        recvTs: T0 + t,
        u: 10 + k,
        seq: 0,
        bids: [[bid, 1]],
        asks: [[ask, 1]],
      });
    }
    const H = 3000;
    const ds = buildDataset([{ sessionId: 1, tickSize: '0.1', events }], {
      decisionIntervalMs: 1000,
      horizonMs: H,
    });
    const midAt = (x: number) => mids.filter(([t]) => t <= x).at(-1)![1];
    expect(ds.nRows).toBeGreaterThan(20);
    for (let i = 0; i < ds.nRows; i++) {
      const t = ds.ts[i] - T0;
      expect(ds.y[i]).toBeCloseTo(Math.fround(Math.log(midAt(t + H) / midAt(t)) * 1e4), 3);
    }
    // by hand: the +2 jump at 40 s shows in the label of t = 37 s (37 + 3 = 40) but not of t = 36 s
    const at = (sec: number) => ds.y[[...ds.ts].indexOf(T0 + sec * 1000)];
    const m = (k: number) => 100 + Math.round(10 * Math.sin(k / 7)) / 10;
    expect(at(37)).toBeCloseTo(Math.log((m(80) + 2) / m(74)) * 1e4, 3);
    expect(at(36)).toBeCloseTo(Math.log(m(78) / m(72)) * 1e4, 3);
    expect(Math.abs(at(37))).toBeGreaterThan(150); // ~2 / 100 -> ~200 bps
  });

  it('drops samples whose feature or label window crosses a stored gap, on both sides', () => {
    const gapMs = 100_000;
    const events = syntheticEvents({ durationMs: 200_000, gapsAtMs: [gapMs], seed: 5 });
    const ds = buildDataset([{ sessionId: 1, tickSize: '0.1', events }], opts);
    const gapTs = T0 + gapMs;
    const recovered = T0 + gapMs + 2000; // the synthetic feed's snapshot after the gap
    const before = [...ds.ts].filter((t) => t < gapTs);
    const after = [...ds.ts].filter((t) => t > gapTs);
    // rows on both sides exist (the rule is not satisfied by dropping everything) ...
    expect(before.length).toBeGreaterThan(40);
    expect(after.length).toBeGreaterThan(40);
    // ... but no label window [t, t+H] reaches the gap, and no feature window [t-30s, t] reaches back across it
    expect(Math.max(...before) + opts.horizonMs).toBeLessThan(gapTs);
    expect(Math.min(...after) - 30_000).toBeGreaterThanOrEqual(recovered);
    expect(ds.stats.storedGaps).toBe(1);
    expect(ds.stats.droppedForGap).toBeGreaterThan(0);
    // without the gap the same window would be sampled densely
    const clean = buildDataset(
      [{ sessionId: 1, tickSize: '0.1', events: syntheticEvents({ durationMs: 200_000, seed: 5 }) }],
      opts,
    );
    expect(clean.nRows).toBeGreaterThan(ds.nRows + 40);
  });

  it('treats a sequence break found while replaying as a gap even without a stored gap record', () => {
    const events = syntheticEvents({ durationMs: 200_000, gapsAtMs: [100_000], seed: 5 }).filter(
      (e) => e.kind !== 'gap',
    );
    const ds = buildDataset([{ sessionId: 1, tickSize: '0.1', events }], opts);
    expect(ds.stats.detectedGaps).toBe(1);
    const gapTs = T0 + 100_000;
    const inside = [...ds.ts].filter((t) => t + opts.horizonMs >= gapTs && t - 30_000 < gapTs + 2000);
    expect(inside).toEqual([]);
    expect(ds.nRows).toBeGreaterThan(80);
  });

  it('treats a resync snapshot as a gap even when neither a gap record nor a sequence break was stored', () => {
    const events = syntheticEvents({ durationMs: 200_000, gapsAtMs: [100_000], seed: 5 }).filter(
      (e) =>
        e.kind !== 'gap' &&
        !(e.kind === 'book' && e.type === 'delta' && e.bids.length === 0 && e.asks.length === 0),
    );
    const ds = buildDataset([{ sessionId: 1, tickSize: '0.1', events }], opts);
    expect(ds.stats.detectedGaps).toBe(1);
    const gapTs = T0 + 100_000;
    expect([...ds.ts].filter((t) => t + opts.horizonMs >= gapTs && t - 30_000 < gapTs + 2000)).toEqual([]);
    expect(ds.nRows).toBeGreaterThan(80);
  });

  it('concatenates sessions without letting windows run from one into the next', () => {
    const a = syntheticEvents({ durationMs: 60_000, seed: 1 });
    const b = syntheticEvents({ durationMs: 60_000, seed: 2, startTs: T0 + 61_000 });
    const ds = buildDataset(
      [
        { sessionId: 1, tickSize: '0.1', events: a },
        { sessionId: 2, tickSize: '0.1', events: b },
      ],
      opts,
    );
    expect(ds.sessionIds).toEqual([1, 2]);
    const s2 = [...ds.ts].filter((_, i) => ds.session[i] === 2);
    expect(s2.length).toBeGreaterThan(5);
    expect(Math.min(...s2)).toBeGreaterThanOrEqual(T0 + 61_000 + 30_000); // fresh warm-up
  });
});

describe('buildDatasetFromDb (real SQLite file written by SessionWriter)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2ds-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives exactly the dataset of the same events in memory, gaps included, and selects by symbol', () => {
    const file = path.join(dir, 'a.db');
    const db = openDb(file);
    const events = syntheticEvents({ durationMs: 150_000, gapsAtMs: [70_000], seed: 9 });
    const sid = storeEvents(db, events, { startedAt: T0, endedAt: T0 + 150_000 });
    const other = createSession(db, {
      source: 'sim',
      symbol: 'ETHUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.01',
      startedAt: T0 - 1,
    });
    new SessionWriter(db, other, { now: () => T0 }).close(T0);
    db.close();

    const db2 = openDb(file);
    const fromDb = buildDatasetFromDb(db2, [sid], opts);
    const mem = buildDataset([{ sessionId: sid, tickSize: '0.1', events }], opts);
    expect(fromDb.stats.storedGaps).toBe(1);
    expect(fromDb.nRows).toBe(mem.nRows);
    expect(fromDb.nRows).toBeGreaterThan(40);
    expect([...fromDb.ts]).toEqual([...mem.ts]);
    expect(Buffer.from(fromDb.X.buffer)).toEqual(Buffer.from(mem.X.buffer));
    expect(Buffer.from(fromDb.y.buffer)).toEqual(Buffer.from(mem.y.buffer));
    // default selection: the newest session's symbol only
    expect(sessionSources(db2).sessions.map((s) => s.symbol)).toEqual(['BTCUSDT']);
    expect(() => sessionSources(db2, [sid, other])).toThrow(/mix symbols/);
    expect(() => sessionSources(db2, [999])).toThrow(/session 999 is not in/);

    // A window starting mid-session (retraining on the newest data): the book is rebuilt from the last
    // snapshot before it, so the window gives exactly the full build's rows inside it — not an empty set
    // (deltas alone cannot rebuild a book) and nothing received after toTs.
    const recv = (t: number) => t + 3; // the synthetic feed's receive delay
    const from = recv(T0 + 110_000);
    const to = recv(T0 + 140_000);
    const win = buildDatasetFromDb(db2, [sid], opts, { fromTs: from, toTs: to });
    // Rows on the receive clock: a label is complete once a message received after t + H is read (by `to`).
    const want = [...mem.ts].filter((t) => t >= T0 + 110_000 && t + opts.horizonMs < to);
    expect(want.length).toBeGreaterThan(10);
    expect([...win.ts]).toEqual(want);
    const i0 = [...mem.ts].indexOf(want[0]);
    expect(Buffer.from(win.X.buffer)).toEqual(
      Buffer.from(mem.X.slice(i0 * mem.nFeatures, (i0 + want.length) * mem.nFeatures).buffer),
    );
    db2.close();
  });
});
