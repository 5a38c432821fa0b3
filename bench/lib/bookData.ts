// Already-parsed order-book messages for the book benchmarks: the real Bybit recording (repeated) and the
// simulator's orderbook.200 stream, kept compact and materialized chunk by chunk.
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

/**
 * The simulator's orderbook.200 BTCUSDT stream (tick 0.1, 50 messages/s of simulated time), parsed by the
 * real v5 parser: n messages, starting with its snapshot. Deterministic for a seed.
 */
export function simulatedOb200(n: number, seed = 2024): CompactStream {
  const gen = new SimGenerator({
    seed,
    startPrice: 65000,
    tickSize: '0.1',
    levels: 200,
    bookRateHz: 50,
    depth: 200,
    startMs: 1_700_000_000_000,
  });
  const scale = new TickScale('0.1');
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
  return out;
}

/** Total level updates in a stream. */
export function levelCount(msgs: readonly BenchBookMessage[]): number {
  let n = 0;
  for (const m of msgs) n += m.bids.length + m.asks.length;
  return n;
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

  /** Messages [from, to) as parsed Level arrays. */
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
