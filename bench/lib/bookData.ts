// Order-book message streams for the book benchmarks, kept compact (ticks and sizes in typed arrays) and
// materialized chunk by chunk, outside the timing: the real Bybit recording replayed as one long continuous
// stream, and the simulator's orderbook.200 stream at several tick sizes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TickScale } from '../../src-main/book/tickScale.ts';
import { parseFrame, parseRawMessage } from '../../src-main/market/bybit/protocol.ts';
import { SimGenerator } from '../../src-main/market/sim/simGenerator.ts';
import type { Level } from '../../src-shared/market.ts';
import { BYBIT_RECORDING } from '../../src-main/testing/bybitRecording.ts';

export interface BenchBookMessage {
  snapshot: boolean;
  bids: Level[];
  asks: Level[];
}

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RECORDING = BYBIT_RECORDING;

/** The recording's orderbook messages, parsed once by the real v5 parser (prices and sizes as numbers). */
export function loadRecording(file = RECORDING): BenchBookMessage[] {
  const out: BenchBookMessage[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const f = parseFrame(line, 0);
    if (f.type === 'book')
      out.push({ snapshot: f.msg.type === 'snapshot', bids: f.msg.bids, asks: f.msg.asks });
  }
  return out;
}

/** A stream, its tick scale and how it was made (for the JSON line). */
export interface BenchStream {
  name: string;
  tickSize: string;
  stream: CompactStream;
  source: string;
}

type Side = Map<number, number>;

/**
 * The recording as one long continuous stream with its snapshot applied once: its deltas forward, then their
 * inverses backward (each restores the levels it touched to their sizes before the original delta, so the book
 * walks back through states it really had), then forward again, and so on, ending on a forward pass (the
 * recording's own final book). Every message touches the same price levels, in the same numbers, as a real one;
 * re-applying the 400-level snapshot on every pass would make it a few % of all level updates instead of ~0.
 */
export function realContinuous(minLevels: number, file = RECORDING): BenchStream {
  const tickSize = '0.1';
  const scale = new TickScale(tickSize);
  const rec = loadRecording(file);
  if (rec.length < 2 || !rec[0].snapshot || rec.slice(1).some((m) => m.snapshot))
    throw new Error(`${file}: expected one snapshot followed by deltas`);
  const toTicks = (ls: readonly Level[]): Level[] => ls.map(([p, s]) => [scale.toTicks(p), s]);
  const snap = { bids: toTicks(rec[0].bids), asks: toTicks(rec[0].asks) };
  const fwd = rec.slice(1).map((m) => ({ bids: toTicks(m.bids), asks: toTicks(m.asks) }));
  // Inverse of each delta against the book just before it: levels in reverse order (a price repeated within one
  // message is thus restored to its size before the first occurrence).
  const book = { bids: new Map(snap.bids) as Side, asks: new Map(snap.asks) as Side };
  const inverse = (ls: Level[], side: Side): Level[] => {
    const inv: Level[] = [];
    for (let i = ls.length - 1; i >= 0; i--) inv.push([ls[i][0], side.get(ls[i][0]) ?? 0]);
    return inv;
  };
  const apply = (ls: readonly Level[], side: Side) => {
    for (const [t, s] of ls)
      if (s === 0) side.delete(t);
      else side.set(t, s);
  };
  const inv = fwd.map((m) => {
    const r = { bids: inverse(m.bids, book.bids), asks: inverse(m.asks, book.asks) };
    apply(m.bids, book.bids);
    apply(m.asks, book.asks);
    return r;
  });
  // Sanity: the inverses, applied backward, bring the book back to the snapshot exactly.
  for (let i = inv.length - 1; i >= 0; i--) {
    apply(inv[i].bids, book.bids);
    apply(inv[i].asks, book.asks);
  }
  const same = (a: Side, b: Level[]) => a.size === b.length && b.every(([t, s]) => a.get(t) === s);
  if (!same(book.bids, snap.bids) || !same(book.asks, snap.asks))
    throw new Error('realContinuous: the inverse deltas do not restore the snapshot');

  const out = new CompactStream(scale.mantissa, scale.pow10);
  const identity = (t: number) => t;
  out.add({ snapshot: true, ...snap }, identity);
  let passes = 1;
  for (const m of fwd) out.add({ snapshot: false, ...m }, identity);
  while (out.levels < minLevels) {
    for (let i = inv.length - 1; i >= 0; i--) out.add({ snapshot: false, ...inv[i] }, identity);
    for (const m of fwd) out.add({ snapshot: false, ...m }, identity);
    passes += 2;
  }
  return {
    name: 'real_ob200',
    tickSize,
    stream: out,
    source: `Bybit BTCUSDT orderbook.200 recording (${rec.length} messages), snapshot once, then ${passes} passes of its deltas forward/inverse-backward`,
  };
}

/** A simulated market the book benches run: symbol-like start price and tick size. */
export interface SimMarket {
  tickSize: string;
  startPrice: number;
}

/**
 * The simulator's orderbook.200 stream (50 messages/s of simulated time) at a tick size, parsed by the real v5
 * parser: n messages, starting with its snapshot. Deterministic for a seed. Uses only SimGenerator's public
 * options (seed, start price, tick, levels, rate, depth, start time).
 */
export function simulated(n: number, market: SimMarket, seed = 2024): BenchStream {
  const gen = new SimGenerator({
    seed,
    startPrice: market.startPrice,
    tickSize: market.tickSize,
    levels: 200,
    bookRateHz: 50,
    depth: 200,
    startMs: 1_700_000_000_000,
  });
  const scale = new TickScale(market.tickSize);
  const out = new CompactStream(scale.mantissa, scale.pow10);
  const toTicks = (p: number) => scale.toTicks(p);
  while (out.n < n) {
    const step = gen.next();
    for (const frame of step.frames) {
      const f = parseRawMessage(frame, step.atMs);
      if (f.type === 'book' && out.n < n)
        out.add({ snapshot: f.msg.type === 'snapshot', bids: f.msg.bids, asks: f.msg.asks }, toTicks);
    }
  }
  return {
    name: `sim_tick_${market.tickSize}`,
    tickSize: market.tickSize,
    stream: out,
    source: `simulator orderbook.200 at 50 msg/s, start price ${market.startPrice}, tick ${market.tickSize}, random seed ${seed}`,
  };
}

/**
 * A compact stream of book messages (ticks and sizes in typed arrays): a million messages as JS level
 * arrays would take hundreds of megabytes, so benchmarks materialize it chunk by chunk, outside the timing.
 */
export class CompactStream {
  n = 0;
  levels = 0;
  snapshot = new Uint8Array(1024);
  bidStart = new Uint32Array(1024);
  askStart = new Uint32Array(1024);
  ticks = new Float64Array(1 << 16);
  sizes = new Float64Array(1 << 16);

  /** Prices are ticks × mantissa / 10^decimals (a TickScale's fields), so they come back exact. */
  constructor(
    readonly mantissa: number,
    readonly pow10: number,
  ) {}

  add(msg: BenchBookMessage, toTicks: (price: number) => number): void {
    if (this.n + 2 > this.bidStart.length) {
      this.snapshot = grow(this.snapshot, new Uint8Array(this.snapshot.length * 2));
      this.bidStart = grow(this.bidStart, new Uint32Array(this.bidStart.length * 2));
      this.askStart = grow(this.askStart, new Uint32Array(this.askStart.length * 2));
    }
    this.snapshot[this.n] = msg.snapshot ? 1 : 0;
    this.bidStart[this.n] = this.levels;
    for (const [p, s] of msg.bids) this.push(toTicks(p), s);
    this.askStart[this.n] = this.levels;
    for (const [p, s] of msg.asks) this.push(toTicks(p), s);
    this.n++;
    this.bidStart[this.n] = this.levels;
  }

  private push(tick: number, size: number): void {
    if (this.levels === this.ticks.length) {
      this.ticks = grow(this.ticks, new Float64Array(this.ticks.length * 2));
      this.sizes = grow(this.sizes, new Float64Array(this.sizes.length * 2));
    }
    this.ticks[this.levels] = tick;
    this.sizes[this.levels++] = size;
  }

  /** Level updates in messages [from, to). */
  levelsIn(from: number, to: number): number {
    return this.bidStart[Math.min(to, this.n)] - this.bidStart[from];
  }

  /** Messages [from, to) as fresh [price, size] level arrays (ours and ccxt's input shape). */
  materialize(from: number, to: number): BenchBookMessage[] {
    const out: BenchBookMessage[] = [];
    const lv = (a: number, b: number): Level[] => {
      const xs: Level[] = new Array(b - a);
      for (let i = a; i < b; i++) xs[i - a] = [(this.ticks[i] * this.mantissa) / this.pow10, this.sizes[i]];
      return xs;
    };
    for (let m = from; m < Math.min(to, this.n); m++) {
      out.push({
        snapshot: this.snapshot[m] === 1,
        bids: lv(this.bidStart[m], this.askStart[m]),
        asks: lv(this.askStart[m], this.bidStart[m + 1]),
      });
    }
    return out;
  }
}

function grow<T extends Uint8Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
