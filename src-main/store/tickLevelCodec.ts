// Store layout v2's book codec: one value per book message holding its stamps and both sides as integer ticks and
// integer lots (zigzag-varint price deltas from the previous level, varint lot counts). Each value names its own
// grid, so a tick refined mid-session or an unknown lot size never matters, and a message whose values do not all
// sit on an exact decimal grid is stored as raw doubles (and counted): every value round-trips bit for bit.
// The stamps also stay in their columns for SQL (time ranges, snapshots, retention); the reader needs only this.
// Stored as 7-bit ASCII TEXT, not a BLOB: better-sqlite3 turns a BLOB into a Node Buffer (an external backing
// store per row, the reader's largest cost) but an ASCII string into a plain V8 string, ~3× cheaper to fetch.
// Varint units: 0x40-0x7F carry 6 bits and say "more follows", 0x01-0x3F end a number (value + 1), so no NUL.
import type { BookMessage, Level } from '../../src-shared/market.ts';

/** First unit: 0x40 | bits 0-1 the level format, then the flags below. */
const FORMAT_GRID = 1;
const FORMAT_RAW = 2;
const FLAG_SNAPSHOT = 4;
/** The stamps as five raw doubles (a stamp that is not a safe integer: never seen on a real feed). */
const FLAG_RAW_HEAD = 8;
const HEAD_UNIT = 0x40;
/** Largest decimal exponent of a grid (10^22 is the largest power of ten a double holds exactly). */
const MAX_EXP = 15;
const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** A decimal grid: step = mantissa × 10^-exp. */
export interface Grid {
  mantissa: number;
  exp: number;
}

/** What of a book message the codec stores (symbol and depth belong to the session). */
export type StoredBook = Pick<BookMessage, 'type' | 'ts' | 'recvTs' | 'cts' | 'u' | 'seq' | 'bids' | 'asks'>;

/** Parses a decimal step like "0.5" or "0.0001" into a grid; null when it is not a positive plain decimal. */
export function gridOf(step: string): Grid | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(step.trim());
  if (!m) return null;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  const digits = (m[1] + frac).replace(/^0+/, '');
  const mantissa = digits === '' ? 0 : Number(digits);
  if (!(mantissa > 0) || !Number.isSafeInteger(mantissa) || frac.length > MAX_EXP) return null;
  return { mantissa, exp: frac.length };
}

const safe = Number.isSafeInteger;

/** v on the grid as an integer count of steps, or NaN when that count does not decode back to exactly v. */
function steps(v: number, mantissa: number, pow10: number): number {
  const n = Math.round((v * pow10) / mantissa);
  const back = (n * mantissa) / pow10;
  // -0 would decode as +0: not bit for bit, so it takes the raw path.
  return back === v && safe(n * mantissa) && (v !== 0 || 1 / v > 0) ? n : NaN;
}

/** Smallest k ≤ MAX_EXP with v an exact multiple of 10^-k; -1 when there is none. */
function decimals(v: number): number {
  for (let k = 0; k <= MAX_EXP; k++) {
    const p = POW10[k];
    if (Math.round(v * p) / p === v) return k;
  }
  return -1;
}

function zigzag(d: number): number {
  return d >= 0 ? d * 2 : -d * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

function onGrid(side: readonly Level[], col: 0 | 1, g: Grid): boolean {
  const p = POW10[g.exp];
  for (let i = 0; i < side.length; i++) if (Number.isNaN(steps(side[i][col], g.mantissa, p))) return false;
  return true;
}

function maxDecimals(side: readonly Level[], col: 0 | 1): number {
  let k = 0;
  for (let i = 0; i < side.length; i++) {
    const d = decimals(side[i][col]);
    if (d < 0) return -1;
    if (d > k) k = d;
  }
  return k;
}

/** Encodes book messages; one instance per writer (its scratch space and grid hints are reused). */
export class TickLevelEncoder {
  private buf = Buffer.alloc(4096);
  private pos = 0;
  private priceHint: Grid | null;
  private sizeExp = 0;
  private readonly f64 = new DataView(new ArrayBuffer(8));
  /** Messages stored as raw doubles because a value was not on any exact decimal grid. */
  rawMessages = 0;

  /** tickSize: the session's tick (the first grid tried for prices); null or unparsable means infer per message. */
  constructor(tickSize: string | null = null) {
    this.priceHint = tickSize === null ? null : gridOf(tickSize);
  }

  /** A source refined the session's tick: later messages try it first. */
  setTickSize(tickSize: string): void {
    this.priceHint = gridOf(tickSize) ?? this.priceHint;
  }

  /** Encodes one message. */
  encode(m: StoredBook): string {
    const { bids, asks } = m;
    // Worst case: raw stamps and levels, 2 × 6 units per double.
    this.ensure(80 + (bids.length + asks.length) * 26);
    const snap = m.type === 'snapshot' ? FLAG_SNAPSHOT : 0;
    const price = this.priceGrid(bids, asks);
    const size = price === null ? null : this.sizeGrid(bids, asks);
    if (price === null || size === null || !this.encodeGrid(m, snap, price, size)) {
      this.rawMessages++;
      this.pos = 0;
      this.unit(HEAD_UNIT | FORMAT_RAW | snap);
      this.encodeHead(m);
      this.varint(bids.length);
      this.varint(asks.length);
      for (const side of [bids, asks])
        for (let i = 0; i < side.length; i++) {
          this.double(side[i][0]);
          this.double(side[i][1]);
        }
    }
    return this.buf.toString('latin1', 0, this.pos);
  }

  private ensure(units: number): void {
    if (units > this.buf.length) this.buf = Buffer.alloc(Math.max(units, this.buf.length * 2));
  }

  /** Stamps as varints relative to ts (receive and matching times sit within ms of it), or as raw doubles. */
  private encodeHead(m: StoredBook): void {
    const dr = m.recvTs - m.ts;
    const dc = m.cts - m.ts;
    const ints = safe(m.ts) && m.ts >= 0 && safe(dr) && safe(dc) && safe(m.u) && m.u >= 0;
    if (ints && safe(m.seq) && m.seq >= 0) {
      this.varint(m.ts);
      this.varint(zigzag(dr));
      this.varint(zigzag(dc));
      this.varint(m.u);
      this.varint(m.seq);
      return;
    }
    this.buf[0] |= FLAG_RAW_HEAD;
    for (const x of [m.ts, m.recvTs, m.cts, m.u, m.seq]) this.double(x);
  }

  /** The session's tick when every price sits on it, else the finest decimal grid the prices need. */
  private priceGrid(bids: readonly Level[], asks: readonly Level[]): Grid | null {
    const hint = this.priceHint;
    if (hint && onGrid(bids, 0, hint) && onGrid(asks, 0, hint)) return hint;
    const k = Math.max(maxDecimals(bids, 0), maxDecimals(asks, 0));
    return k < 0 ? null : { mantissa: 1, exp: k };
  }

  /** Sizes in lots of 10^-k: the previous message's k when it fits (the lot rarely changes), else the finest needed. */
  private sizeGrid(bids: readonly Level[], asks: readonly Level[]): Grid | null {
    const hint = { mantissa: 1, exp: this.sizeExp };
    if (onGrid(bids, 1, hint) && onGrid(asks, 1, hint)) return hint;
    const k = Math.max(maxDecimals(bids, 1), maxDecimals(asks, 1));
    if (k < 0) return null;
    this.sizeExp = Math.max(k, this.sizeExp);
    return { mantissa: 1, exp: this.sizeExp };
  }

  private encodeGrid(m: StoredBook, snap: number, price: Grid, size: Grid): boolean {
    const { bids, asks } = m;
    this.pos = 0;
    this.unit(HEAD_UNIT | FORMAT_GRID | snap);
    this.encodeHead(m);
    this.varint(bids.length);
    this.varint(asks.length);
    this.varint(price.exp);
    this.varint(price.mantissa);
    this.varint(size.exp);
    this.varint(size.mantissa);
    const pp = POW10[price.exp];
    const sp = POW10[size.exp];
    let prev = 0;
    for (const side of [bids, asks]) {
      for (let i = 0; i < side.length; i++) {
        const t = steps(side[i][0], price.mantissa, pp);
        const l = steps(side[i][1], size.mantissa, sp);
        // Sizes are never negative on a valid feed; a negative one keeps its exact value through the raw path.
        if (t !== t || l !== l || l < 0) return false;
        const d = t - prev;
        prev = t;
        this.varint(zigzag(d));
        this.varint(l);
      }
    }
    return true;
  }

  private unit(u: number): void {
    this.buf[this.pos++] = u;
  }

  /** A double's bits as two 32-bit words (low, high), each a varint. */
  private double(x: number): void {
    this.f64.setFloat64(0, x, true);
    this.varint(this.f64.getUint32(0, true));
    this.varint(this.f64.getUint32(4, true));
  }

  /** A non-negative safe integer: 6 bits per continuation unit (0x40-0x7F), the rest + 1 in a final unit (0x01-0x3F). */
  private varint(v: number): void {
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x40000000) {
      b[p++] = 0x40 | (v % 64);
      v = Math.floor(v / 64);
    }
    while (v >= 63) {
      b[p++] = 0x40 | (v & 63);
      v >>>= 6;
    }
    b[p++] = v + 1;
    this.pos = p;
  }
}

/** One decoded message in reused typed arrays: its stamps, then bids and asks, prices and sizes side by side. */
export class LevelColumns {
  snapshot = false;
  ts = 0;
  recvTs = 0;
  cts = 0;
  u = 0;
  seq = 0;
  prices = new Float64Array(512);
  sizes = new Float64Array(512);
  bids = 0;
  asks = 0;

  ensure(n: number): void {
    if (n <= this.prices.length) return;
    const len = Math.max(n, this.prices.length * 2);
    this.prices = new Float64Array(len);
    this.sizes = new Float64Array(len);
  }
}

/** Thrown for a stored value that is not a layout v2 book (a damaged file): names what is wrong. */
export class LevelBlobError extends Error {
  constructor(what: string) {
    super(`stored book levels are damaged: ${what}; run \`l2desk db check\``);
    this.name = 'LevelBlobError';
  }
}

/** Decoder state: module-level so a decode allocates nothing (decoding never re-enters itself). */
let src = '';
let at = 0;
const F64 = new DataView(new ArrayBuffer(8));

/** One varint at `at`; past the end or outside the alphabet is damage, never garbage. */
function vint(): number {
  const c = src.charCodeAt(at++);
  // The common case: one final unit.
  if (c >= 1 && c < 0x40) return c - 1;
  return vintMore(c);
}

/**
 * The rest of a varint whose first unit `c` (already read) was not a final one. Kept apart so that the one-unit case
 * stays small enough to be inlined into the level loops.
 */
function vintMore(first: number): number {
  let c = first;
  let v = 0;
  let mul = 1;
  for (;;) {
    // NaN past the end fails both tests below.
    if (c >= 0x40 && c < 0x80) {
      v += (c & 63) * mul;
      mul *= 64;
      if (mul > 2 ** 60) throw new LevelBlobError(`number longer than 10 units at unit ${at}`);
    } else if (c >= 1 && c < 0x40) return v + (c - 1) * mul;
    else throw new LevelBlobError(at > src.length ? `truncated at unit ${at - 1}` : `unit ${c} at ${at - 1}`);
    c = src.charCodeAt(at++);
  }
}

function f64(): number {
  const lo = vint();
  const hi = vint();
  if (lo > 0xffffffff || hi > 0xffffffff) throw new LevelBlobError(`double word out of range at unit ${at}`);
  F64.setUint32(0, lo, true);
  F64.setUint32(4, hi, true);
  return F64.getFloat64(0, true);
}

/** Decoder state of the value being decoded: its level format and grid, read by decodeHead. */
let format = 0;
let gridPm = 0;
let gridPp = 1;
let gridSm = 0;
let gridSp = 1;

/** Reads a value's stamps and level counts into `out` and its level format and grid into the decoder state. */
function decodeHead(s: string, out: LevelColumns): number {
  if (typeof s !== 'string') throw new LevelBlobError(`expected text, got ${typeof s}`);
  src = s;
  at = 0;
  const first = s.charCodeAt(at++);
  if ((first & ~15) !== HEAD_UNIT) throw new LevelBlobError(`unknown level format ${first}`);
  format = first & 3;
  out.snapshot = (first & FLAG_SNAPSHOT) !== 0;
  if (first & FLAG_RAW_HEAD) {
    out.ts = f64();
    out.recvTs = f64();
    out.cts = f64();
    out.u = f64();
    out.seq = f64();
  } else {
    const ts = vint();
    out.ts = ts;
    out.recvTs = ts + unzigzag(vint());
    out.cts = ts + unzigzag(vint());
    out.u = vint();
    out.seq = vint();
  }
  const nb = vint();
  const na = vint();
  const n = nb + na;
  if (n > s.length) throw new LevelBlobError(`${n} levels in ${s.length} units`);
  out.bids = nb;
  out.asks = na;
  if (format === FORMAT_GRID) {
    const pe = vint();
    gridPm = vint();
    const se = vint();
    gridSm = vint();
    if (pe > MAX_EXP || se > MAX_EXP) throw new LevelBlobError(`grid exponent ${Math.max(pe, se)}`);
    gridPp = POW10[pe];
    gridSp = POW10[se];
  } else if (format !== FORMAT_RAW) throw new LevelBlobError(`unknown level format ${first}`);
  return n;
}

function checkEnd(s: string, n: number): void {
  if (at !== s.length) throw new LevelBlobError(`${s.length - at} units left after ${n} levels`);
}

/** Decodes one stored value into `out` (no allocation once its arrays are large enough). */
export function decodeLevelColumns(s: string, out: LevelColumns): void {
  const n = decodeHead(s, out);
  out.ensure(n);
  const px = out.prices;
  const sz = out.sizes;
  if (format === FORMAT_RAW) {
    for (let i = 0; i < n; i++) {
      px[i] = f64();
      sz[i] = f64();
    }
  } else {
    const pm = gridPm;
    const pp = gridPp;
    const sm = gridSm;
    const sp = gridSp;
    let t = 0;
    for (let i = 0; i < n; i++) {
      const z = vint();
      t += (z & 1) === 0 && z < 0x80000000 ? z >>> 1 : unzigzag(z);
      px[i] = (t * pm) / pp;
      sz[i] = (vint() * sm) / sp;
    }
  }
  checkEnd(s, n);
}

/**
 * Decodes one stored value's levels straight into the pools' tuples (bids, then asks; the pools grow as needed) and
 * its stamps and counts into `out`: one write per value, where decodeLevelColumns and a copy would make two. Its
 * loops repeat decodeLevelColumns' on purpose: one shared loop with a write callback would cost a call per level.
 */
function decodeLevelTuples(s: string, out: LevelColumns, pools: ReusedLevels): void {
  const n = decodeHead(s, out);
  const nb = out.bids;
  pools.ensure(nb, out.asks);
  const bidPool = pools.bidPool;
  const askPool = pools.askPool;
  if (format === FORMAT_RAW) {
    for (let i = 0; i < n; i++) {
      const l = i < nb ? bidPool[i] : askPool[i - nb];
      l[0] = f64();
      l[1] = f64();
    }
  } else {
    const pm = gridPm;
    const pp = gridPp;
    const sm = gridSm;
    const sp = gridSp;
    let t = 0;
    for (let i = 0; i < n; i++) {
      const z = vint();
      t += (z & 1) === 0 && z < 0x80000000 ? z >>> 1 : unzigzag(z);
      const l = i < nb ? bidPool[i] : askPool[i - nb];
      l[0] = (t * pm) / pp;
      l[1] = (vint() * sm) / sp;
    }
  }
  checkEnd(s, n);
}

/** Longest level list whose reused array is kept per length (longer ones are sliced per message). */
const MAX_KEPT_LENGTH = 1024;

/**
 * Level tuples reused from message to message (readSession's reuseLevels, and the read-ahead's unpacking): a pool per
 * side that only grows by appending, and the arrays of its first n tuples handed out for an n-level side.
 */
export class ReusedLevels {
  readonly bidPool: [number, number][] = [];
  readonly askPool: [number, number][] = [];
  /** byLength[n] holds the pool's first n tuples: the array handed out for an n-level side (see side()). */
  private readonly bidByLength: Level[][] = [];
  private readonly askByLength: Level[][] = [];

  /** Grows the pools to hold nb bids and na asks. */
  ensure(nb: number, na: number): void {
    while (this.bidPool.length < nb) this.bidPool.push([0, 0]);
    while (this.askPool.length < na) this.askPool.push([0, 0]);
  }

  /** The first n bid tuples, as one array. */
  bids(n: number): Level[] {
    return side(this.bidPool, this.bidByLength, n);
  }

  /** The first n ask tuples, as one array. */
  asks(n: number): Level[] {
    return side(this.askPool, this.askByLength, n);
  }
}

/**
 * The pool's first n tuples as an array of exactly those tuples. The pool only grows by appending, so the array of n
 * tuples never changes once made: one is kept per length, and a side whose length changes from message to message
 * (every delta) costs no allocation and no array resizing (truncating an array in place was a measurable share of a
 * replay).
 */
function side(pool: [number, number][], byLength: Level[][], n: number): Level[] {
  if (n > MAX_KEPT_LENGTH) return pool.slice(0, n);
  return (byLength[n] ??= pool.slice(0, n));
}

/** Level lists of one message: fresh tuples (kept by the caller) or, with a pool, tuples reused per message. */
export class LevelLists {
  private readonly cols = new LevelColumns();
  private readonly pools = new ReusedLevels();
  private readonly reused: { bids: Level[]; asks: Level[] } = { bids: [], asks: [] };

  /** The stamps of the message last decoded. */
  get head(): Readonly<LevelColumns> {
    return this.cols;
  }

  /** Fresh arrays and tuples: the public, keep-forever shape. */
  decode(s: string): { bids: Level[]; asks: Level[] } {
    const c = this.cols;
    decodeLevelColumns(s, c);
    const bids: Level[] = new Array(c.bids);
    const asks: Level[] = new Array(c.asks);
    for (let i = 0; i < c.bids; i++) bids[i] = [c.prices[i], c.sizes[i]];
    for (let i = 0, j = c.bids; i < c.asks; i++, j++) asks[i] = [c.prices[j], c.sizes[j]];
    return { bids, asks };
  }

  /**
   * The same values in arrays and tuples owned by this object, overwritten by the next call: no allocation at all
   * once the pools have grown. Only for a consumer done with a message before it asks for the next.
   */
  decodeReused(s: string): { bids: Level[]; asks: Level[] } {
    const c = this.cols;
    decodeLevelTuples(s, c, this.pools);
    const r = this.reused;
    r.bids = this.pools.bids(c.bids);
    r.asks = this.pools.asks(c.asks);
    return r;
  }
}

/** Encodes one message (tests, benchmarks). */
export function encodeBook(m: StoredBook, tickSize: string | null = null): string {
  return new TickLevelEncoder(tickSize).encode(m);
}

/** Decodes into a fresh message (tests, one-off use). */
export function decodeBook(s: string): StoredBook {
  const lists = new LevelLists();
  const { bids, asks } = lists.decode(s);
  const h = lists.head;
  const type = h.snapshot ? 'snapshot' : 'delta';
  return { type, ts: h.ts, recvTs: h.recvTs, cts: h.cts, u: h.u, seq: h.seq, bids, asks };
}

/** Decodes only the levels (tests, one-off use). */
export function decodeBookLevels(s: string): { bids: Level[]; asks: Level[] } {
  return new LevelLists().decode(s);
}
