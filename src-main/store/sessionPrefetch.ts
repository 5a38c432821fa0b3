// Reading a stored session ahead, in a worker thread, for the replays that take everything as fast as they can
// (backtests). Fetching the rows from SQLite and decoding the packed levels are most of a backtest's reading cost
// and need nothing from the engine, so a worker does both (sessionPrefetchWorker.ts, through the same readSession)
// and hands over chunks of events packed into one Float64Array each (transferred, not copied); this thread only
// unpacks them into reused level tuples, as readSession's reuseLevels gives them. The events, their order and every
// value are exactly readSession's. A few chunks at most are in flight (the worker waits for the consumer). When the
// worker cannot run or fails before its first chunk, the session is read on this thread instead, so a missing
// session or a damaged value is reported exactly as readSession reports it.
import { Worker } from 'node:worker_threads';
import type { Gap, Side, Trade } from '../../src-shared/market.ts';
import type { StoredEvent } from './sessionReader.ts';
import { ReusedLevels } from './tickLevelCodec.ts';

/** Events per chunk: large enough that a chunk's hand-over is noise. */
export const CHUNK_EVENTS = 4096;
/** Events of the first chunk: small, so that the consumer starts as soon as the worker has read anything. */
export const FIRST_CHUNK_EVENTS = 256;
/** A chunk is sent once it holds this many values (8 MB), whatever its event count: deep snapshots stay bounded. */
export const CHUNK_MAX_VALUES = 1 << 20;
/** Chunks the worker may have sent that the consumer has not started on yet. */
const MAX_AHEAD = 3;

const BOOK = 0;
const TRADES = 1;
const GAP = 2;
/** Trade sides: a stored side that is neither (a damaged row) travels as text. */
const SELL = 0;
const BUY = 1;
const OTHER_SIDE = 2;

/** One chunk of events as the worker sends it. */
export interface PackedChunk {
  nums: Float64Array;
  /** Values of `nums` in use. */
  used: number;
  /** Trade ids (and any side that is not Buy or Sell), in order of use. */
  strs: (string | null)[];
  gaps: Gap[];
  events: number;
}

/** NULL columns of a trade row travel as NaN (SQLite never stores a NaN: it stores NULL). */
const num = (v: number | null): number => (v === null ? NaN : v);
const orNull = (v: number): number | null => (v !== v ? null : v);

/** Packs events into chunks (the worker's side). */
export class ChunkPacker {
  private nums = new Float64Array(1 << 16);
  private used = 0;
  private strs: (string | null)[] = [];

  /** Values in the chunk so far. */
  get size(): number {
    return this.used;
  }

  private gaps: Gap[] = [];
  events = 0;

  private room(k: number): Float64Array {
    if (this.used + k > this.nums.length) {
      const next = new Float64Array(Math.max(this.nums.length * 2, this.used + k));
      next.set(this.nums.subarray(0, this.used));
      this.nums = next;
    }
    return this.nums;
  }

  add(e: StoredEvent): void {
    this.events++;
    if (e.kind === 'book') {
      const nb = e.bids.length;
      const na = e.asks.length;
      const a = this.room(9 + 2 * (nb + na));
      let i = this.used;
      a[i++] = BOOK;
      a[i++] = e.type === 'snapshot' ? 1 : 0;
      a[i++] = e.recvTs;
      a[i++] = e.ts;
      a[i++] = e.cts;
      a[i++] = e.u;
      a[i++] = e.seq;
      a[i++] = nb;
      a[i++] = na;
      for (let k = 0; k < nb; k++) {
        const l = e.bids[k];
        a[i++] = l[0];
        a[i++] = l[1];
      }
      for (let k = 0; k < na; k++) {
        const l = e.asks[k];
        a[i++] = l[0];
        a[i++] = l[1];
      }
      this.used = i;
    } else if (e.kind === 'trades') {
      const n = e.trades.length;
      const a = this.room(4 + 6 * n);
      let i = this.used;
      a[i++] = TRADES;
      a[i++] = num(e.ts);
      a[i++] = num(e.recvTs);
      a[i++] = n;
      for (const t of e.trades) {
        a[i++] = num(t.ts);
        const side = t.side === 'Buy' ? BUY : t.side === 'Sell' ? SELL : OTHER_SIDE;
        a[i++] = side;
        if (side === OTHER_SIDE) this.strs.push(t.side);
        a[i++] = num(t.price);
        a[i++] = num(t.size);
        a[i++] = t.blockTrade ? 1 : 0;
        a[i++] = num(t.seq);
        this.strs.push(t.id);
      }
      this.used = i;
    } else {
      this.room(1)[this.used++] = GAP;
      this.gaps.push(e.gap);
    }
  }

  /** The chunk so far; the packer starts a new one. */
  take(): PackedChunk {
    const c: PackedChunk = {
      nums: this.nums,
      used: this.used,
      strs: this.strs,
      gaps: this.gaps,
      events: this.events,
    };
    this.nums = new Float64Array(this.nums.length);
    this.used = 0;
    this.strs = [];
    this.gaps = [];
    this.events = 0;
    return c;
  }
}

/**
 * Unpacks chunks into events (this thread's side). Book levels come in tuples and arrays owned by the reader and
 * overwritten by the next book message, as readSession's reuseLevels gives them.
 */
export class ChunkReader {
  private readonly pools = new ReusedLevels();

  constructor(
    private readonly symbol: string,
    private readonly depth: number,
  ) {}

  *events(c: PackedChunk): Generator<StoredEvent> {
    const a = c.nums;
    const { symbol, depth } = this;
    let i = 0;
    let si = 0;
    let gi = 0;
    for (let e = 0; e < c.events; e++) {
      const kind = a[i++];
      if (kind === BOOK) {
        const snapshot = a[i++] === 1;
        const recvTs = a[i++];
        const ts = a[i++];
        const cts = a[i++];
        const u = a[i++];
        const seq = a[i++];
        const nb = a[i++];
        const na = a[i++];
        const pools = this.pools;
        pools.ensure(nb, na);
        const bp = pools.bidPool;
        const ap = pools.askPool;
        for (let k = 0; k < nb; k++) {
          const l = bp[k];
          l[0] = a[i++];
          l[1] = a[i++];
        }
        for (let k = 0; k < na; k++) {
          const l = ap[k];
          l[0] = a[i++];
          l[1] = a[i++];
        }
        yield {
          kind: 'book',
          type: snapshot ? 'snapshot' : 'delta',
          symbol,
          depth,
          recvTs,
          ts,
          cts,
          u,
          seq,
          bids: pools.bids(nb),
          asks: pools.asks(na),
        };
      } else if (kind === TRADES) {
        const ts = orNull(a[i++]) as number;
        const recvTs = orNull(a[i++]) as number;
        const n = a[i++];
        const trades: Trade[] = new Array(n);
        for (let k = 0; k < n; k++) {
          const tts = orNull(a[i++]) as number;
          const code = a[i++];
          const side = (code === BUY ? 'Buy' : code === SELL ? 'Sell' : c.strs[si++]) as Side;
          const price = orNull(a[i++]) as number;
          const size = orNull(a[i++]) as number;
          const blockTrade = a[i++] === 1;
          const seq = orNull(a[i++]) as number;
          trades[k] = { ts: tts, side, price, size, id: c.strs[si++] as string, blockTrade, seq };
        }
        yield { kind: 'trades', symbol, ts, recvTs, trades };
      } else if (kind === GAP) {
        yield { kind: 'gap', gap: c.gaps[gi++] };
      } else throw new Error(`read-ahead chunk damaged at value ${i - 1} (kind ${kind})`);
    }
  }
}

/** One session to read ahead, sent to the worker (a worker reads one session at a time, then waits for the next). */
export interface PrefetchJob {
  file: string;
  sessionId: number;
  fromTs?: number;
  toTs?: number;
  chunkEvents: number;
  firstChunkEvents: number;
  maxAhead: number;
  /** [0]: chunks sent and not yet taken; [1]: 1 when the consumer stopped. */
  control: Int32Array;
}

export type PrefetchWorkerMessage =
  ({ type: 'chunk' } & PackedChunk) | { type: 'end' } | { type: 'error'; message: string };

/**
 * From TypeScript sources (tsx CLI, vitest) the worker starts through src-main/tsWorkerBoot.mjs, which
 * registers tsx inside the worker; from built JavaScript the entry runs directly.
 */
function spawnWorker(): Worker {
  const entry = new URL('./sessionPrefetchWorker.ts', import.meta.url);
  const w = import.meta.url.endsWith('.ts')
    ? new Worker(new URL('../tsWorkerBoot.mjs', import.meta.url), {
        workerData: { entry: entry.href },
      })
    : new Worker(new URL('./sessionPrefetchWorker.js', import.meta.url));
  // An idle worker's failure must not become an uncaught 'error' event: the next job sees it exit.
  w.on('error', () => undefined);
  w.once('exit', () => {
    if (idle === w) idle = null;
  });
  return w;
}

/**
 * A worker that finished its last session waits here for the next (a sweep replays one session once per threshold:
 * the worker's start, most of a short pass under tsx, is paid once). Unreferenced: it never keeps the process alive.
 */
let idle: Worker | null = null;

function cannotReadAhead(why: unknown): void {
  const text = why instanceof Error ? why.message : String(why);
  console.error(
    `warning: reading the session ahead in a worker thread failed (${text}); reading it on this thread`,
  );
}

type Inbox = PrefetchWorkerMessage | { type: 'failed'; error: Error } | { type: 'exit'; code: number };

/**
 * The events of session `sessionId` of the SQLite file `file` (within the receive-time range), read ahead in a
 * worker, a chunk at a time. `fallback` reads them on this thread (readSession with reuseLevels) and is used when
 * the worker fails before its first chunk; a failure after that rejects with the worker's message.
 */
export async function* prefetchedPages(
  file: string,
  session: { id: number; symbol: string; depth: number },
  range: { fromTs?: number; toTs?: number },
  fallback: () => Iterable<StoredEvent>,
): AsyncGenerator<Iterable<StoredEvent>> {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const inbox: Inbox[] = [];
  let wake: (() => void) | null = null;
  const push = (m: Inbox) => {
    inbox.push(m);
    const w = wake;
    wake = null;
    w?.();
  };
  const onMessage = (m: PrefetchWorkerMessage) => push(m);
  const onError = (error: Error) => push({ type: 'failed', error });
  const onExit = (code: number) => push({ type: 'exit', code });
  let worker: Worker;
  try {
    worker = idle ?? spawnWorker();
    idle = null;
    worker.ref();
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const job: PrefetchJob = {
      file,
      sessionId: session.id,
      fromTs: range.fromTs,
      toTs: range.toTs,
      chunkEvents: CHUNK_EVENTS,
      firstChunkEvents: FIRST_CHUNK_EVENTS,
      maxAhead: MAX_AHEAD,
      control,
    };
    worker.postMessage(job);
  } catch (e) {
    cannotReadAhead(e);
    yield fallback();
    return;
  }
  const reader = new ChunkReader(session.symbol, session.depth);
  let chunks = 0;
  let reusable = false;
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
      const m = inbox.shift() as Inbox;
      if (m.type === 'chunk') {
        chunks++;
        Atomics.sub(control, 0, 1);
        Atomics.notify(control, 0);
        yield reader.events(m);
        continue;
      }
      if (m.type === 'end') {
        reusable = true;
        return;
      }
      // Nothing delivered yet: this thread reads the session itself (and says what is wrong with the data, if
      // anything is). A worker that could not run at all is worth a warning: the replay is slower than it should be.
      if (chunks === 0) {
        if (m.type === 'error') reusable = true;
        else cannotReadAhead(m.type === 'failed' ? m.error : `exit code ${m.code}`);
        yield fallback();
        return;
      }
      if (m.type === 'error') throw new Error(m.message);
      if (m.type === 'failed') throw m.error;
      throw new Error(`the read-ahead worker stopped (exit code ${m.code}) before the end of the session`);
    }
  } finally {
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
    if (reusable && idle === null) {
      // Done with its session (or refused it): it waits for the next.
      worker.unref();
      idle = worker;
    } else {
      // Stopped early (it may still be reading), failed, or a worker already waits.
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 0);
      void worker.terminate();
    }
  }
}
