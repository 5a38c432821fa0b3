// Bybit v5 public WebSocket protocol: topic names, URLs, subscribe requests, and the parser that turns one
// frame into a typed value. Prices and sizes are parsed to numbers here, once; the parser never throws.
import type { BookMessage, Category, Level, Side, Trade, TradeMessage } from '../../../src-shared/market.ts';

export type ParsedFrame =
  | { type: 'book'; msg: BookMessage }
  | { type: 'trades'; msg: TradeMessage }
  | { type: 'pong' }
  | { type: 'subscribe'; success: boolean; retMsg: string; op: 'subscribe' | 'unsubscribe' }
  | { type: 'unknown'; reason: string }
  | { type: 'malformed'; reason: string }
  /** A book message with more levels than its depth allows: refused before its levels are parsed. */
  | { type: 'oversize'; symbol: string; depth: number; u: number; reason: string };

/** Order-book depths Bybit v5 serves on its public streams (500 was withdrawn on linear). */
export const BOOK_DEPTHS: Readonly<Record<Category, readonly number[]>> = {
  linear: [1, 50, 200, 1000],
  spot: [1, 50, 200, 1000],
};

/** Spot rejects subscribe requests with more than 10 args; linear accepts more (we stay generous but bounded). */
export const MAX_ARGS_PER_REQUEST: Readonly<Record<Category, number>> = { spot: 10, linear: 100 };

export class TopicError extends Error {
  override name = 'TopicError';
}

export function publicUrl(category: Category): string {
  return `wss://stream.bybit.com/v5/public/${category}`;
}

/** `orderbook.{depth}.{SYMBOL}`; throws TopicError for a depth Bybit does not serve (e.g. 500 on linear). */
export function bookTopic(depth: number, symbol: string, category: Category = 'linear'): string {
  const allowed = BOOK_DEPTHS[category];
  if (!allowed.includes(depth)) {
    const gone = depth === 500 && category === 'linear' ? ' (500 is no longer served on linear)' : '';
    throw new TopicError(
      `order-book depth ${depth} is not served on Bybit ${category}${gone}: use one of ${allowed.join(', ')}`,
    );
  }
  return `orderbook.${depth}.${checkSymbol(symbol)}`;
}

export function tradeTopic(symbol: string): string {
  return `publicTrade.${checkSymbol(symbol)}`;
}

function checkSymbol(symbol: string): string {
  if (!/^[A-Z0-9]{2,30}$/.test(symbol))
    throw new TopicError(
      `symbol must be upper-case letters and digits such as BTCUSDT, got ${JSON.stringify(symbol)}`,
    );
  return symbol;
}

/** The JSON texts to send to (un)subscribe `topics`, chunked to the category's per-request arg limit. */
export function subscribeRequests(
  category: Category,
  topics: readonly string[],
  op: 'subscribe' | 'unsubscribe' = 'subscribe',
): string[] {
  const max = MAX_ARGS_PER_REQUEST[category];
  const out: string[] = [];
  for (let i = 0; i < topics.length; i += max)
    out.push(JSON.stringify({ op, args: topics.slice(i, i + max) }));
  return out;
}

export const PING_REQUEST = '{"op":"ping"}';

/** Parses one text frame. Never throws: bad input comes back as `malformed`, unexpected shapes as `unknown`. */
export function parseFrame(text: string, recvTs: number): ParsedFrame {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return { type: 'malformed', reason: `invalid JSON (${(e as Error).message}): ${preview(text)}` };
  }
  return parseRawMessage(obj, recvTs);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses an already-decoded v5 message (the importer reads JSON lines itself). Never throws. */
export function parseRawMessage(obj: unknown, recvTs: number): ParsedFrame {
  try {
    if (!isObj(obj)) return { type: 'malformed', reason: `expected a JSON object, got ${describe(obj)}` };
    const topic = obj.topic;
    if (typeof topic === 'string') {
      if (topic.startsWith('orderbook.')) return parseBook(obj, topic, recvTs);
      if (topic.startsWith('publicTrade.')) return parseTrades(obj, topic, recvTs);
      return { type: 'unknown', reason: `unhandled topic ${preview(topic)}` };
    }
    if (topic !== undefined)
      return { type: 'malformed', reason: `topic must be a string, got ${describe(topic)}` };
    const op = obj.op;
    if (typeof op === 'string') {
      const retMsg = typeof obj.ret_msg === 'string' ? obj.ret_msg : '';
      if (op === 'pong' || (op === 'ping' && retMsg === 'pong')) return { type: 'pong' };
      if (op === 'subscribe' || op === 'unsubscribe') {
        if (typeof obj.success !== 'boolean')
          return { type: 'malformed', reason: `${op} reply without a boolean success` };
        return { type: 'subscribe', success: obj.success, retMsg, op };
      }
      return {
        type: 'unknown',
        reason: `unhandled op ${preview(op)}${retMsg ? ` (${preview(retMsg)})` : ''}`,
      };
    }
    return { type: 'unknown', reason: `message without topic or op: ${preview(JSON.stringify(obj))}` };
  } catch (e) {
    // Defensive: a getter-laden object or similar oddity must still not take the feed down.
    return { type: 'malformed', reason: `unparseable message: ${(e as Error).message}` };
  }
}

function parseBook(obj: Obj, topic: string, recvTs: number): ParsedFrame {
  const parts = topic.split('.');
  const depth = parts.length === 3 ? Number(parts[1]) : NaN;
  if (!Number.isInteger(depth) || depth <= 0 || !parts[2])
    return { type: 'malformed', reason: `bad order-book topic ${preview(topic)}` };
  const type = obj.type;
  if (type !== 'snapshot' && type !== 'delta')
    return { type: 'malformed', reason: `${topic}: type must be snapshot or delta, got ${describe(type)}` };
  const ts = obj.ts;
  if (!isTime(ts))
    return { type: 'malformed', reason: `${topic}: ts must be a millisecond timestamp, got ${describe(ts)}` };
  const cts = obj.cts === undefined ? 0 : obj.cts;
  if (!isTime(cts) && cts !== 0)
    return {
      type: 'malformed',
      reason: `${topic}: cts must be a millisecond timestamp, got ${describe(cts)}`,
    };
  const data = obj.data;
  if (!isObj(data))
    return { type: 'malformed', reason: `${topic}: data must be an object, got ${describe(data)}` };
  const u = data.u;
  if (typeof u !== 'number' || !Number.isSafeInteger(u) || u < 0)
    return {
      type: 'malformed',
      reason: `${topic}: data.u must be a non-negative integer, got ${describe(u)}`,
    };
  const seq = data.seq === undefined ? 0 : data.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq))
    return { type: 'malformed', reason: `${topic}: data.seq must be an integer, got ${describe(seq)}` };
  const symbol = data.s === undefined ? parts[2] : data.s;
  if (typeof symbol !== 'string' || symbol !== parts[2])
    return { type: 'malformed', reason: `${topic}: data.s ${describe(symbol)} does not match the topic` };
  const tooDeep = levelCountProblem(topic, type, depth, u, data.b, data.a);
  if (tooDeep) return { type: 'oversize', symbol, depth, u, reason: tooDeep };
  const bids = parseLevels(data.b);
  if (typeof bids === 'string') return { type: 'malformed', reason: `${topic} u=${u}: bids ${bids}` };
  const asks = parseLevels(data.a);
  if (typeof asks === 'string') return { type: 'malformed', reason: `${topic} u=${u}: asks ${asks}` };
  const msg: BookMessage = {
    kind: 'book',
    type,
    symbol,
    depth,
    ts,
    cts: cts as number,
    recvTs,
    u,
    seq,
    bids,
    asks,
  };
  return { type: 'book', msg };
}

/**
 * A snapshot lists at most `depth` levels per side; a delta at most 2 × depth (every visible level deleted and
 * replaced). More is not Bybit's data: refused by count, so a hostile frame costs no parsing of its levels.
 */
function levelCountProblem(
  topic: string,
  type: 'snapshot' | 'delta',
  depth: number,
  u: number,
  bids: unknown,
  asks: unknown,
): string | null {
  const max = type === 'snapshot' ? depth : 2 * depth;
  for (const [side, raw] of [
    ['bids', bids],
    ['asks', asks],
  ] as const)
    if (Array.isArray(raw) && raw.length > max)
      return `${topic} u=${u}: ${raw.length} ${side} in a ${type}, more than the ${max} a depth-${depth} ${type} can hold`;
  return null;
}

/** Levels or an error text. Bybit sends [price, size] as decimal strings; numbers are tolerated, nothing else. */
function parseLevels(raw: unknown): Level[] | string {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return `must be an array, got ${describe(raw)}`;
  const out: Level[] = []; // packed, not holey: the book iterates these on every apply
  for (let i = 0; i < raw.length; i++) {
    const lv = raw[i];
    if (!Array.isArray(lv) || lv.length < 2) return `level ${i} must be [price, size], got ${describe(lv)}`;
    const price = num(lv[0]);
    if (!(price > 0)) return `level ${i} has a bad price ${describe(lv[0])}`;
    const size = num(lv[1]);
    if (!(size >= 0)) return `level ${i} has a bad size ${describe(lv[1])}`;
    out.push([price, size]);
  }
  return out;
}

function parseTrades(obj: Obj, topic: string, recvTs: number): ParsedFrame {
  const parts = topic.split('.');
  if (parts.length !== 2 || !parts[1])
    return { type: 'malformed', reason: `bad trade topic ${preview(topic)}` };
  const symbol = parts[1];
  const ts = obj.ts;
  if (!isTime(ts))
    return { type: 'malformed', reason: `${topic}: ts must be a millisecond timestamp, got ${describe(ts)}` };
  const data = obj.data;
  if (!Array.isArray(data) || data.length === 0)
    return { type: 'malformed', reason: `${topic}: data must be a non-empty array, got ${describe(data)}` };
  const trades: Trade[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const t = data[i];
    const bad = (what: string, v: unknown): ParsedFrame => ({
      type: 'malformed',
      reason: `${topic}: trade ${i} has ${what} ${describe(v)}`,
    });
    if (!isObj(t)) return bad('a non-object value', t);
    if (!isTime(t.T)) return bad('a bad time T', t.T);
    if (t.S !== 'Buy' && t.S !== 'Sell') return bad('a bad side S', t.S);
    const price = num(t.p);
    if (!(price > 0)) return bad('a bad price p', t.p);
    const size = num(t.v);
    if (!(size > 0)) return bad('a bad size v', t.v);
    if (typeof t.i !== 'string' && typeof t.i !== 'number') return bad('a bad id i', t.i);
    if (t.s !== undefined && t.s !== symbol) return bad('a symbol not matching the topic:', t.s);
    if (t.BT !== undefined && typeof t.BT !== 'boolean') return bad('a bad block-trade flag BT', t.BT);
    const seq = t.seq === undefined ? 0 : t.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return bad('a bad seq', t.seq);
    trades[i] = { ts: t.T, side: t.S as Side, price, size, id: String(t.i), blockTrade: t.BT === true, seq };
  }
  return { type: 'trades', msg: { kind: 'trades', symbol, ts, recvTs, trades } };
}

/** Char codes of x, b, o (lower-cased). */
const RADIX_PREFIX = new Set([120, 98, 111]);

/** A decimal string (or finite number) as a number; NaN for anything else, including "", "1e5x" and "0x10". */
function num(v: unknown): number {
  if (typeof v === 'string') {
    if (v.length === 0 || v.length > 40) return NaN;
    // Number() also reads "0x1A", "0b1", "0o7": not decimals, so corrupt data rather than a price.
    if (v.length > 2 && v.charCodeAt(0) === 48 && RADIX_PREFIX.has(v.charCodeAt(1) | 32)) return NaN;
    const n = Number(v);
    return Number.isFinite(n) ? n : NaN;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  return NaN;
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array ${preview(JSON.stringify(v))}`;
  if (typeof v === 'string') return JSON.stringify(preview(v));
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function preview(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
