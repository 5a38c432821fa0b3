import { describe, expect, it } from 'vitest';
import type { BookMessage, MarketMessage } from '../../../src-shared/market.ts';
import { SequencedBook } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { parseRawMessage } from '../bybit/protocol.ts';
import { marketStats, type MarketStats } from './marketStats.ts';
import { Rng } from './prng.ts';
import { SimGenerator, type SimGeneratorOptions } from './simGenerator.ts';
import { SimMarket } from './simMarket.ts';
import { DEFAULT_MODEL_SEED, freshSimSeed, MAX_SIM_SEED } from './simSeed.ts';
import { SIM_TARGET_BANDS } from './simTargets.ts';

const T0 = 1_700_000_000_000;
const base: SimGeneratorOptions = {
  seed: 42,
  startPrice: 65000,
  tickSize: '0.1',
  levels: 200,
  bookRateHz: 50,
  depth: 200,
  startMs: T0,
};

function frames(opts: SimGeneratorOptions, steps: number): string[] {
  const g = new SimGenerator(opts);
  const out: string[] = [];
  for (let i = 0; i < steps; i++) {
    const s = g.next();
    for (const f of s.frames) out.push(JSON.stringify(f));
  }
  return out;
}

describe('Rng', () => {
  it('is deterministic per seed and uniform enough', () => {
    const a = new Rng(1);
    const b = new Rng(1);
    const c = new Rng(2);
    const xs = Array.from({ length: 10000 }, () => a.next());
    expect(Array.from({ length: 10000 }, () => b.next())).toEqual(xs);
    expect(c.next()).not.toBe(xs[0]);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(xs.every((v) => v >= 0 && v < 1)).toBe(true);
    const r = new Rng(3);
    const pois = Array.from({ length: 5000 }, () => r.poisson(2.4));
    expect(Math.abs(pois.reduce((s, v) => s + v, 0) / pois.length - 2.4)).toBeLessThan(0.1);
  });
});

describe('SimGenerator', () => {
  it('gives the identical stream for the same seed and a different one for another seed', () => {
    const a = frames(base, 3000);
    expect(frames(base, 3000)).toEqual(a);
    expect(frames({ ...base, seed: 43 }, 3000)).not.toEqual(a);
  });

  it('writes valid v5 messages: a snapshot, then consecutive deltas and trades at ~50 book messages/s', () => {
    const g = new SimGenerator(base);
    const book = new SequencedBook(new TickScale('0.1'));
    const books: BookMessage[] = [];
    let trades = 0;
    let lastSeq = 0;
    let last = 0;
    const text: string[] = [];
    while (true) {
      const s = g.next();
      if (s.atMs > T0 + 60_000) break;
      last = s.atMs;
      for (const raw of s.frames) {
        text.push(JSON.stringify(raw));
        const f = parseRawMessage(raw, s.atMs);
        if (f.type === 'book') {
          books.push(f.msg);
          expect(book.apply(f.msg)).toEqual({ status: 'applied' });
          expect(f.msg.seq).toBeGreaterThan(lastSeq);
          lastSeq = f.msg.seq;
        } else if (f.type === 'trades') {
          trades += f.msg.trades.length;
          for (const t of f.msg.trades) {
            expect(t.seq).toBeGreaterThan(lastSeq);
            lastSeq = t.seq;
          }
        } else throw new Error(`unexpected frame ${JSON.stringify(f)}`);
      }
    }
    expect(books[0].type).toBe('snapshot');
    expect(books[0].bids.length).toBeGreaterThan(100);
    for (let i = 1; i < books.length; i++) expect(books[i].u).toBe(books[i - 1].u + 1);
    const perS = books.length / ((last - T0) / 1000);
    expect(perS).toBeGreaterThan(40);
    expect(perS).toBeLessThanOrEqual(50.5);
    expect(trades).toBeGreaterThan(60);
    // Sizes in BTC with 3 decimals, prices on the 0.1 grid.
    const all = text.join('\n');
    expect(all).not.toMatch(/"\d+\.\d{4,}"/);
    expect(/"b":\[\["\d+\.\d","\d+\.\d{3}"\]/.test(all)).toBe(true);
    expect(book.book.isCrossed()).toBe(false);
    expect(book.book.bestBid()).toBeGreaterThan(60000);
  });

  it('sends snapshots only on depth 1, as Bybit does', () => {
    const g = new SimGenerator({ ...base, depth: 1 });
    const us: number[] = [];
    for (let i = 0; i < 500; i++) {
      for (const raw of g.next().frames) {
        const f = parseRawMessage(raw, 0);
        if (f.type !== 'book') continue;
        expect(f.msg.type).toBe('snapshot');
        expect([f.msg.bids.length, f.msg.asks.length]).toEqual([1, 1]);
        us.push(f.msg.u);
      }
    }
    expect(us.length).toBeGreaterThan(20);
    for (let i = 1; i < us.length; i++) expect(us[i]).toBeGreaterThan(us[i - 1]);
  });

  it('gives the same messages with numeric prices and sizes as with the decimal strings, on any tick and lot', () => {
    let frames = 0;
    for (const [tickSize, startPrice, sizeStep] of [
      ['0.1', 65000, undefined],
      ['0.01', 3400, '0.001'],
      ['0.0001', 0.52, undefined],
      ['0.00001', 0.15, '1'],
      ['0.5', 65000, '0.0001'],
      ['0.000001', 0.0123, undefined],
      ['0.25', 500, '0.05'],
    ] as const) {
      const o = { ...base, tickSize, startPrice, ...(sizeStep ? { sizeStep } : {}) };
      const strings = new SimGenerator(o);
      const numbers = new SimGenerator({ ...o, numeric: true });
      for (let i = 0; i < 2000; i++) {
        const a = strings.next().frames;
        const b = numbers.next().frames;
        expect(b.length).toBe(a.length);
        for (let k = 0; k < a.length; k++) {
          const fa = parseRawMessage(a[k], 0);
          expect(fa.type === 'book' || fa.type === 'trades').toBe(true);
          expect(parseRawMessage(b[k], 0), `${tickSize} step ${i}`).toEqual(fa);
          frames++;
        }
      }
      // Not vacuous: the numeric frames do hold numbers.
      const snap = new SimGenerator({ ...o, numeric: true }).next().frames[0] as { data: { b: unknown[][] } };
      expect(typeof snap.data.b[0][0]).toBe('number');
    }
    expect(frames).toBeGreaterThan(10_000);
  });

  it('writes the same bytes for the same seed, parameters and start, whatever else runs in between', () => {
    const params = { sigmaBps: 1.1, lambdaM: 6 };
    const a = frames({ ...base, params }, 2000);
    frames({ ...base, seed: 99 }, 500);
    expect(frames({ ...base, params }, 2000)).toEqual(a);
    expect(frames(base, 2000)).not.toEqual(a);
  });

  it('stays within the Bybit BTCUSDT bands over three simulated hours (SIM_TARGET_BANDS)', () => {
    const s = simStats(7, 3 * 3600_000);
    for (const [key, [lo, hi]] of Object.entries(SIM_TARGET_BANDS)) {
      const v = s[key as keyof MarketStats];
      expect({ key, v, inBand: v >= lo && v <= hi }).toEqual({ key, v, inBand: true });
    }
  }, 180_000);
});

describe('freshSimSeed', () => {
  it("never returns the default model's reserved seed, and stays in the unsigned 32-bit range", () => {
    const draws = [DEFAULT_MODEL_SEED, DEFAULT_MODEL_SEED, 5];
    expect(freshSimSeed(() => draws.shift() as number)).toBe(5);
    for (let i = 0; i < 200; i++) {
      const s = freshSimSeed();
      expect(Number.isInteger(s) && s >= 1 && s <= MAX_SIM_SEED && s !== DEFAULT_MODEL_SEED).toBe(true);
    }
  });
});

describe('SimMarket', () => {
  const cfg = {
    seed: 5,
    startPrice: 65000,
    tickSize: '0.1',
    levels: 200,
    bookRateHz: 50,
    depth: 50,
    startMs: T0,
  };

  async function runMax(durationMs: number): Promise<MarketMessage[]> {
    const m = new SimMarket({ ...cfg, speed: 'max', durationMs });
    const out: MarketMessage[] = [];
    m.on('message', (msg) => out.push(msg));
    await m.start();
    await m.done();
    expect(m.health().state).toBe('stopped');
    return out;
  }

  it('draws a fresh seed per run unless one is given, and a given seed repeats the path', async () => {
    const run = async (seed: number | null) => {
      const m = new SimMarket({ ...cfg, seed, speed: 'max', durationMs: 5_000 });
      const out: string[] = [];
      m.on('message', (msg) => out.push(JSON.stringify(msg)));
      await m.start();
      await m.done();
      return { seed: m.seed, text: out.join('\n') };
    };
    const a = await run(null);
    const b = await run(null);
    expect(a.seed).not.toBe(b.seed);
    expect(a.text).not.toBe(b.text);
    const again = await run(a.seed);
    expect(again).toEqual(a);
  });

  it("runs as fast as possible with speed 'max' and is deterministic", async () => {
    const a = await runMax(120_000);
    const b = await runMax(120_000);
    expect(b).toEqual(a);
    const books = a.filter((m): m is BookMessage => m.kind === 'book');
    expect(books[0]).toMatchObject({ type: 'snapshot', depth: 50, symbol: 'BTCUSDT', recvTs: T0 });
    expect(books[0].bids).toHaveLength(50);
    expect(books.length).toBeGreaterThan(120 * 40);
    expect(a[a.length - 1].ts - T0).toBeLessThanOrEqual(120_000);
    expect(a.some((m) => m.kind === 'trades')).toBe(true);
  });

  it('runs in scaled real time and stops on request, even from a listener', async () => {
    const m = new SimMarket({ ...cfg, speed: 20 });
    const got: MarketMessage[] = [];
    await new Promise<void>((resolve) => {
      m.on('message', (msg) => {
        got.push(msg);
        if (got.length === 100) void m.stop().then(resolve);
      });
      void m.start();
    });
    expect(got).toHaveLength(100);
    const book = got.filter((x): x is BookMessage => x.kind === 'book');
    expect(book.length).toBeGreaterThan(50); // the u check below is not over an empty list
    for (let i = 1; i < book.length; i++) expect(book[i].u).toBe(book[i - 1].u + 1);
  });
});

/** Calibration statistics of `durationMs` of the default simulator (50 Hz, depth 50) from `seed`. */
function simStats(seed: number, durationMs: number): MarketStats {
  const g = new SimGenerator({ ...base, seed, depth: 50 });
  function* messages(): Generator<MarketMessage> {
    while (true) {
      const s = g.next();
      if (s.atMs > T0 + durationMs) return;
      for (const raw of s.frames) {
        const f = parseRawMessage(raw, s.atMs);
        if (f.type === 'book' || f.type === 'trades') yield f.msg;
      }
    }
  }
  return marketStats(messages(), '0.1');
}
