// Execution costs on real engine runs over a stored sim session (SimGenerator → SQLite → ReplaySource → Engine):
// every order's decision and arrival mids are the mids of the book at those times (checked against an independent
// replay of the session), the P&L attribution adds up to the run's net P&L, and latency is what moves the latency part.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSimSession } from '../backtest/simSession.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { featureIndex } from '../features/featureSet.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { fillCost, orderCost } from '../trading/executionCosts.ts';
import type { Metrics } from '../trading/metrics.ts';
import { sideSign, type Fill, type Order } from '../trading/types.ts';
import { ReplayClock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import { Engine, engineOptionsFromConfig } from './engine.ts';
import { RunRecorder } from './runRecorder.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-costs-'));
let db: Db;
let sessionId: number;
const IMB = featureIndex('imb_l5');
const OFI = featureIndex('ofi_5s');

/** A deterministic rule standing in for a trained model (as in engine.test.ts): trades both ways. */
const ruleModel = (): DecisionModel => ({
  needsFeatures: true,
  predict: (row: Float32Array) => 2 * row[IMB] + 0.5 * row[OFI],
});

interface Run {
  orders: Map<number, Order>;
  fills: Fill[];
  metrics: Metrics;
  position: number;
  mark: number;
  equity: number;
  runId?: number;
}

async function run(
  latency: string,
  o: { executor?: 'market' | 'passive'; toTs?: number; record?: boolean } = {},
): Promise<Run> {
  const config = loadConfig({
    ignoreUserFile: true,
    overrides: {
      'trading.threshold': 0.3,
      'trading.latency': latency,
      'trading.executor': o.executor ?? 'market',
    },
  });
  const source = new ReplaySource({ db, sessionId, speed: 'max', toTs: o.toTs });
  const options = engineOptionsFromConfig(config, source.instrument, 1000);
  const sink = o.record
    ? new RunRecorder(db, {
        kind: 'backtest',
        source: 'replay',
        sessionId,
        symbol: 'BTCUSDT',
        model: null,
        threshold: options.threshold,
        params: {},
        startedAt: 0,
      })
    : undefined;
  const engine = new Engine(options, { source, clock: new ReplayClock(), model: ruleModel(), sink });
  const orders = new Map<number, Order>();
  const fills: Fill[] = [];
  engine.on('order', (x) => orders.set(x.id, x));
  engine.on('fill', (f) => fills.push(f));
  await engine.start();
  await source.done();
  const metrics = await engine.stop();
  const p = engine.portfolioNow();
  return { orders, fills, metrics, position: p.position, mark: p.mark, equity: p.equity, runId: sink?.runId };
}

/** Mid of an independently replayed book after every message stamped before (or at, `inclusive`) each time. */
function midsAt(times: number[], inclusive: boolean): Map<number, number> {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const out = new Map<number, number>();
  const seq = new SequencedBook(new TickScale('0.1'));
  let i = 0;
  for (const e of readSession(db, sessionId)) {
    if (e.kind === 'gap') continue;
    while (i < sorted.length && (inclusive ? e.ts > sorted[i] : e.ts >= sorted[i]))
      out.set(sorted[i++], seq.book.mid());
    if (e.kind === 'book') seq.apply(e);
  }
  while (i < sorted.length) out.set(sorted[i++], seq.book.mid());
  return out;
}

const EXITS = new Set(['stop_loss', 'take_profit', 'daily_loss']);

beforeAll(() => {
  db = openDb(path.join(dir, 'costs.db'));
  sessionId = writeSimSession(db, { seed: 11, durationMs: 240_000 }).sessionId;
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('execution costs on a real engine run', () => {
  it.each([
    ['0ms', 'market'],
    ['50ms', 'market'],
    ['500ms', 'market'],
    ['50ms', 'passive'],
  ] as const)(
    'latency %s, %s executor: gross alpha − spread+walk − latency − fees = net P&L; mids are the book’s',
    async (latency, executor) => {
      const r = await run(latency, { executor });
      const c = r.metrics.costs;
      expect(r.fills.length).toBeGreaterThan(10);
      // The identity, against the portfolio's own accounting (final equity − initial balance).
      expect(Math.abs(c.grossAlpha - c.spreadWalk - c.latency - c.fees - r.metrics.netPnl)).toBeLessThan(
        1e-6,
      );
      expect(Math.abs(c.netPnl - (r.equity - r.metrics.initialEquity))).toBeLessThan(1e-6);
      // Gross alpha from the fills alone: their cash flow at the decision mids, plus what is open at the last mid.
      let atDecision = 0;
      for (const f of r.fills) atDecision -= sideSign(f.side) * f.qty * f.decisionMid;
      expect(
        Math.abs(c.grossAlpha - (atDecision + r.position * (r.position !== 0 ? r.mark : 0))),
      ).toBeLessThan(1e-6);
      // Per fill and per order (at the VWAP) sum to the run's totals.
      const sum = { latency: 0, spreadWalk: 0, fee: 0 };
      for (const f of r.fills) {
        const x = fillCost(f);
        sum.latency += x.latency;
        sum.spreadWalk += x.spreadWalk;
        sum.fee += x.fee;
      }
      const byOrder = { latency: 0, spreadWalk: 0 };
      for (const o of r.orders.values()) {
        const x = orderCost(o);
        if (x) {
          byOrder.latency += x.latency;
          byOrder.spreadWalk += x.spreadWalk;
        }
      }
      for (const [k, v] of [
        ['latency', c.latency],
        ['spreadWalk', c.spreadWalk],
      ] as const) {
        expect(Math.abs(sum[k] - v), k).toBeLessThan(1e-6);
        expect(Math.abs(byOrder[k] - v), k).toBeLessThan(1e-6);
      }
      expect(sum.fee).toBeCloseTo(r.metrics.fees, 9);
      expect(c.unmeasured).toBe(0);
      expect(c.shortfallBps).toBeCloseTo(((c.latency + c.spreadWalk) / c.notional) * 1e4, 9);

      // The mids are the book's: decision = after every message up to the decision time; arrival = after every
      // message stamped before the arrival time (the engine delivers a request before a message at or after it),
      // so with no latency the request meets the very book its decision saw.
      const arrived = [...r.orders.values()].filter((o) => o.arrivedTs === o.arrivedTs);
      const decided = arrived.filter((o) => !EXITS.has(o.reason));
      expect(decided.length).toBeGreaterThan(5);
      const atDecide = midsAt(
        decided.map((o) => o.sentTs),
        true,
      );
      const atArrive = midsAt(
        arrived.map((o) => o.arrivedTs),
        false,
      );
      for (const o of decided) expect(o.decisionMid, `order ${o.id}`).toBe(atDecide.get(o.sentTs));
      for (const o of arrived) {
        expect(o.arrivedTs - o.sentTs).toBe(parseInt(latency, 10));
        expect(o.arrivalMid, `order ${o.id}`).toBe(
          latency === '0ms' ? o.decisionMid : atArrive.get(o.arrivedTs),
        );
      }
      for (const f of r.fills) {
        const o = r.orders.get(f.orderId) as Order;
        expect([f.decisionMid, f.arrivalMid]).toEqual([o.decisionMid, o.arrivalMid]);
      }
      if (executor === 'market') {
        // Market orders pay at least the half spread at arrival: spread + walk is a cost on every fill.
        for (const f of r.fills) expect(fillCost(f).spreadWalk).toBeGreaterThan(0);
      } else {
        // Passive fills at the touch earn the spread when nothing moved before they filled.
        const makers = r.fills.filter((f) => f.liquidity === 'maker');
        expect(makers.length).toBeGreaterThan(0);
        expect(makers.some((f) => fillCost(f).spreadWalk < 0)).toBe(true);
      }
      if (latency === '0ms') {
        // No latency: every order arrives at the book its decision saw, so there is no drift at all.
        for (const f of r.fills) expect(f.arrivalMid).toBe(f.decisionMid);
        expect(c.latency).toBe(0);
      }
    },
    30_000,
  );

  it('latency moves the latency part: none at 0 ms, more drift per order at 1 s than at 50 ms', async () => {
    const rms = (r: Run) => {
      let s = 0;
      let n = 0;
      for (const o of r.orders.values())
        if (o.arrivalMid === o.arrivalMid && o.decisionMid === o.decisionMid) {
          s += ((o.arrivalMid - o.decisionMid) / o.decisionMid) ** 2;
          n++;
        }
      return Math.sqrt(s / n) * 1e4;
    };
    const [r0, r50, r1000] = [await run('0ms'), await run('50ms'), await run('1000ms')];
    expect(rms(r0)).toBe(0);
    expect(r0.metrics.costs.latencyBps).toBe(0);
    expect(rms(r50)).toBeGreaterThan(0);
    expect(r50.metrics.costs.latency).not.toBe(0);
    expect(r1000.metrics.costs.latency).not.toBe(r50.metrics.costs.latency);
    // A random walk drifts further in 1 s than in 50 ms (about √20 × here: far from the boundary).
    expect(rms(r1000)).toBeGreaterThan(2 * rms(r50));
  }, 60_000);

  it('a run cut short with a position open: the attribution values it at the last mid, like the equity', async () => {
    const t0 = (readSession(db, sessionId).next().value as { recvTs: number }).recvTs;
    let open: Run | null = null;
    for (let cut = 120_000; cut < 240_000 && !open; cut += 7_000) {
      const r = await run('50ms', { toTs: t0 + cut });
      if (r.position !== 0) open = r;
    }
    if (!open) throw new Error('no cut ended with an open position');
    const c = open.metrics.costs;
    expect(Math.abs(c.netPnl - open.metrics.netPnl)).toBeLessThan(1e-6);
    expect(Math.abs(c.grossAlpha - c.spreadWalk - c.latency - c.fees - open.metrics.netPnl)).toBeLessThan(
      1e-6,
    );
  }, 60_000);

  it('stores each order’s decision and arrival mids in SQLite (migration 220)', async () => {
    const r = await run('50ms', { record: true });
    const rows = db
      .prepare('SELECT order_id, decision_mid, arrival_mid FROM orders WHERE run_id = ? ORDER BY order_id')
      .all(r.runId) as { order_id: number; decision_mid: number | null; arrival_mid: number | null }[];
    expect(rows.length).toBe(r.orders.size);
    for (const row of rows) {
      const o = r.orders.get(row.order_id) as Order;
      expect(row.decision_mid).toBe(o.decisionMid);
      expect(row.arrival_mid).toBe(o.arrivalMid === o.arrivalMid ? o.arrivalMid : null);
    }
    expect(rows.filter((x) => x.arrival_mid !== null).length).toBeGreaterThan(5);
  }, 30_000);
});
