// The engine's two clocks (issue 8), on hand-made sessions stored in SQLite and replayed: a decision at grid time D
// sees only what was received by D; its order leaves at D + compute, reaches the exchange at send + latency and
// fills against the book the exchange had then (exchange clock), although our side may receive that book later;
// the fill reaches the portfolio a response latency after it happened, never before we could have known it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookMessage, Level, MarketMessage } from '../../src-shared/market.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb, type Db } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import type { Fill, Order } from '../trading/types.ts';
import { ReplayClock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import { Engine, engineOptionsFromConfig, type EngineOptions } from './engine.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-clocks-'));
let db: Db;
afterAll(() => {
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeAll(() => {
  db = openDb(path.join(dir, 'clocks.db'));
});

const config = loadConfig({ ignoreUserFile: true });
const T0 = 1_767_225_600_000; // a whole second: the first grid time after the snapshot is T0 + 1000
const D = T0 + 1000;
const JUMP = D + 900; // exchange time of the message that moves the ask
const OLD_ASK = 100.1;
const NEW_ASK = 101.0;

const book = (
  type: 'snapshot' | 'delta',
  u: number,
  ts: number,
  recvTs: number,
  bids: Level[],
  asks: Level[],
): BookMessage => ({
  kind: 'book',
  type,
  symbol: 'BTCUSDT',
  depth: 50,
  ts,
  cts: ts,
  recvTs,
  u,
  seq: u,
  bids,
  asks,
});

/**
 * A quiet book (bid 100.0 / ask 100.1, deep) from T0; at exchange time D + 900 the ask jumps to 101.0; then a
 * message every second on a far level so the run goes on. `feed` (ms) is how late each message is received;
 * `early` adds a message stamped D − 100 but received only at D + `early` (it moves the bid 99.0 → 99.5).
 */
function writeSession(feed: number, early?: number, sellAt100?: { ts: number; size: number }): number {
  const id = createSession(db, {
    source: 'bybit',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    startedAt: T0,
  });
  const w = new SessionWriter(db, id, { now: () => T0, maxRows: 10_000 });
  const msgs: BookMessage[] = [
    book(
      'snapshot',
      1,
      T0,
      T0 + feed,
      [
        [100.0, 50],
        [99.0, 50],
      ],
      [
        [OLD_ASK, 50],
        [102.0, 50],
      ],
    ),
  ];
  if (early !== undefined) msgs.push(book('delta', 0, D - 100, D + early, [[99.5, 1]], []));
  msgs.push(
    book(
      'delta',
      0,
      JUMP,
      JUMP + feed,
      [],
      [
        [OLD_ASK, 0],
        [NEW_ASK, 50],
      ],
    ),
  );
  for (let k = 2; k <= 8; k++) {
    const ts = D + k * 1000 + 300;
    msgs.push(book('delta', 0, ts, ts + feed, [[90.0 + k / 10, 1]], []));
  }
  const all: MarketMessage[] = [...msgs];
  if (sellAt100) {
    const t = sellAt100.ts;
    all.push({
      kind: 'trades',
      symbol: 'BTCUSDT',
      ts: t,
      recvTs: t + feed,
      trades: [
        { ts: t, side: 'Sell', price: 100.0, size: sellAt100.size, id: 'x', blockTrade: false, seq: 0 },
      ],
    });
  }
  all.sort((a, b) => a.recvTs - b.recvTs); // stored in the order they were received
  let u = 1;
  for (const m of all) {
    if (m.kind === 'book') {
      m.u = u;
      m.seq = u++;
    }
    w.writeMessage(m);
  }
  w.close(T0 + 20_000);
  return id;
}

interface Run {
  fills: Fill[];
  /** Every order as last reported. */
  orders: Map<number, Order>;
  /** Position the strategy saw at each decision. */
  seen: Map<number, number>;
  decisions: number[];
}

/** Buys at D (prediction +5 at every decision: the long is held). */
async function run(sessionId: number, o: Partial<EngineOptions>): Promise<Run> {
  const source = new ReplaySource({ db, sessionId, speed: 'max' });
  const options: EngineOptions = {
    ...engineOptionsFromConfig(config, source.instrument, 1000),
    decisionIntervalMs: 1000,
    computeMs: 0,
    responseLatencyMs: 0,
    ...o,
    risk: { ...engineOptionsFromConfig(config, source.instrument).risk, stopLossBps: 0, takeProfitBps: 0 },
  };
  const seen = new Map<number, number>();
  const decisions: number[] = [];
  let engine: Engine | null = null;
  const model: DecisionModel = {
    needsFeatures: false,
    predict: (_row, ts) => {
      decisions.push(ts);
      seen.set(ts, engine?.position ?? NaN);
      return 5;
    },
  };
  engine = new Engine(options, { source, clock: new ReplayClock(), model });
  const fills: Fill[] = [];
  const orders = new Map<number, Order>();
  engine.on('fill', (f) => fills.push(f));
  engine.on('order', (x) => orders.set(x.id, x));
  await engine.start();
  await source.done();
  await engine.stop();
  return { fills, orders, seen, decisions };
}

describe('two clocks: the fill is at the book the exchange had when the order arrived', () => {
  // compute + latency puts the arrival before, at or after the jump (D + 900, exchange time); a feed latency makes
  // us receive the jump later, which must not matter to the exchange's book.
  it.each([
    // feed, compute, latency, arrival - D, price
    [0, 0, 50, 50, OLD_ASK],
    [0, 0, 899, 899, OLD_ASK],
    [0, 0, 900, 900, NEW_ASK], // the book after every message stamped ≤ the arrival
    [0, 400, 500, 900, NEW_ASK], // compute time counts: old code sent at D and filled at the old ask
    [0, 0, 1500, 1500, NEW_ASK],
    [200, 0, 800, 800, OLD_ASK], // we receive the jump at D + 1100, the order was matched at D + 800
    [200, 0, 950, 950, NEW_ASK], // matched at D + 950 on the book we only receive at D + 1100
    [200, 50, 500, 550, OLD_ASK],
  ])(
    'feed %i ms, compute %i ms, latency %i ms: arrives at D + %i, fills at %f',
    async (feed, compute, lat, arr, px) => {
      const r = await run(writeSession(feed), { computeMs: compute, latencyMs: lat });
      expect(r.decisions[0]).toBe(D);
      expect(r.fills.length).toBeGreaterThan(0);
      expect(r.fills[0]).toMatchObject({ ts: D + arr, side: 'Buy', price: px, liquidity: 'taker' });
    },
  );

  it.each([
    // configured feed latency, latency, fill price, first decision that sees the position
    [200, 800, OLD_ASK, D + 2000], // received at exchange time + 200: the jump, received at D + 1100, reveals the fill
    [200, 950, NEW_ASK, D + 3000], // matched once a message stamped after D + 950 is in: D + 2300, received D + 2500
    [0, 800, OLD_ASK, D + 1000],
  ])(
    'data without receive stamps, feed latency %i ms configured, latency %i ms: fills at %f, seen at %i',
    async (feedCfg, lat, px, first) => {
      // recvTs == ts (one clock, as imports and the simulator store them): received at ts + trading.feed_latency.
      const r = await run(writeSession(0), { feedLatencyMs: feedCfg, latencyMs: lat });
      expect(r.fills[0]).toMatchObject({ ts: D + lat, price: px });
      expect([...r.seen].find(([, pos]) => pos > 0)?.[0]).toBe(first);
    },
  );

  it('the decision at D sees what was received by D, not what the exchange stamped before D', async () => {
    // A bid move stamped D − 100 but received at D + 300: the decision mid is the one before it.
    const late = await run(writeSession(0, 300), { latencyMs: 50 });
    expect(late.fills[0].decisionMid).toBeCloseTo((100.0 + OLD_ASK) / 2, 9);
    // Received at D − 1 (before D): the decision sees it.
    const early = await run(writeSession(0, -1), { latencyMs: 50 });
    expect(early.fills[0].decisionMid).toBeCloseTo((100.0 + OLD_ASK) / 2, 9);
    expect(early.decisions[0]).toBe(D);
  });

  it.each([
    // feed, latency, response, first decision that sees the position (after D)
    [0, 50, 0, D + 1000], // matched at D + 50, known when the jump (D + 900) is received
    [0, 50, 1500, D + 2000], // acknowledged at D + 1550
    [200, 50, 0, D + 2000], // known only when the jump is received (D + 1100)
    [0, 50, 2950, D + 3000], // acknowledged exactly at D + 3000: that decision sees it
  ])(
    'feed %i ms, latency %i ms, response %i ms: the strategy first sees the fill at %i',
    async (feed, lat, resp, first) => {
      const r = await run(writeSession(feed), { latencyMs: lat, responseLatencyMs: resp });
      expect(r.fills.length).toBeGreaterThan(0);
      const sawIt = [...r.seen].filter(([, pos]) => pos > 0).map(([t]) => t);
      expect(sawIt[0]).toBe(first);
      for (const [t, pos] of r.seen) if (t < first) expect(pos).toBe(0);
    },
  );

  it('a partial fill reaches the strategy with its order update, never after it (no extra order meanwhile)', async () => {
    // A passive buy at 100.0 (50 ahead) sent at T0 + 250 arrives at T0 + 300; a sell of 58 at 100.0 at T0 + 1300
    // fills 8 of it. With a 1500 ms response the fill and the order's new filled quantity are seen at T0 + 2800:
    // decisions every 250 ms in between must not see the order part-filled without the position (they would buy
    // the difference again).
    const r = await run(writeSession(0, undefined, { ts: T0 + 1300, size: 58 }), {
      decisionIntervalMs: 250,
      executor: 'passive',
      passiveTimeoutMs: 60_000,
      latencyMs: 50,
      responseLatencyMs: 1500,
    });
    expect(r.fills[0]).toMatchObject({ ts: T0 + 1300, qty: 8, price: 100.0, liquidity: 'maker' });
    expect([...r.orders.values()].filter((o) => o.sentTs < T0 + 2800).map((o) => o.sentTs)).toEqual([
      T0 + 250,
    ]);
    expect(r.seen.get(T0 + 2750)).toBe(0);
    expect(r.seen.get(T0 + 3000)).toBe(8);
  });

  it('decides at every grid time of a quiet feed, with the data received by then', async () => {
    const r = await run(writeSession(0), { latencyMs: 50 });
    const last = D + 8 * 1000 + 300;
    const want: number[] = [];
    for (let d = D; d < last; d += 1000) want.push(d);
    expect(r.decisions).toEqual(want);
  });
});
