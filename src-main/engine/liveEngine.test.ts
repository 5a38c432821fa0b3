// The engine on a live source: BybitSource (the real WebSocket client) against the local Bybit-compatible
// exchange simulator on 127.0.0.1, wall clock. A sequence gap injected by the server must pause decisions until
// the client has resynced from a fresh snapshot and the features have warmed up again; trading goes on after.
// A symbol nobody configured (no tick size): the engine builds its book on the tick the source infers.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { TickScale } from '../book/tickScale.ts';
import { featureIndex } from '../features/featureSet.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { startSimExchange } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { RealClock, ScaledClock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import { Engine, engineOptionsFromConfig } from './engine.ts';
import type { GapEvent } from './events.ts';
import type { Fill, Order } from '../trading/types.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const IMB = featureIndex('imb_l5');

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Engine on a live WebSocket source', () => {
  it('trades on the wall clock, pauses on a feed gap and resumes after the resync snapshot and warm-up', async () => {
    // Market time runs 25x faster than wall time: the 30 s warm-up takes ~1.2 s. Our clock (receive stamps and the
    // decision timer) runs on the market's scale, started just before the market, so it is never behind it.
    const clock = new ScaledClock(Date.UTC(2026, 0, 5), 25);
    const server = await startSimExchange({ seed: 5, startMs: Date.UTC(2026, 0, 5) }, { speed: 25 });
    cleanups.push(() => server.close());
    const source = new BybitSource({
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      url: server.url,
      pingIntervalMs: 500,
      staleTimeoutMs: 125_000, // market ms: 5 s of wall time
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
      now: clock.now,
    });
    const config = loadConfig({ ignoreUserFile: true, overrides: { 'trading.threshold': 0.2 } });
    const calls: number[] = [];
    const model: DecisionModel = {
      needsFeatures: true,
      predict: (row, ts) => {
        calls.push(ts);
        return Promise.resolve(3 * row[IMB]);
      },
    };
    const engine = new Engine(engineOptionsFromConfig(config, source.instrument), { source, clock, model });
    cleanups.push(() => engine.stop());
    const gaps: GapEvent[] = [];
    let fills = 0;
    let lastBookTs = 0;
    // Exchange time of the book when the gap closed (the resync snapshot), read as it happens: a poll can come late.
    let resyncTs = NaN;
    engine.on('gap', (g) => {
      gaps.push(g);
      if (g.gap.endTs !== null && resyncTs !== resyncTs) resyncTs = lastBookTs;
    });
    engine.on('fill', () => fills++);
    engine.on('book', (b) => (lastBookTs = b.ts));
    await engine.start();

    const until = async (what: string, cond: () => boolean, ms = 15_000) => {
      const t0 = Date.now();
      while (!cond()) {
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until('the first predictions', () => calls.length >= 5);
    const before = calls.length;
    server.inject('gap');
    await until('the gap', () => gaps.some((g) => g.gap.endTs === null));
    // Decisions run on our (receive) clock: the gap opened when its first broken message was received.
    const opened = gaps.find((g) => g.gap.endTs === null)?.gap.startTs ?? NaN;
    await until('the resync', () => gaps.some((g) => g.gap.endTs !== null));
    const resynced = resyncTs;
    await until('predictions after the resync', () => calls.some((t) => t > resynced + 30_000));
    expect(gaps.map((g) => [g.origin, g.gap.reason])).toEqual([
      ['source', 'sequence'],
      ['source', 'sequence'],
    ]);
    // No decision saw data across the gap: none between the break and 30 s (market time) after the snapshot (the
    // features' window is on exchange stamps: the book's exchange time at the resync).
    expect(calls.filter((t) => t > opened && t < resynced + 29_000)).toEqual([]);
    expect(before).toBeGreaterThan(0);
    expect(engine.health().bookValid).toBe(true);
    // And it trades: paper fills from the live book.
    await until('a fill', () => fills > 0);
  }, 40_000);

  it('an unknown symbol (no tick size anywhere): the book is built on the inferred tick, decisions and fills are sane', async () => {
    // A DOGE-like market under a symbol missing from the known-tick table: tick 0.00001, price ~0.15.
    const TICK = '0.00001';
    const clock = new ScaledClock(Date.UTC(2026, 0, 6), 25);
    const server = await startSimExchange(
      { seed: 8, symbol: 'ADAUSDT', startPrice: 0.15, tickSize: TICK, startMs: Date.UTC(2026, 0, 6) },
      { speed: 25 },
    );
    cleanups.push(() => server.close());
    const source = new BybitSource({
      symbol: 'ADAUSDT',
      category: 'linear',
      depth: 50,
      url: server.url,
      pingIntervalMs: 500,
      staleTimeoutMs: 125_000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
      now: clock.now,
    });
    expect(source.instrument.tickSize).toBe('');
    // Default risk config: the position cap is quote notional (USDT), so it fits a 0.15 coin as well as BTC.
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { 'trading.threshold': 0.2, symbol: 'ADAUSDT' },
    });
    const options = engineOptionsFromConfig(config, source.instrument);
    expect(options.instrument.tickSize).toBe('');
    const calls: number[] = [];
    const model: DecisionModel = {
      needsFeatures: true,
      predict: (row, ts) => {
        calls.push(ts);
        return Promise.resolve(3 * row[IMB]);
      },
    };
    const engine = new Engine(options, { source, clock, model });
    cleanups.push(() => engine.stop());
    expect(engine.tickSize).toBe('');
    const fills: { fill: Fill; bid: number; ask: number }[] = [];
    const orders = new Map<number, Order>();
    const offGrid: number[] = [];
    const scale = new TickScale(TICK);
    let bid = NaN;
    let ask = NaN;
    engine.on('book', (b) => {
      bid = b.book.bestBid();
      ask = b.book.bestAsk();
      for (const side of ['bid', 'ask'] as const)
        for (const [p] of b.book.levels(side, 5)) if (!Number.isFinite(scale.tryToTicks(p))) offGrid.push(p);
    });
    engine.on('fill', (f) => fills.push({ fill: f, bid, ask }));
    engine.on('order', (o) => orders.set(o.id, o));
    await engine.start();
    await until('predictions and fills', () => calls.length >= 5 && fills.length >= 2, 25_000);

    expect(source.instrument.tickSize).toBe(TICK);
    expect(engine.tickSize).toBe(TICK);
    expect(engine.valid).toBe(true);
    expect(engine.qtyStep).toBe(1);
    expect(offGrid).toEqual([]);
    const mid = engine.book.mid();
    expect(mid).toBeGreaterThan(0.1);
    expect(mid).toBeLessThan(0.2);
    for (const { fill: f, bid: b, ask: a } of fills) {
      // Market orders (the default executor) meet the exchange's book at their arrival: buys above its mid. The
      // book we see when the fill is acknowledged may have moved since: only its spread bounds the price loosely.
      expect(f.liquidity).toBe('taker');
      if (f.side === 'Buy') expect(f.price).toBeGreaterThan(f.arrivalMid);
      else expect(f.price).toBeLessThan(f.arrivalMid);
      expect(a).toBeGreaterThan(b);
      expect(Math.abs(f.price / mid - 1)).toBeLessThan(0.02);
      expect(f.qty).toBeGreaterThan(0);
      // The lot inferred from the snapshot's whole-coin sizes: orders, hence fills, are whole coins.
      expect(Number.isInteger(f.qty)).toBe(true);
      expect(f.qty * f.price).toBeLessThan(2 * 1000 * 1.05);
      expect(f.fee).toBeCloseTo(f.price * f.qty * config.trading.taker_fee, 9);
    }
    // ~1000 USDT of a 0.15 coin: thousands of coins, not 0.5 (a BTC-sized cap) nor millions.
    const entry = fills[0].fill;
    expect(entry.qty * entry.price).toBeGreaterThan(900);
    expect(entry.qty * entry.price).toBeLessThan(1050);
    const m = await engine.stop();
    expect(m.trades).toBe(fills.length);
    expect(Number.isFinite(engine.portfolioNow().equity)).toBe(true);
    // Nothing is left pending or open once the run has ended.
    expect([...orders.values()].filter((o) => o.status === 'pending' || o.status === 'open')).toEqual([]);
  }, 40_000);

  it('a tick the source refines mid-stream rebuilds the engine book from the next snapshot, without a crash', async () => {
    // A scripted peer: the first snapshot's prices look like tick 0.001, a delta then needs 0.00001; the source
    // refines its tick, resubscribes, and the fresh snapshot must rebuild the engine's book on the finer grid.
    const T0 = 1_786_000_000_000;
    const frame = (type: string, u: number, b: string[][], a: string[][]) =>
      JSON.stringify({
        topic: 'orderbook.50.ADAUSDT',
        type,
        ts: T0 + u,
        cts: T0 + u,
        data: { s: 'ADAUSDT', b, a, u, seq: u },
      });
    const bursts = [
      [
        frame(
          'snapshot',
          1,
          [
            ['0.150', '100'],
            ['0.149', '200'],
          ],
          [
            ['0.151', '100'],
            ['0.152', '50'],
          ],
        ),
        frame('delta', 2, [['0.149', '250']], []),
        frame('delta', 3, [['0.15055', '10']], []),
      ],
      [
        frame(
          'snapshot',
          10,
          [
            ['0.15055', '10'],
            ['0.15', '100'],
          ],
          [
            ['0.15061', '30'],
            ['0.151', '100'],
          ],
        ),
        frame('delta', 11, [['0.15056', '5']], []),
      ],
    ];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    wss.on('connection', (ws) => {
      ws.on('message', (d) => {
        const req = JSON.parse(d.toString()) as { op: string; args?: string[] };
        if (req.op === 'ping')
          return ws.send(JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'c', op: 'ping' }));
        ws.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'c', req_id: '', op: req.op }));
        if (req.op === 'subscribe' && req.args?.some((a) => a.startsWith('orderbook.')))
          for (const f of bursts.shift() ?? []) ws.send(f);
      });
    });
    const source = new BybitSource({
      symbol: 'ADAUSDT',
      category: 'linear',
      depth: 50,
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      pingIntervalMs: 500,
      staleTimeoutMs: 5000,
      reconnect: { initialMs: 30, maxMs: 200, jitter: 0 },
    });
    const config = loadConfig({ ignoreUserFile: true, overrides: { symbol: 'ADAUSDT' } });
    const engine = new Engine(engineOptionsFromConfig(config, source.instrument), {
      source,
      clock: new RealClock(),
      model: null,
    });
    cleanups.push(() => engine.stop());
    const ticks: string[] = [];
    const warnings: string[] = [];
    const gaps: GapEvent[] = [];
    engine.on('book', () => {
      if (ticks.at(-1) !== engine.tickSize) ticks.push(engine.tickSize);
    });
    engine.on('warning', (w) => warnings.push(w));
    engine.on('gap', (g) => gaps.push(g));
    await engine.start();
    await until('the rebuilt book', () => engine.book.bestBidSize() === 5, 5000);

    expect(ticks).toEqual(['0.001', '0.00001']);
    expect(warnings.some((w) => w.includes('changed from 0.001 to 0.00001'))).toBe(true);
    expect(gaps.map((g) => [g.origin, g.gap.reason, g.gap.endTs === null])).toEqual([
      ['source', 'resubscribe', true],
      ['source', 'resubscribe', false],
    ]);
    expect(engine.valid).toBe(true);
    expect(engine.book.levels('bid', 5)).toEqual([
      [0.15056, 5],
      [0.15055, 10],
      [0.15, 100],
    ]);
    expect(engine.book.levels('ask', 5)).toEqual([
      [0.15061, 30],
      [0.151, 100],
    ]);
  });
});
