import { describe, expect, it } from 'vitest';
import type { BookMessage, MarketMessage } from '../../../src-shared/market.ts';
import { SequencedBook } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { parseRawMessage } from '../bybit/protocol.ts';
import { Rng } from './prng.ts';
import { SimGenerator, type SimGeneratorOptions } from './simGenerator.ts';
import { SimMarket } from './simMarket.ts';

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

  it('gives top-5 imbalance real, modest predictive power over the next 10 s mid return (30 simulated minutes)', () => {
    const g = new SimGenerator({ ...base, seed: 7 });
    const sb = new SequencedBook(new TickScale('0.1'));
    const imb: number[] = [];
    const mid: number[] = [];
    let nextSample = T0 + 5000;
    while (true) {
      const s = g.next();
      if (s.atMs > T0 + 30 * 60_000) break;
      for (const raw of s.frames) {
        const f = parseRawMessage(raw, s.atMs);
        if (f.type === 'book') sb.apply(f.msg);
      }
      if (s.atMs >= nextSample) {
        nextSample += 1000;
        let bv = 0;
        let av = 0;
        sb.book.forEachLevel('bid', 5, (_p, sz) => (bv += sz));
        sb.book.forEachLevel('ask', 5, (_p, sz) => (av += sz));
        imb.push((bv - av) / (bv + av));
        mid.push(sb.book.mid());
      }
    }
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i + 10 < mid.length; i++) {
      xs.push(imb[i]);
      ys.push(Math.log(mid[i + 10] / mid[i]));
    }
    const r = correlation(xs, ys);
    // Significance: |r|·√n above ~4 standard errors, and far from a trivially predictable market.
    expect(r * Math.sqrt(xs.length)).toBeGreaterThan(4);
    expect(r).toBeLessThan(0.5);
    // The mid moves: not a frozen or exploding market (10 s return sd between 0.2 and 5 bps).
    const sd = Math.sqrt(ys.reduce((s, v) => s + v * v, 0) / ys.length) * 1e4;
    expect(sd).toBeGreaterThan(0.2);
    expect(sd).toBeLessThan(5);
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

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
