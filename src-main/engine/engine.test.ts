// Engine behaviour on a real stored session (SimGenerator → parser → SessionWriter → SQLite → ReplaySource).
// The model here is a fixed linear rule on two features implementing the engine's DecisionModel port, so the
// expected decisions are known; the ONNX predictor path is covered by src-main/backtest/equivalence.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookMessage, MarketMessage } from '../../src-shared/market.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { featureIndex } from '../features/featureSet.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession, type StoredEvent } from '../store/sessionReader.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import type { Fill, Order } from '../trading/types.ts';
import { ReplayClock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import { END_OF_RUN, Engine, engineOptionsFromConfig } from './engine.ts';
import type { GapEvent, PredictionEvent, SignalEvent } from './events.ts';
import { RunRecorder } from './runRecorder.ts';
import { BYBIT_RECORDING } from '../testing/bybitRecording.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-engine-'));
let db: Db;
let sessionId: number;
let gapSessionId: number;
let gapAt = 0;
let resyncAt = 0;
const config = loadConfig({
  ignoreUserFile: true,
  overrides: { 'trading.threshold': 0.3, 'trading.latency': '50ms' },
});
const IMB = featureIndex('imb_l5');
const OFI = featureIndex('ofi_5s');

/** A deterministic rule standing in for a trained model: enough signals to trade both ways. */
function ruleModel(kind: 'sync' | 'async'): DecisionModel & { calls: number[] } {
  const calls: number[] = [];
  return {
    needsFeatures: true,
    calls,
    predict(row: Float32Array, ts: number) {
      calls.push(ts);
      const v = 2 * row[IMB] + 0.5 * row[OFI];
      return kind === 'sync' ? v : new Promise<number>((r) => setTimeout(() => r(v), 0));
    },
  };
}

interface Run {
  orders: Order[];
  fills: Fill[];
  predictions: PredictionEvent[];
  signals: SignalEvent[];
  gaps: GapEvent[];
  finalEquity: number;
  engine: Engine;
}

function collect(engine: Engine): Omit<Run, 'finalEquity'> {
  const r = {
    orders: [] as Order[],
    fills: [] as Fill[],
    predictions: [] as PredictionEvent[],
    signals: [] as SignalEvent[],
    gaps: [] as GapEvent[],
    engine,
  };
  engine.on('order', (o) => r.orders.push(o));
  engine.on('fill', (f) => r.fills.push(f));
  engine.on('prediction', (p) => r.predictions.push(p));
  engine.on('signal', (s) => r.signals.push(s));
  engine.on('gap', (g) => r.gaps.push(g));
  return r;
}

async function replay(
  id: number,
  model: DecisionModel,
  opts: { threshold?: number; recorder?: boolean; onEngine?: (e: Engine) => void } = {},
): Promise<Run & { runId?: number }> {
  const source = new ReplaySource({ db, sessionId: id, speed: 'max' });
  const options = {
    ...engineOptionsFromConfig(config, source.instrument, 1000),
    threshold: opts.threshold ?? config.trading.threshold,
  };
  const sink = opts.recorder
    ? new RunRecorder(db, {
        kind: 'backtest',
        source: 'replay',
        sessionId: id,
        symbol: 'BTCUSDT',
        model: null,
        threshold: options.threshold,
        params: {},
        startedAt: 0,
      })
    : undefined;
  const engine = new Engine(options, { source, clock: new ReplayClock(), model, sink });
  const r = collect(engine);
  opts.onEngine?.(engine);
  await engine.start();
  await source.done();
  await engine.stop();
  return { ...r, finalEquity: engine.portfolioNow().equity, runId: sink?.runId };
}

const strip = (fs_: Fill[]) => fs_.map((f) => ({ ...f }));

beforeAll(() => {
  db = openDb(path.join(dir, 'engine.db'));
  sessionId = writeSimSession(db, { seed: 11, durationMs: 240_000 }).sessionId;
  // The same market with one book delta lost at ~90 s (a sequence gap) and a fresh snapshot at ~150 s.
  const events = [...readSession(db, sessionId)] as StoredEvent[];
  const ref = new SequencedBook(new TickScale('0.1'));
  gapSessionId = createSession(db, {
    source: 'sim',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    startedAt: 0,
  });
  const w = new SessionWriter(db, gapSessionId, { now: () => 0, maxRows: 100_000 });
  const t0 = (events[0] as MarketMessage).ts;
  let dropped = false;
  let resynced = false;
  for (const e of events) {
    if (e.kind === 'gap') continue;
    if (e.kind === 'book') ref.apply(e);
    if (!dropped && e.kind === 'book' && e.type === 'delta' && e.ts - t0 > 90_000) {
      dropped = true;
      gapAt = e.ts;
      continue;
    }
    w.writeMessage(e);
    if (dropped && !resynced && e.kind === 'book' && e.ts - t0 > 150_000) {
      resynced = true;
      resyncAt = e.ts;
      const snap: BookMessage = {
        ...e,
        type: 'snapshot',
        bids: ref.book.levels('bid', 50),
        asks: ref.book.levels('ask', 50),
      };
      w.writeMessage(snap);
    }
  }
  w.close(0);
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Engine', () => {
  it('decides on the decision grid, only after the features are warm, and trades both ways', async () => {
    const model = ruleModel('sync');
    const r = await replay(sessionId, model);
    expect(r.predictions.length).toBeGreaterThan(150);
    for (const p of r.predictions) expect(p.ts % 1000).toBe(0);
    const first = (readSession(db, sessionId).next().value as MarketMessage).ts;
    expect(r.predictions[0].ts - first).toBeGreaterThanOrEqual(30_000);
    expect(new Set(r.fills.map((f) => f.side))).toEqual(new Set(['Buy', 'Sell']));
    // Every order arrives exactly one latency after it was sent, and its fills happen at arrival (market).
    for (const o of r.orders.filter((x) => x.status === 'filled')) expect(o.arrivedTs - o.sentTs).toBe(50);
    // Signals follow the rule: +1 above the threshold, -1 below its negative.
    for (const s of r.signals) expect(s.signal).toBe(s.prediction > 0.3 ? 1 : s.prediction < -0.3 ? -1 : 0);
  });

  it('an async model (awaited per decision) gives exactly the same run as a synchronous one', async () => {
    const a = await replay(sessionId, ruleModel('sync'));
    const b = await replay(sessionId, ruleModel('async'));
    expect(b.fills.length).toBeGreaterThan(5);
    expect(strip(b.fills)).toEqual(strip(a.fills));
    expect(b.orders).toEqual(a.orders);
    expect(b.finalEquity).toBe(a.finalEquity);
  });

  it("a 'prediction' listener reads that prediction's own feature row (the UI's Features panel), even for an async model", async () => {
    const seen = new Map<number, number[]>();
    const model = ruleModel('async');
    const inner = model.predict.bind(model);
    model.predict = (row, ts) => {
      seen.set(ts, Array.from(row));
      return inner(row, ts);
    };
    const read: { ts: number; row: number[] | null }[] = [];
    const r = await replay(sessionId, model, {
      onEngine: (e) =>
        e.on('prediction', (p) => {
          const row = e.featureRow;
          read.push({ ts: p.ts, row: row ? Array.from(row) : null });
        }),
    });
    expect(read.length).toBe(r.predictions.length);
    expect(read.length).toBeGreaterThan(150);
    for (const x of read) expect(x.row).toEqual(seen.get(x.ts));
    // Rows differ from decision to decision (it is not one stale buffer read every time).
    expect(new Set(read.map((x) => x.row?.[IMB])).size).toBeGreaterThan(10);
    // A model that takes no features has no row to show.
    const rowless: DecisionModel = { needsFeatures: false, predict: () => 0 };
    const rowlessRows: (ArrayLike<number> | null)[] = [];
    await replay(sessionId, rowless, {
      onEngine: (e) => e.on('prediction', () => rowlessRows.push(e.featureRow)),
    });
    expect(rowlessRows.length).toBeGreaterThan(150);
    expect(rowlessRows.every((x) => x === null)).toBe(true);
  });

  it('a live-style burst (messages pushed without waiting) is processed in order with the same result', async () => {
    const ref = await replay(sessionId, ruleModel('async'));
    const source = new ReplaySource({ db, sessionId, speed: 'max' });
    const engine = new Engine(engineOptionsFromConfig(config, source.instrument, 1000), {
      source,
      clock: new ReplayClock(),
      model: ruleModel('async'),
    });
    const r = collect(engine);
    for (const e of readSession(db, sessionId)) void engine.enqueue(e);
    await engine.idle();
    expect(strip(r.fills)).toEqual(strip(ref.fills));
    expect(engine.portfolioNow().equity).toBe(ref.finalEquity);
  });

  it('never predicts on an invalid book: trading pauses from a sequence gap until a snapshot and a new warm-up', async () => {
    const model = ruleModel('sync');
    const r = await replay(gapSessionId, model);
    expect(r.gaps.map((g) => [g.origin, g.gap.reason])).toEqual([['book', 'sequence']]);
    expect(r.gaps[0].gap.startTs).toBeGreaterThanOrEqual(gapAt);
    const during = model.calls.filter((t) => t > gapAt && t < resyncAt + 30_000);
    expect(during).toEqual([]);
    expect(
      r.orders.filter((o) => o.sentTs > gapAt && o.sentTs < resyncAt).filter((o) => o.reason === 'signal'),
    ).toEqual([]);
    // After the resync and the 30 s warm-up it decides again.
    expect(model.calls.some((t) => t >= resyncAt + 30_000)).toBe(true);
    expect(model.calls.some((t) => t < gapAt)).toBe(true);
  });

  it('a live gap (open → resync snapshot → close) pauses decisions from its opening to the warm-up after the snapshot', async () => {
    const events = [...readSession(db, sessionId)] as StoredEvent[];
    const t0 = (events[0] as MarketMessage).ts;
    const ref = new SequencedBook(new TickScale('0.1'));
    const source = new ReplaySource({ db, sessionId, speed: 'max' });
    const model = ruleModel('async');
    const engine = new Engine(engineOptionsFromConfig(config, source.instrument, 1000), {
      source,
      clock: new ReplayClock(),
      model,
    });
    const r = collect(engine);
    let openAt = NaN;
    let snapAt = NaN;
    let closeAt = NaN;
    const gap = {
      symbol: 'BTCUSDT',
      reason: 'disconnect' as const,
      startTs: 0,
      endTs: null as number | null,
      detail: 'socket closed',
    };
    for (const e of events) {
      if (e.kind === 'gap') continue;
      if (e.kind === 'book') ref.apply(e);
      const dt = e.ts - t0;
      if (dt > 90_000 && openAt !== openAt) {
        openAt = e.ts;
        gap.startTs = e.ts;
        void engine.enqueue({ kind: 'gap', gap: { ...gap } });
      }
      if (dt > 90_000 && dt < 95_000) continue; // disconnected: nothing arrives
      if (dt >= 95_000 && snapAt !== snapAt && e.kind === 'book') {
        snapAt = e.ts;
        void engine.enqueue({
          ...e,
          type: 'snapshot',
          bids: ref.book.levels('bid', 50),
          asks: ref.book.levels('ask', 50),
        });
        continue;
      }
      if (dt > 105_000 && closeAt !== closeAt && snapAt === snapAt) {
        closeAt = e.ts;
        void engine.enqueue({ kind: 'gap', gap: { ...gap, endTs: snapAt } });
      }
      void engine.enqueue(e);
    }
    await engine.idle();
    expect(r.gaps.map((g) => [g.gap.reason, g.gap.endTs === null])).toEqual([
      ['disconnect', true],
      ['disconnect', false],
    ]);
    expect(model.calls.filter((t) => t > openAt && t < snapAt + 30_000)).toEqual([]);
    // The warm-up restarted at the snapshot, not again when the gap record closed 10 s later.
    const resumed = model.calls.find((t) => t >= snapAt + 30_000) as number;
    expect(resumed).toBeLessThan(snapAt + 32_000);
    expect(resumed).toBeLessThan(closeAt + 30_000);
  });

  it('runs the real Bybit orderbook.200 + publicTrade recording: fills walk its book, priced inside it', async () => {
    const id = createSession(db, {
      source: 'import',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 200,
      tickSize: '0.1',
      startedAt: 0,
    });
    const w = new SessionWriter(db, id, { now: () => 0 });
    for (const line of fs.readFileSync(BYBIT_RECORDING, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const obj = JSON.parse(line) as { ts: number };
      const f = parseRawMessage(obj, obj.ts);
      if (f.type === 'book' || f.type === 'trades') w.writeMessage(f.msg);
    }
    w.close(0);
    const books: { ts: number; bid: number; ask: number }[] = [];
    // Threshold 0: every decision after the warm-up takes a side, so the 43 s recording trades.
    const r = await replay(id, ruleModel('sync'), {
      threshold: 0,
      onEngine: (e) =>
        e.on('book', (b) => books.push({ ts: b.ts, bid: b.book.bestBid(), ask: b.book.bestAsk() })),
    });
    expect(r.gaps).toEqual([]);
    expect(r.predictions.length).toBeGreaterThan(5);
    expect(r.fills.length).toBeGreaterThan(0);
    for (const f of r.fills) {
      // A market buy pays at least the best ask of the book it met (a sell at most the best bid).
      const seen = books.filter((b) => b.ts <= f.ts).at(-1) as { bid: number; ask: number };
      if (f.side === 'Buy') expect(f.price).toBeGreaterThanOrEqual(seen.ask);
      else expect(f.price).toBeLessThanOrEqual(seen.bid);
      expect(f.fee).toBeCloseTo(f.price * f.qty * 0.00055, 9);
    }
  });

  it('setThreshold at runtime takes effect at the next decision', async () => {
    let switchedAt = NaN;
    let count = 0;
    const r = await replay(sessionId, ruleModel('sync'), {
      onEngine: (e) =>
        e.on('prediction', (p) => {
          if (++count === 60) {
            e.setThreshold(1e9);
            switchedAt = p.ts;
          }
        }),
    });
    expect(switchedAt).toBeGreaterThan(0);
    expect(r.signals.some((s) => s.ts <= switchedAt && s.signal !== 0)).toBe(true);
    const after = r.signals.filter((s) => s.ts > switchedAt);
    expect(after.every((s) => s.signal === 0 && s.threshold === 1e9)).toBe(true);
    expect(r.predictions.filter((p) => p.ts > switchedAt).every((p) => p.threshold === 1e9)).toBe(true);
    expect(r.engine.position).toBe(0);
  });

  it('portfolio accounting adds up, and the run is recorded', async () => {
    const r = await replay(sessionId, ruleModel('sync'), { recorder: true });
    const fees = r.fills.reduce((a, f) => a + f.fee, 0);
    const p = r.engine.portfolioNow();
    expect(p.fees).toBeCloseTo(fees, 9);
    let cash = 0;
    let pos = 0;
    for (const f of r.fills) {
      const s = f.side === 'Buy' ? 1 : -1;
      cash -= s * f.qty * f.price + f.fee;
      pos += s * f.qty;
    }
    // Equity = initial + cash flows + position marked at the mid.
    expect(p.equity).toBeCloseTo(config.trading.initial_balance + cash + pos * p.mark, 6);
    const runId = r.runId as number;
    const count = (t: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${t} WHERE run_id = ?`).get(runId) as { n: number }).n;
    expect(count('fills')).toBe(r.fills.length);
    expect(count('orders')).toBe(new Set(r.orders.map((o) => o.id)).size);
    expect(count('predictions')).toBe(r.predictions.length);
    expect(count('signals')).toBe(r.signals.length);
    expect(count('equity')).toBeGreaterThan(200);
    const run = db.prepare('SELECT metrics, final, ended_at FROM runs WHERE id = ?').get(runId) as {
      metrics: string;
      final: string;
      ended_at: number;
    };
    expect(JSON.parse(run.final).equity).toBeCloseTo(r.finalEquity, 9);
    expect(JSON.parse(run.metrics).trades).toBe(r.fills.length);
  });
});

describe('Engine at the end of a run', () => {
  it('cancels the orders still working (recorded with the reason) and marks the open position to the last mid', async () => {
    const events = [...readSession(db, sessionId)].filter((e): e is MarketMessage => e.kind !== 'gap');
    const tEnd = events[events.length - 1].ts;
    // Long from a minute before the end; a sell decided in the last 3 s cannot arrive (5 s latency) before the data ends.
    const model: DecisionModel = {
      needsFeatures: false,
      predict: (_row, ts) => (ts < tEnd - 60_000 ? 0 : ts < tEnd - 3000 ? 5 : -5),
    };
    const source = new ReplaySource({ db, sessionId, speed: 'max' });
    const options = { ...engineOptionsFromConfig(config, source.instrument, 1000), latencyMs: 5000 };
    const sink = new RunRecorder(db, {
      kind: 'backtest',
      source: 'replay',
      sessionId,
      symbol: 'BTCUSDT',
      model: null,
      threshold: options.threshold,
      params: {},
      startedAt: 0,
    });
    const engine = new Engine(options, { source, clock: new ReplayClock(), model, sink });
    const r = collect(engine);
    let lastMid = NaN;
    engine.on('book', (b) => (lastMid = b.book.mid()));
    await engine.start();
    await source.done();
    await engine.stop();

    const last = new Map(r.orders.map((o) => [o.id, o]));
    const atEnd = [...last.values()].filter((o) => o.status !== 'filled');
    expect(atEnd.length).toBeGreaterThan(0);
    for (const o of atEnd) {
      expect(o.status).toBe('cancelled');
      expect(o.note).toMatch(new RegExp(`^${END_OF_RUN}: cancelled before it reached the exchange`));
      expect(o.doneTs).toBeLessThanOrEqual(tEnd);
    }
    const stored = db
      .prepare('SELECT status, note FROM orders WHERE run_id = ? ORDER BY order_id')
      .all(sink.runId) as { status: string; note: string }[];
    expect(stored.length).toBe(last.size);
    expect(stored.filter((o) => o.status === 'pending' || o.status === 'open')).toEqual([]);
    expect(stored.filter((o) => o.note.startsWith(END_OF_RUN)).length).toBe(atEnd.length);

    // The long is still open: final equity = cash after fees + position × the last mid.
    const p = engine.portfolioNow();
    expect(p.position).toBeGreaterThan(0);
    expect(p.mark).toBe(lastMid);
    let cash = 0;
    for (const f of r.fills) cash -= (f.side === 'Buy' ? 1 : -1) * f.qty * f.price + f.fee;
    expect(p.equity).toBeCloseTo(config.trading.initial_balance + cash + p.position * lastMid, 6);
    const run = db.prepare('SELECT final FROM runs WHERE id = ?').get(sink.runId) as { final: string };
    expect(JSON.parse(run.final).equity).toBe(p.equity);
  });
});

describe('Engine on other tick sizes', () => {
  // A DOGE-like market (tick 0.00001, price ~0.15) stored as sessions that differ only in the tick size they
  // record: right, unknown (''), and wrong (too coarse).
  const TICK = '0.00001';
  const dogeConfig = loadConfig({
    ignoreUserFile: true,
    overrides: { 'trading.threshold': 0.3, 'trading.latency': '50ms', 'risk.max_position_notional': 100_000 },
  });
  let dogeEvents: MarketMessage[] = [];

  function storeDoge(tickSize: string, events: readonly MarketMessage[] = dogeEvents): number {
    const id = createSession(db, {
      source: 'sim',
      symbol: 'DOGEUSDT',
      category: 'linear',
      depth: 50,
      tickSize,
      startedAt: 0,
    });
    const w = new SessionWriter(db, id, { now: () => 0, maxRows: 100_000 });
    for (const e of events) w.writeMessage(e);
    w.close(0);
    return id;
  }

  async function replayDoge(id: number): Promise<Run & { warnings: string[]; notices: string[] }> {
    const source = new ReplaySource({ db, sessionId: id, speed: 'max' });
    const engine = new Engine(engineOptionsFromConfig(dogeConfig, source.instrument, 1000), {
      source,
      clock: new ReplayClock(),
      model: ruleModel('sync'),
    });
    const r = collect(engine);
    const warnings: string[] = [];
    const notices: string[] = [];
    engine.on('warning', (w) => warnings.push(w));
    engine.on('notice', (n) => notices.push(n));
    await engine.start();
    await source.done();
    await engine.stop();
    return { ...r, finalEquity: engine.portfolioNow().equity, warnings, notices };
  }

  beforeAll(() => {
    const id = writeSimSession(db, {
      seed: 12,
      durationMs: 150_000,
      symbol: 'DOGEUSDT',
      startPrice: 0.15,
      tickSize: TICK,
    }).sessionId;
    dogeEvents = [...readSession(db, id)].filter((e): e is MarketMessage => e.kind !== 'gap');
  });

  it('replays a session stored with its own tick: book on that grid, decisions, sane fills', async () => {
    const r = await replayDoge(storeDoge(TICK));
    expect(r.engine.tickSize).toBe(TICK);
    expect(r.gaps).toEqual([]);
    expect(r.predictions.length).toBeGreaterThan(50);
    expect(r.fills.length).toBeGreaterThan(2);
    // Sized in coins of a 0.15 market: ~1000 USDT positions (thousands of coins), a flip at most twice that.
    let pos = 0;
    let maxNotional = 0;
    for (const f of r.fills) {
      expect(f.price).toBeGreaterThan(0.1);
      expect(f.price).toBeLessThan(0.2);
      expect(f.qty).toBeGreaterThan(0);
      expect(f.qty * f.price).toBeLessThan(2 * 1000 * 1.05);
      pos += f.side === 'Buy' ? f.qty : -f.qty;
      maxNotional = Math.max(maxNotional, Math.abs(pos) * f.price);
    }
    expect(maxNotional).toBeGreaterThan(900);
    expect(maxNotional).toBeLessThan(1050);
    for (const p of r.predictions) expect(p.mid).toBeCloseTo(0.15, 1);
  });

  it('a session with an unknown tick, or a too coarse one, gives the very same run (tick inferred / refined)', async () => {
    const ref = await replayDoge(storeDoge(TICK));
    const unknown = await replayDoge(storeDoge(''));
    expect(unknown.engine.tickSize).toBe(TICK);
    // Learning the tick is information (a notice), not a problem (a warning).
    expect(unknown.notices).toContain(`tick size of DOGEUSDT inferred from its first snapshot: ${TICK}`);
    expect(unknown.warnings.filter((w) => w.includes('inferred'))).toEqual([]);
    const coarse = await replayDoge(storeDoge('0.001'));
    expect(coarse.engine.tickSize).toBe(TICK);
    for (const r of [unknown, coarse]) {
      expect(r.gaps).toEqual([]);
      expect(r.orders).toEqual(ref.orders);
      expect(strip(r.fills)).toEqual(strip(ref.fills));
      expect(r.finalEquity).toBe(ref.finalEquity);
    }
  });

  it('a price off the grid the engine inferred is a gap, not a crash; the next snapshot rebuilds the book on the finer tick', async () => {
    // The first snapshot shows only the levels on the 0.0001 grid (the engine infers 0.0001); the deltas then
    // carry 0.00001 prices; a fresh full snapshot comes at ~70 s.
    const ref = new SequencedBook(new TickScale(TICK));
    const coarse = new TickScale('0.0001');
    const onCoarse = (l: readonly [number, number]) => Number.isFinite(coarse.tryToTicks(l[0]));
    const t0 = dogeEvents[0].ts;
    const events: MarketMessage[] = [];
    let snapAt = NaN;
    for (const e of dogeEvents) {
      if (e.kind === 'book') ref.apply(e);
      if (events.length === 0 && e.kind === 'book' && e.type === 'snapshot') {
        events.push({ ...e, bids: e.bids.filter(onCoarse), asks: e.asks.filter(onCoarse) });
        continue;
      }
      events.push(e);
      if (snapAt !== snapAt && e.kind === 'book' && e.ts - t0 > 70_000) {
        snapAt = e.ts;
        events.push({
          ...e,
          type: 'snapshot',
          bids: ref.book.levels('bid', 50),
          asks: ref.book.levels('ask', 50),
        });
      }
    }
    expect((events[0] as BookMessage).bids.length).toBeGreaterThan(0);
    const r = await replayDoge(storeDoge('', events));
    expect(r.gaps.map((g) => [g.origin, g.gap.reason])).toEqual([['book', 'sequence']]);
    expect(r.gaps[0].gap.detail).toMatch(/not a multiple of tick size 0\.0001/);
    expect(r.warnings.some((w) => w.includes('changed from 0.0001 to 0.00001'))).toBe(true);
    expect(r.engine.tickSize).toBe(TICK);
    // Nothing decided on the broken book; decisions resume after the rebuild and a fresh warm-up.
    expect(r.predictions.filter((p) => p.ts > r.gaps[0].gap.startTs && p.ts < snapAt + 30_000)).toEqual([]);
    expect(r.predictions.some((p) => p.ts >= snapAt + 30_000)).toBe(true);
  });
});

describe('Engine sizes in whole lots of any symbol, and price drift does not churn orders', () => {
  async function run(id: number, cfg: typeof config, model: DecisionModel = ruleModel('sync')) {
    const source = new ReplaySource({ db, sessionId: id, speed: 'max' });
    const engine = new Engine(engineOptionsFromConfig(cfg, source.instrument, 1000), {
      source,
      clock: new ReplayClock(),
      model,
    });
    const r = collect(engine);
    const warnings: string[] = [];
    const notices: string[] = [];
    engine.on('warning', (w) => warnings.push(w));
    engine.on('notice', (n) => notices.push(n));
    await engine.start();
    await source.done();
    await engine.stop();
    const orders = [...new Map(r.orders.map((o) => [o.id, o])).values()];
    return { ...r, orders, warnings, notices };
  }

  it.each([
    // symbol, start price, tick, lot the engine uses, inferred (not in the known table)
    ['BTCUSDT', 65_000, '0.1', 0.001, false],
    ['DOGEUSDT', 0.15, '0.00001', 1, false],
    ['ETHXUSDT', 3500, '0.01', 0.01, true], // the sim's sizes are whole 0.01 lots at 3500
    ['XYZUSDT', 0.52, '0.0001', 1, true], // whole coins (lots of 100)
  ] as const)(
    '%s at %s (tick %s): lot %s, inferred %s',
    async (symbol, startPrice, tickSize, lot, inferred) => {
      const id = writeSimSession(db, {
        seed: 21,
        durationMs: 100_000,
        symbol,
        startPrice,
        tickSize,
      }).sessionId;
      const r = await run(id, config);
      expect(r.engine.qtyStep).toBe(lot);
      expect(r.notices.some((n) => n.includes(`lot size of ${symbol} inferred`))).toBe(inferred);
      expect(r.warnings.filter((w) => w.includes('lot size of'))).toEqual([]);
      const placed = r.orders.filter((o) => o.status !== 'rejected');
      expect(placed.length).toBeGreaterThan(1);
      for (const o of placed) {
        const lots = o.qty / lot;
        expect(Math.abs(lots - Math.round(lots))).toBeLessThan(1e-6);
        // 1000 USDT positions (flips twice that) at any price: never a BTC-sized 0.5 coins of a 0.52 coin.
        expect(o.qty * startPrice).toBeGreaterThan(700);
        expect(o.qty * startPrice).toBeLessThan(2 * 1000 * 1.05);
      }
    },
  );

  it("the exchange's instrument-info lot (instrument.qtyStep) beats the table and inference", async () => {
    const id = writeSimSession(db, {
      seed: 21,
      durationMs: 60_000,
      symbol: 'XYZUSDT',
      startPrice: 0.52,
      tickSize: '0.0001',
    }).sessionId;
    const source = new ReplaySource({ db, sessionId: id, speed: 'max' });
    const instrument = { ...source.instrument, qtyStep: '10' };
    const engine = new Engine(engineOptionsFromConfig(config, instrument, 1000), {
      source,
      clock: new ReplayClock(),
      model: ruleModel('sync'),
    });
    const said: string[] = [];
    engine.on('warning', (w) => said.push(w));
    engine.on('notice', (n) => said.push(n));
    await engine.start();
    await source.done();
    await engine.stop();
    expect(engine.qtyStep).toBe(10); // inference alone gives 1 (the XYZUSDT case above)
    expect(said.filter((w) => w.includes('lot size of'))).toEqual([]);
  });

  it("the exchange's minimum order value (instrument.minNotional) raises risk.min_order_notional, never lowers it", async () => {
    const id = writeSimSession(db, { seed: 21, durationMs: 60_000 }).sessionId;
    const runWith = async (minNotional: string) => {
      const source = new ReplaySource({ db, sessionId: id, speed: 'max' });
      // 1000 USDT positions (config risk.notional), risk.min_order_notional 5.
      const instrument = { ...source.instrument, minNotional };
      const engine = new Engine(engineOptionsFromConfig(config, instrument, 1000), {
        source,
        clock: new ReplayClock(),
        model: ruleModel('sync'),
      });
      const r = collect(engine);
      const notices: string[] = [];
      engine.on('notice', (n) => notices.push(n));
      await engine.start();
      await source.done();
      await engine.stop();
      return { orders: r.orders, notices };
    };
    const above = await runWith('1500');
    expect(above.orders).toEqual([]);
    expect(above.notices.filter((n) => n.includes('minimum order value'))).toEqual([
      "minimum order value of BTCUSDT from the exchange's instrument info: 1500, above risk.min_order_notional 5; smaller orders are not placed",
    ]);
    // An exchange minimum under the configured one changes nothing: the same orders as with none, and no notice.
    const below = await runWith('1');
    const none = await runWith('');
    expect(below.orders.length).toBeGreaterThan(0);
    expect(below.orders).toEqual(none.orders);
    expect(below.notices.filter((n) => n.includes('minimum order value'))).toEqual([]);
  });

  it('a price hovering on a lot boundary under a steady signal: one entry, no resizing orders', async () => {
    const id = writeSimSession(db, { seed: 11, durationMs: 240_000, startPrice: 50_000 }).sessionId;
    // Always long: only the price moves, so every order after the entry would be a resize for price drift.
    const alwaysLong: DecisionModel = { needsFeatures: false, predict: () => 1 };
    // The notional puts the lot boundary (notional / price = 0.02 BTC) at the median decision price.
    const mids = (await run(id, config, alwaysLong)).predictions.map((p) => p.mid).sort((x, y) => x - y);
    const notional = 0.02 * mids[mids.length >> 1];
    const cfg = (o: Record<string, unknown>) =>
      loadConfig({
        ignoreUserFile: true,
        overrides: { 'trading.threshold': 0.3, 'trading.latency': '50ms', 'risk.notional': notional, ...o },
      });
    const banded = await run(id, cfg({}), alwaysLong);
    // Without the band the rounded size flips between 0.019 and 0.020 as the price crosses the boundary.
    const churn = await run(id, cfg({ 'risk.rebalance_band': 0, 'risk.min_order_notional': 0 }), alwaysLong);
    expect(churn.orders.length).toBeGreaterThanOrEqual(3);
    expect(churn.orders.slice(1).every((o) => o.qty === 0.001)).toBe(true);
    expect(banded.orders.map((o) => [o.side, o.status])).toEqual([['Buy', 'filled']]);
    expect([0.019, 0.02]).toContain(banded.orders[0].qty);
    expect(banded.engine.position).toBe(banded.orders[0].qty);
  });
});
