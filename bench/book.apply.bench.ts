// book.apply: our OrderBook's rate in level updates/s, with the top 10 levels of each side read into typed arrays
// and the best bid and ask read after every message, beside ccxt's OrderBook (sorted arrays + bisection) and tardis-dev's (red-black trees) doing the same reads
// through their own APIs, in the same process. Fairness:
// - every book gets its input in its native shape ([price, size] arrays for ours and ccxt, tardis-dev's
//   BookChange objects), freshly materialized for every chunk before the clock starts (ccxt keeps and mutates the
//   arrays it is given, so it cannot replay shared ones);
// - a full GC before every timed chunk, so that no book pays for another's garbage or for the input preparation,
//   then a wait until V8's helper threads have finished sweeping after it (settle);
// - chunks of each stream are applied by the three books in a rotating order, runs (rounds) repeat the whole
//   stream on fresh books; medians of the runs; wall and CPU time (process.cpuUsage) both reported;
// - a checked pass over the whole stream first, untimed: after every message each book's reads are folded into one
//   number and compared across books, so a figure only counts if all three books showed the same top 10 after
//   every message; the timed passes then do only the reads (into the caller's typed arrays, as the engine does),
//   and the books' reads after the last message of every timed chunk are compared again;
// - then BENCH_WARMUP (default 3) untimed passes of the timed code over the whole stream for every book, so that
//   each is timed as a long-running process runs it: after one pass our book's fine-tick figure was bimodal from
//   process to process (11M or 15M level updates/s, the peers' unchanged), after three it was 15M in all nine processes run.
// These reads are more than the engine makes now (FeatureEngine reads the touch after every message and the top 10
// only at a decision, ~2% of messages): the figure is the book under the heaviest reading a caller may do.
// Streams: the real BTCUSDT orderbook.200 recording as one long continuous stream (its snapshot once, its deltas
// forward then inverted backward, see realContinuous), and the simulator's orderbook.200 stream at three tick
// sizes (BTC-like 0.1, XRP-like 0.0001, DOGE-like 0.00001). Goal: ≥ 3× the faster peer on every stream.
// Env: BENCH_RUNS (default 5, at least 3), BENCH_REAL_LEVELS (default 1e6), BENCH_SIM_N (messages of the 0.1
// stream, default 60k; the finer-tick streams, ~2 levels per message, get 2.5× as many), BENCH_CHUNK_LEVELS (level
// updates per timed chunk, default 320k: ~20k messages of the deep streams, the whole fine-tick streams; a chunk
// of a few milliseconds, as 20k fine-tick messages were for ours, measured up to 1.8× its wall time in CPU time),
// BENCH_STREAMS (comma-separated stream names to run, default all), BENCH_WARMUP (untimed passes, default 3).
import { OrderBook } from '../src-main/book/orderBook.ts';
import { TickScale } from '../src-main/book/tickScale.ts';
import { realContinuous, simulated, type BenchBookMessage, type BenchStream } from './lib/bookData.ts';
import {
  applyCcxt,
  applyTardis,
  loadCcxtOrderBook,
  loadTardisOrderBook,
  PeerMissingError,
  toTardis,
  TOP_N,
  TopReads,
} from './lib/peers.ts';
import { emit, failBench, fullGc, measure, median, settle } from './lib/report.ts';

const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));
const REAL_LEVELS = Number(process.env.BENCH_REAL_LEVELS ?? 1e6);
const SIM_N = Number(process.env.BENCH_SIM_N ?? 60_000);
const CHUNK_LEVELS = Number(process.env.BENCH_CHUNK_LEVELS ?? 320_000);
const GOAL = 3;
const NAMES = ['ours', 'ccxt', 'tardis-dev'] as const;
const WARMUP = Math.max(1, Number(process.env.BENCH_WARMUP ?? 3));
type Name = (typeof NAMES)[number];

let peers: [Awaited<ReturnType<typeof loadCcxtOrderBook>>, Awaited<ReturnType<typeof loadTardisOrderBook>>];
try {
  peers = [await loadCcxtOrderBook(), await loadTardisOrderBook()];
} catch (e) {
  if (e instanceof PeerMissingError) failBench('book.apply', e.message);
  throw e;
}
const [CcxtOrderBook, TardisOrderBook] = peers;

/** Ours: forEachLevel captures of the top 10 per side, then the best bid and ask. */
function applyOurs(
  ob: OrderBook,
  msgs: readonly BenchBookMessage[],
  r: TopReads,
  capBid: (p: number, s: number, i: number) => void,
  capAsk: (p: number, s: number, i: number) => void,
): void {
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (m.snapshot) ob.applySnapshot(m.bids, m.asks);
    else ob.applyDelta(m.bids, m.asks);
    r.nBid = r.nAsk = 0;
    ob.forEachLevel('bid', TOP_N, capBid);
    ob.forEachLevel('ask', TOP_N, capAsk);
    r.record(i, ob.bestBid(), ob.bestAsk());
  }
}

function captures(
  r: TopReads,
): [(p: number, s: number, i: number) => void, (p: number, s: number, i: number) => void] {
  return [
    (p, s, i) => {
      r.bidPx[i] = p;
      r.bidSz[i] = s;
      r.nBid = i + 1;
    },
    (p, s, i) => {
      r.askPx[i] = p;
      r.askSz[i] = s;
      r.nAsk = i + 1;
    },
  ];
}

interface Times {
  wall: number;
  cpu: number;
}

function runStream(s: BenchStream): void {
  const { stream } = s;
  const CHUNK = Math.max(1000, Math.round(CHUNK_LEVELS / (stream.levels / stream.n)));
  const scale = new TickScale(s.tickSize);
  const reads: Record<Name, TopReads> = {
    ours: new TopReads(),
    ccxt: new TopReads(),
    'tardis-dev': new TopReads(),
  };
  const [capBid, capAsk] = captures(reads.ours);
  const rates: Record<Name, { wall: number[]; cpu: number[] }> = {
    ours: { wall: [], cpu: [] },
    ccxt: { wall: [], cpu: [] },
    'tardis-dev': { wall: [], cpu: [] },
  };
  for (let run = -1 - WARMUP; run < RUNS; run++) {
    // Fresh books per run. The first is the checked pass (every message's reads compared), then WARMUP passes of
    // the timed code (JIT); none of them is reported.
    const checked = run === -1 - WARMUP;
    const ours = new OrderBook(scale);
    const ccxt = new CcxtOrderBook({}, undefined);
    const tardis = new TardisOrderBook();
    const acc: Record<Name, Times> = {
      ours: { wall: 0, cpu: 0 },
      ccxt: { wall: 0, cpu: 0 },
      'tardis-dev': { wall: 0, cpu: 0 },
    };
    const end = stream.n;
    for (let from = 0, c = 0; from < end; from += CHUNK, c++) {
      const count = Math.min(CHUNK, end - from);
      for (let k = 0; k < NAMES.length; k++) {
        const name = NAMES[(((c + run + k) % NAMES.length) + NAMES.length) % NAMES.length];
        const r = reads[name];
        r.check(checked ? count : 0);
        // The input, in this book's shape, prepared before its clock starts; then a full GC.
        const msgs = stream.materialize(from, from + count);
        const tmsgs = name === 'tardis-dev' ? toTardis(msgs) : [];
        fullGc();
        settle();
        const t =
          name === 'ours'
            ? measure(() => applyOurs(ours, msgs, r, capBid, capAsk))
            : name === 'ccxt'
              ? measure(() => applyCcxt(ccxt, msgs, r))
              : measure(() => applyTardis(tardis, tmsgs, r));
        acc[name].wall += t.wall;
        acc[name].cpu += t.cpu;
      }
      for (const name of ['ccxt', 'tardis-dev'] as const) {
        const a = reads.ours;
        const b = reads[name];
        if (checked && a.digests && b.digests) {
          for (let i = 0; i < count; i++)
            if (a.digests[i] !== b.digests[i])
              throw new Error(
                `${s.name}: after message ${from + i} ${name} reads a different top ${TOP_N} than ours (${b.digests[i]} vs ${a.digests[i]})`,
              );
        } else if (a.digest() !== b.digest()) {
          throw new Error(
            `${s.name}: run ${run}: after message ${from + count - 1} ${name} reads a different top ${TOP_N} than ours (${b.digest()} vs ${a.digest()})`,
          );
        }
      }
    }
    if (run < 0) continue;
    if (!(ours.bestBid() < ours.bestAsk()))
      throw new Error(`${s.name}: final book is empty or crossed: ${ours.bestBid()} / ${ours.bestAsk()}`);
    if (s.name === 'real_ob200' && (ours.bestBid() !== 65114.2 || ours.bestAsk() !== 65114.3))
      throw new Error(`real_ob200: unexpected final top ${ours.bestBid()} / ${ours.bestAsk()}`);
    for (const n of NAMES) {
      rates[n].wall.push(stream.levels / acc[n].wall);
      rates[n].cpu.push(stream.levels / acc[n].cpu);
    }
  }
  const med = (n: Name, k: 'wall' | 'cpu') => Math.round(median(rates[n][k]));
  const best = (k: 'wall' | 'cpu') => Math.max(med('ccxt', k), med('tardis-dev', k));
  const fasterPeer = med('ccxt', 'cpu') >= med('tardis-dev', 'cpu') ? 'ccxt' : 'tardis-dev';
  const vsWall = med('ours', 'wall') / best('wall');
  const vsCpu = med('ours', 'cpu') / best('cpu');
  emit({
    bench: 'book.apply',
    stream: s.name,
    value: med('ours', 'wall'),
    unit: 'level_updates/s',
    peer: fasterPeer,
    peer_value: med(fasterPeer, 'wall'),
    value_cpu: med('ours', 'cpu'),
    peer_value_cpu: med(fasterPeer, 'cpu'),
    peers: {
      ccxt: { wall: med('ccxt', 'wall'), cpu: med('ccxt', 'cpu') },
      'tardis-dev': { wall: med('tardis-dev', 'wall'), cpu: med('tardis-dev', 'cpu') },
    },
    vs_faster_peer: Number(vsWall.toFixed(2)),
    vs_faster_peer_cpu: Number(vsCpu.toFixed(2)),
    goal: `>= ${GOAL}x the faster peer (wall and CPU), reading the top ${TOP_N} and best bid/ask after every message`,
    goal_met: vsWall >= GOAL && vsCpu >= GOAL,
    reads: `top ${TOP_N} per side + best bid/ask after each message`,
    tick_size: s.tickSize,
    n: stream.levels,
    messages: stream.n,
    runs: RUNS,
    source: s.source,
  });
}

function generated(make: () => BenchStream): BenchStream {
  const t0 = performance.now();
  const s = make();
  process.stderr.write(
    `book.apply: ${s.name}: ${s.stream.n} messages, ${s.stream.levels} level updates, made in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  return s;
}

const STREAMS: Array<[string, () => BenchStream]> = [
  ['real_ob200', () => realContinuous(REAL_LEVELS)],
  ['sim_tick_0.1', () => simulated(SIM_N, { tickSize: '0.1', startPrice: 65000 })],
  ['sim_tick_0.0001', () => simulated(Math.round(SIM_N * 2.5), { tickSize: '0.0001', startPrice: 0.52 })],
  ['sim_tick_0.00001', () => simulated(Math.round(SIM_N * 2.5), { tickSize: '0.00001', startPrice: 0.15 })],
];
const only = process.env.BENCH_STREAMS?.split(',').filter(Boolean);
const unknown = only?.filter((n) => !STREAMS.some(([name]) => name === n)) ?? [];
if (unknown.length)
  failBench(
    'book.apply',
    `unknown stream(s) ${unknown.join(', ')}; streams: ${STREAMS.map(([n]) => n).join(', ')}`,
  );
for (const [name, make] of STREAMS) if (!only || only.includes(name)) runStream(generated(make));
