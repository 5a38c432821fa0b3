// Train/serve parity: the rows the dataset builder trains on are bit-identical to the rows the trading Engine
// feeds its model at the same decision times, when both replay the same stored session (gap included), on the
// Engine's receive clock: with stored receive stamps, and with one-clock data and a configured feed latency.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { ReplayClock } from '../engine/clock.ts';
import type { DecisionModel } from '../engine/decisionModel.ts';
import { Engine, engineOptionsFromConfig } from '../engine/engine.ts';
import { syntheticEvents } from '../features/testing/syntheticMarket.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb } from '../store/db.ts';
import type { StoredEvent } from '../store/sessionReader.ts';
import { storeEvents } from '../store/testing/storeEvents.ts';
import { buildDatasetFromDb } from './dataset.ts';
import { labelBps } from './labels.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2parity-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The synthetic session with its receive stamps rewritten: `late(i, ts)` after exchange time, in arrival order. */
function restamped(late: (i: number, ts: number) => number): StoredEvent[] {
  let last = -Infinity;
  return syntheticEvents({ durationMs: 200_000, seed: 13, gapsAtMs: [90_000] }).map((ev, i) => {
    if (ev.kind === 'gap') return ev;
    const recvTs = Math.max(last, ev.ts + late(i, ev.ts));
    last = recvTs;
    return { ...ev, recvTs };
  });
}

/**
 * Two more snapshots mid-session: at 40 % of the book messages a retention checkpoint (a delta rewritten as the whole
 * book after it, same u: the book continues), at 70 % a resync with no gap record (the whole book, every u from there
 * on 1000 further): both readers must read on through the first and restart at the second.
 */
function withMidSessionSnapshots(events: StoredEvent[]): StoredEvent[] {
  const sb = new SequencedBook(new TickScale('0.1'));
  const books = events.filter((e) => e.kind === 'book').length;
  const all = Number.MAX_SAFE_INTEGER;
  let n = 0;
  let shift = 0;
  let made = 0;
  const out = events.map((ev): StoredEvent => {
    if (ev.kind !== 'book') return ev;
    const m = shift ? { ...ev, u: ev.u + shift } : ev;
    sb.apply(m);
    n++;
    const at = n === Math.floor(books * 0.4) ? 0 : n === Math.floor(books * 0.7) ? 1000 : -1;
    if (at < 0 || m.type !== 'delta' || !sb.valid) return m;
    made++;
    shift += at;
    const snap = {
      ...m,
      type: 'snapshot' as const,
      u: m.u + at,
      bids: sb.book.levels('bid', all),
      asks: sb.book.levels('ask', all),
    };
    sb.apply(snap);
    return snap;
  });
  expect(made).toBe(2);
  return out;
}

const cases: {
  name: string;
  events: () => StoredEvent[];
  feedLatencyMs: number;
  /** Breaks the dataset builder finds in the data (no gap stored for them): sequence breaks, resyncs. */
  detectedGaps?: number;
  /** Fewer rows than this and the comparison says little (default 80; a planted resync costs a warm-up). */
  minRows?: number;
}[] = [
  // Stored receive stamps 20–270 ms after the exchange's (a live recording): decisions on the receive clock.
  {
    name: 'receive stamps',
    events: () => restamped((i) => 20 + ((i * 37) % 251)),
    feedLatencyMs: 0,
    detectedGaps: 1,
  },
  // One clock (an import, the simulator): received at exchange time + the configured feed latency.
  { name: 'one clock + feed latency', events: () => restamped(() => 0), feedLatencyMs: 180, detectedGaps: 1 },
  // A checkpoint left mid-session by a prune under way, and a resync the recorder stored no gap for.
  {
    name: 'mid-session snapshots',
    events: () => withMidSessionSnapshots(restamped((i) => 20 + ((i * 37) % 251))),
    feedLatencyMs: 0,
    detectedGaps: 2, // the synthetic session's own and the planted resync; the checkpoint is read through
    minRows: 60,
  },
];

describe('train/serve parity', () => {
  it.each(cases)(
    'the Engine sees exactly the dataset features at every decision time both make ($name)',
    async ({ name, events, feedLatencyMs, detectedGaps, minRows = 80 }) => {
      const T0 = 1_700_000_000_000;
      const db = openDb(path.join(dir, `${name.replace(/\W+/g, '_')}.db`));
      const sid = storeEvents(db, events(), {
        startedAt: T0,
        endedAt: T0 + 200_000,
        writer: { maxRows: 100_000 },
      });
      const ds = buildDatasetFromDb(db, [sid], {
        decisionIntervalMs: 1000,
        horizonMs: 10_000,
        feedLatencyMs,
      });

      const served = new Map<number, Float32Array>();
      const model: DecisionModel = {
        needsFeatures: true,
        predict: (row, ts) => {
          served.set(ts, row.slice());
          return 0;
        },
      };
      const config = loadConfig({ ignoreUserFile: true });
      const source = new ReplaySource({ db, sessionId: sid, speed: 'max' });
      const engine = new Engine(
        { ...engineOptionsFromConfig(config, source.instrument, 1000), feedLatencyMs },
        { source, clock: new ReplayClock(), model },
      );
      // The mid the Engine sees at each decision: what an honest label reads at t and at t + H on the same clock.
      const mids = new Map<number, number>();
      engine.on('prediction', (e) => mids.set(e.ts, e.mid));
      await engine.start();
      await source.done();
      await engine.stop();
      db.close();

      expect(ds.nRows).toBeGreaterThan(minRows);
      if (detectedGaps !== undefined) expect(ds.stats.detectedGaps).toBe(detectedGaps);
      let same = 0;
      for (let i = 0; i < ds.nRows; i++) {
        const row = served.get(ds.ts[i]);
        if (!row) continue;
        const want = ds.X.subarray(i * ds.nFeatures, (i + 1) * ds.nFeatures);
        expect(Buffer.from(row.buffer), `row at ${ds.ts[i] - T0} ms`).toEqual(
          Buffer.from(want.slice().buffer),
        );
        same++;
      }
      // every training row has its served twin (the engine decides every grid time while the feed flows)
      expect(same).toBe(ds.nRows);
      // Labels: the future mid on the same receive clock, at the grid time one horizon after the decision.
      let labelled = 0;
      for (let i = 0; i < ds.nRows; i++) {
        const m0 = mids.get(ds.ts[i]);
        const m1 = mids.get(ds.ts[i] + ds.horizonMs);
        if (m0 === undefined || m1 === undefined) continue;
        expect(ds.y[i], `label at ${ds.ts[i] - T0} ms`).toBe(Math.fround(labelBps(m0, m1)));
        labelled++;
      }
      expect(labelled).toBeGreaterThan(ds.nRows * 0.8);
    },
  );
});
