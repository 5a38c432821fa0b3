// retrain.openSession: what a live-retraining round pays for a session still being recorded. Followed
// (storedSessionTail.ts: the follower has read the session up to the last round and reads only what came since) beside
// a whole replay of the stored session (what every round did before, and still does while a gap is open). Both give the
// same rows, checked bit for bit outside the timing. `value` is the whole/followed speed-up for a round after 1/8 more
// data; it grows with the session's age, as a whole replay grows and a followed round does not.
// Data: the deterministic synthetic tick-grid stream (BTC-like, 50 Hz), stored through the real SessionWriter into a
// real SQLite file; a fresh copy of the file per run. Env: BENCH_OPEN_MS (session length, default 2 h), BENCH_RUNS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syntheticEvents } from '../src-main/features/testing/syntheticMarket.ts';
import { sessionRows } from '../src-main/model/featureCache.ts';
import { StoredSessionTail } from '../src-main/model/storedSessionTail.ts';
import { openDb } from '../src-main/store/db.ts';
import type { StoredEvent } from '../src-main/store/sessionReader.ts';
import { SessionWriter } from '../src-main/store/sessionWriter.ts';
import { createSession } from '../src-main/store/sessions.ts';
import { emit, failBench, fullGc, measure, median } from './lib/report.ts';

const DURATION_MS = Number(process.env.BENCH_OPEN_MS ?? 2 * 3_600_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const T0 = 1_700_000_000_000;
const OPTS = { decisionIntervalMs: 1000, horizonMs: 10_000 };

function append(file: string, sid: number, events: readonly StoredEvent[]): void {
  const db = openDb(file, { mustExist: true });
  try {
    const w = new SessionWriter(db, sid, { now: () => T0 });
    for (const ev of events) {
      if (ev.kind === 'gap') w.writeGap(ev.gap);
      else w.writeMessage(ev);
    }
    w.flush();
  } finally {
    db.close();
  }
}

const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bench-open-'));
try {
  const events = syntheticEvents({ durationMs: DURATION_MS, seed: 5 });
  const cut = Math.floor((events.length * 7) / 8);
  const base = path.join(dir, 'base.db');
  const db0 = openDb(base);
  const sid = createSession(db0, {
    source: 'sim',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    startedAt: T0,
  });
  db0.close();
  // Recorded up to the last round; the session stays open (a collector is still writing it).
  append(base, sid, events.slice(0, cut));
  const followed: number[] = [];
  const followedCpu: number[] = [];
  const whole: number[] = [];
  const wholeCpu: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const file = path.join(dir, `run${i}.db`);
    fs.copyFileSync(base, file);
    const db = openDb(file, { mustExist: true });
    try {
      const tail = new StoredSessionTail(sid, OPTS);
      const caught = tail.advance(db); // the rounds before: not timed
      if (caught.rows === null) failBench('retrain.openSession', caught.why);
      append(file, sid, events.slice(cut));
      fullGc();
      let got: ReturnType<StoredSessionTail['advance']> = caught;
      const f = measure(() => {
        got = tail.advance(db);
      });
      fullGc();
      let want: ReturnType<typeof sessionRows>['rows'] | null = null;
      const w = measure(() => {
        want = sessionRows(db, sid, OPTS, { write: false }).rows;
      });
      const a = got.rows;
      const b = want as ReturnType<typeof sessionRows>['rows'] | null;
      if (!a || !b || a.nRows !== b.nRows || !bits(a.X).equals(bits(b.X)) || !bits(a.y).equals(bits(b.y)))
        failBench('retrain.openSession', 'the followed rows differ from a whole replay');
      if (got.events !== events.length - cut)
        failBench(
          'retrain.openSession',
          `the follower read ${got.events} events, ${events.length - cut} were new`,
        );
      rows = a.nRows;
      followed.push(f.wall);
      followedCpu.push(f.cpu);
      whole.push(w.wall);
      wholeCpu.push(w.cpu);
    } finally {
      db.close();
    }
  }
  emit({
    bench: 'retrain.openSession',
    value: Number((median(whole) / median(followed)).toFixed(1)),
    unit: 'x faster round (whole replay / followed), after 1/8 more data',
    followed_ms: Number((median(followed) * 1000).toFixed(1)),
    followed_cpu_ms: Number((median(followedCpu) * 1000).toFixed(1)),
    peer: 'whole replay of the stored session (the same rows)',
    peer_value_ms: Number((median(whole) * 1000).toFixed(1)),
    peer_cpu_ms: Number((median(wholeCpu) * 1000).toFixed(1)),
    session_events: events.length,
    new_events: events.length - cut,
    rows,
    runs: RUNS,
  });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
