import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FeedHealth, Gap, MarketMessage } from '../../../src-shared/market.ts';
import { writeSimSession } from '../../backtest/simSession.ts';
import { openDb, type Db } from '../../store/db.ts';
import { readSession } from '../../store/sessionReader.ts';
import { SessionWriter } from '../../store/sessionWriter.ts';
import { createSession } from '../../store/sessions.ts';
import { ReplaySource } from './replaySource.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-replay-'));
let db: Db;
let sid: number;
let withGap: number;
const t0 = Date.UTC(2026, 0, 5);

beforeAll(() => {
  db = openDb(path.join(dir, 'r.db'));
  sid = writeSimSession(db, { seed: 3, durationMs: 20_000, startMs: t0 }).sessionId;
  // A tiny hand-made session: book, gap, book, in that arrival order.
  withGap = createSession(db, {
    source: 'sim',
    symbol: 'XRPUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.0001',
    startedAt: t0,
  });
  const w = new SessionWriter(db, withGap, { now: () => 0 });
  const book = (u: number, ts: number): MarketMessage => ({
    kind: 'book',
    type: u === 1 ? 'snapshot' : 'delta',
    symbol: 'XRPUSDT',
    depth: 50,
    ts,
    cts: ts,
    recvTs: ts + 5,
    u,
    seq: u,
    bids: [[0.5, 10]],
    asks: [[0.5001, 10]],
  });
  w.writeMessage(book(1, t0));
  w.writeGap({ symbol: 'XRPUSDT', reason: 'disconnect', startTs: t0 + 10, endTs: t0 + 20, detail: 'test' });
  w.writeMessage(book(5, t0 + 30));
  w.close(0);
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function record(src: ReplaySource) {
  const seen: string[] = [];
  const health: FeedHealth[] = [];
  src.on('message', (m) => seen.push(`${m.kind}:${m.kind === 'book' ? m.u : m.trades[0].id}`));
  src.on('gap', (g: Gap) => seen.push(`gap:${g.reason}`));
  src.on('health', (h) => health.push(h));
  return { seen, health };
}

describe('ReplaySource', () => {
  it('plays every stored event in arrival order, gaps included, with the session instrument', async () => {
    const src = new ReplaySource({ db, sessionId: withGap, speed: 'max' });
    expect(src.instrument).toEqual({ symbol: 'XRPUSDT', category: 'linear', tickSize: '0.0001' });
    const r = record(src);
    await src.start();
    await src.done();
    expect(r.seen).toEqual(['book:1', 'gap:disconnect', 'book:5']);
    expect(r.health.at(-1)).toMatchObject({ state: 'stopped', messages: 2, gaps: 1, latencyMs: 5 });
    expect(src.health().state).toBe('stopped');
  });

  it('at max speed delivers exactly what readSession yields', async () => {
    const want = [...readSession(db, sid)].map((e) =>
      e.kind === 'gap' ? 'gap' : `${e.kind}:${e.kind === 'book' ? e.u : e.trades[0].id}`,
    );
    const src = new ReplaySource({ db, sessionId: sid, speed: 'max' });
    const r = record(src);
    await src.start();
    await src.done();
    expect(r.seen).toEqual(want);
    expect(want.length).toBeGreaterThan(500);
  });

  it('waits for a listener that returns a promise before delivering the next message (backpressure)', async () => {
    const src = new ReplaySource({ db, sessionId: sid, speed: 'max' });
    const log: string[] = [];
    let n = 0;
    src.on('message', (m: MarketMessage): void => {
      const i = n++;
      log.push(`start ${i}`);
      if (i % 50 === 0) {
        return new Promise<void>((r) =>
          setTimeout(() => {
            log.push(`end ${i}`);
            r();
          }, 1),
        ) as unknown as void;
      }
      log.push(`end ${i}`);
      void m;
    });
    await src.start();
    await src.done();
    // Every stored message went through the listener (the loop below is not over an empty log).
    expect(n).toBe([...readSession(db, sid)].filter((e) => e.kind !== 'gap').length);
    expect(log).toHaveLength(2 * n);
    for (let i = 0; i < log.length; i += 2)
      expect([log[i], log[i + 1]]).toEqual([`start ${i / 2}`, `end ${i / 2}`]);
  });

  it('paces a replay by the receive times at a given speed', async () => {
    // On a fake clock (no wall-clock assertion): at 40x, after A ms of replay time exactly the messages received
    // within the first 40·A ms of the session have been delivered (the pacer sleeps only when more than 2 ms ahead).
    const recv = [...readSession(db, sid)].flatMap((e) => (e.kind === 'gap' ? [] : [e.recvTs]));
    const upTo = (dataMs: number) => recv.filter((t) => t - recv[0] <= dataMs).length;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const src = new ReplaySource({ db, sessionId: sid, speed: 40 });
      let delivered = 0;
      src.on('message', () => void delivered++);
      const started = performance.now();
      await src.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(delivered).toBeGreaterThanOrEqual(upTo(0));
      expect(delivered).toBeLessThanOrEqual(upTo(40 * 2));
      for (const A of [100, 250, 400]) {
        await vi.advanceTimersByTimeAsync(A - (performance.now() - started));
        expect(delivered, `after ${A} ms`).toBeGreaterThanOrEqual(upTo(40 * A));
        expect(delivered, `after ${A} ms`).toBeLessThanOrEqual(upTo(40 * (A + 2)));
        expect(delivered).toBeLessThan(recv.length);
      }
      await vi.advanceTimersByTimeAsync((recv.at(-1)! - recv[0]) / 40 + 10);
      await src.done();
      expect(delivered).toBe(recv.length);
      expect(performance.now() - started).toBeGreaterThanOrEqual((recv.at(-1)! - recv[0]) / 40 - 2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stop() ends a replay early and nothing is delivered afterwards', async () => {
    const src = new ReplaySource({ db, sessionId: sid, speed: 10 });
    const r = record(src);
    const total = [...readSession(db, sid)].filter((e) => e.kind !== 'gap').length;
    await src.start();
    // Stop once the replay is under way (an event, not a fixed sleep): 20 s of data at 10x is still far from done.
    const deadline = Date.now() + 5000;
    while (r.seen.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    await src.stop();
    const n = r.seen.length;
    await src.done();
    await new Promise((res) => setTimeout(res, 50));
    expect(r.seen.length).toBe(n);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(total);
    expect(src.health().state).toBe('stopped');
  });

  it('rejects an unknown session and a bad speed with a useful message', () => {
    expect(() => new ReplaySource({ db, sessionId: 999, speed: 1 })).toThrow(/no session 999/);
    expect(() => new ReplaySource({ db, sessionId: sid, speed: 0 })).toThrow(/speed/);
  });
});
