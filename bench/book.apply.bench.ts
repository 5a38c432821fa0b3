// book.apply: our OrderBook's apply rate in level updates/s on already-parsed messages, beside ccxt's
// OrderBook (sorted arrays + bisection) and tardis-dev's (red-black trees) fed the same messages in the
// same process, rounds interleaved and rotated. Streams: the real orderbook.200 recording repeated, and
// 1M messages of the simulator's orderbook.200 stream. All books must end on the same top of book.
// Env: BENCH_RUNS (default 5), BENCH_REAL_LEVELS (level updates per real run, default 5e6),
// BENCH_SIM_N (simulated messages, default 1e6).
import type { BookChange, OrderBook as TardisOrderBook } from 'tardis-dev';
import { OrderBook } from '../src-main/book/orderBook.ts';
import { TickScale } from '../src-main/book/tickScale.ts';
import { levelCount, loadRecording, simulatedOb200, type BenchBookMessage } from './lib/bookData.ts';
import { ccxtBook, loadCcxtOrderBook, tardisBook, toTardis, type BenchBook } from './lib/peers.ts';
import { emit, interleave, median } from './lib/report.ts';

const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));
const REAL_LEVELS = Number(process.env.BENCH_REAL_LEVELS ?? 5e6);
const SIM_N = Number(process.env.BENCH_SIM_N ?? 1e6);
const NAMES = ['ours', 'ccxt', 'tardis-dev'] as const;
type Name = (typeof NAMES)[number];

const CcxtOrderBook = await loadCcxtOrderBook();

/** The three books must agree on the final top of book, or a figure is meaningless. */
function assertSameTop(stream: string, tops: Record<Name, ReturnType<BenchBook['top']>>): void {
  const ref = JSON.stringify(tops.ours);
  for (const n of NAMES) {
    if (JSON.stringify(tops[n]) !== ref)
      throw new Error(`${stream}: ${n} ends on ${JSON.stringify(tops[n])}, ours on ${ref}`);
  }
  if (!(tops.ours.bid < tops.ours.ask)) throw new Error(`${stream}: final book is empty or crossed: ${ref}`);
}

function report(stream: string, rates: Record<Name, number[]>, n: number, messages: number): void {
  const ours = median(rates.ours);
  const peers = { ccxt: median(rates.ccxt), 'tardis-dev': median(rates['tardis-dev']) };
  emit({
    bench: 'book.apply',
    stream,
    value: Math.round(ours),
    unit: 'level_updates/s',
    peer: 'ccxt',
    peer_value: Math.round(peers.ccxt),
    peers: { ccxt: Math.round(peers.ccxt), 'tardis-dev': Math.round(peers['tardis-dev']) },
    vs_best_peer: Number((ours / Math.max(peers.ccxt, peers['tardis-dev'])).toFixed(2)),
    n,
    messages,
    runs: RUNS,
  });
}

function realStream(): void {
  const rec = loadRecording();
  const perPass = levelCount(rec);
  const reps = Math.max(1, Math.ceil(REAL_LEVELS / perPass));
  const tardisRec = toTardis(rec);
  const tops = {} as Record<Name, ReturnType<BenchBook['top']>>;
  // One plain loop per book (no shared call site), the way an application would drive each.
  const ob = new OrderBook(new TickScale('0.1'));
  const ccxt = ccxtBook(CcxtOrderBook);
  const tardis = tardisBook();
  const cases: Record<Name, () => number> = {
    ours: () => {
      for (let r = 0; r < reps; r++) {
        for (let i = 0; i < rec.length; i++) {
          const m = rec[i];
          if (m.snapshot) ob.applySnapshot(m.bids, m.asks);
          else ob.applyDelta(m.bids, m.asks);
        }
      }
      tops.ours = {
        bid: ob.bestBid(),
        bidSize: ob.bestBidSize(),
        ask: ob.bestAsk(),
        askSize: ob.bestAskSize(),
      };
      return perPass * reps;
    },
    ccxt: () => {
      for (let r = 0; r < reps; r++) for (let i = 0; i < rec.length; i++) ccxt.apply(rec[i]);
      tops.ccxt = ccxt.top();
      return perPass * reps;
    },
    'tardis-dev': () => {
      for (let r = 0; r < reps; r++)
        for (let i = 0; i < tardisRec.length; i++) tardis.book.update(tardisRec[i]);
      tops['tardis-dev'] = tardis.top();
      return perPass * reps;
    },
  };
  interleave(cases, 1); // warm-up round, not reported
  const rates = interleave(cases, RUNS) as Record<Name, number[]>;
  assertSameTop('real_ob200', tops);
  if (tops.ours.bid !== 65114.2 || tops.ours.ask !== 65114.3)
    throw new Error(`real_ob200: unexpected final top ${JSON.stringify(tops.ours)}`);
  report('real_ob200', rates, perPass * reps, rec.length * reps);
}

// One long-lived loop function per book, so each is optimized once and timed chunk after chunk.
function applyOurs(ob: OrderBook, msgs: readonly BenchBookMessage[]): void {
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (m.snapshot) ob.applySnapshot(m.bids, m.asks);
    else ob.applyDelta(m.bids, m.asks);
  }
}

function applyPeer(book: BenchBook, msgs: readonly BenchBookMessage[]): void {
  for (let i = 0; i < msgs.length; i++) book.apply(msgs[i]);
}

function applyTardis(book: TardisOrderBook, msgs: readonly BookChange[]): void {
  for (let i = 0; i < msgs.length; i++) book.update(msgs[i]);
}

function simStream(): void {
  const t0 = process.hrtime.bigint();
  const stream = simulatedOb200(SIM_N);
  process.stderr.write(
    `book.apply: generated ${stream.n} simulated messages (${stream.levels} levels) in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s\n`,
  );
  const CHUNK = 50_000;
  const rates: Record<Name, number[]> = { ours: [], ccxt: [], 'tardis-dev': [] };
  for (let run = -1; run < RUNS; run++) {
    // Fresh books per run; each chunk is applied by every book in a rotating order, timed per book.
    const ours = new OrderBook(new TickScale('0.1'));
    const ccxt = ccxtBook(CcxtOrderBook);
    const tardis = tardisBook();
    const secs: Record<Name, number> = { ours: 0, ccxt: 0, 'tardis-dev': 0 };
    for (let from = 0, c = 0; from < stream.n; from += CHUNK, c++) {
      const msgs: BenchBookMessage[] = stream.materialize(from, from + CHUNK);
      const tmsgs = toTardis(msgs);
      for (let k = 0; k < NAMES.length; k++) {
        const name = NAMES[(c + run + 1 + k) % NAMES.length];
        const t0 = process.hrtime.bigint();
        if (name === 'ours') applyOurs(ours, msgs);
        else if (name === 'ccxt') applyPeer(ccxt, msgs);
        else applyTardis(tardis.book, tmsgs);
        secs[name] += Number(process.hrtime.bigint() - t0) / 1e9;
      }
    }
    assertSameTop('sim_ob200', {
      ours: {
        bid: ours.bestBid(),
        bidSize: ours.bestBidSize(),
        ask: ours.bestAsk(),
        askSize: ours.bestAskSize(),
      },
      ccxt: ccxt.top(),
      'tardis-dev': tardis.top(),
    });
    if (run >= 0) for (const n of NAMES) rates[n].push(stream.levels / secs[n]); // run -1 is the warm-up
  }
  report('sim_ob200', rates, stream.levels, stream.n);
}

realStream();
simStream();
