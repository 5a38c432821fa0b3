// Bybit's authority on a symbol's tick size and lot: GET /v5/market/instruments-info. A failed or odd reply
// is a reason string, never an exception: the caller then infers both from the data as before.
import type { Category } from '../../../src-shared/market.ts';

export const BYBIT_REST_BASE = 'https://api.bybit.com';
export const INSTRUMENT_INFO_PATH = '/v5/market/instruments-info';
export const INSTRUMENT_INFO_TIMEOUT_MS = 3000;

export interface InstrumentInfo {
  symbol: string;
  category: Category;
  status: string;
  /** priceFilter.tickSize, as Bybit prints it ("0.00001"). */
  tickSize: string;
  /** lotSizeFilter.qtyStep (linear) / basePrecision (spot). */
  qtyStep: string;
  minOrderQty?: string;
  /** lotSizeFilter.minNotionalValue (linear) / minOrderAmt (spot), when present. */
  minNotional?: string;
}

export type InstrumentInfoResult = { ok: true; info: InstrumentInfo } | { ok: false; reason: string };

export interface FetchInstrumentInfoOptions {
  restBase: string;
  category: Category;
  symbol: string;
  timeoutMs?: number;
  /** Injected fetch (defaults to Node's global). */
  fetch?: typeof fetch;
}

const DECIMAL = /^(?:0|[1-9]\d*)(?:\.\d+)?$/;

/** A positive plain decimal string ("0.10", "1"), else undefined. */
export function positiveDecimal(v: unknown): string | undefined {
  return typeof v === 'string' && DECIMAL.test(v) && Number(v) > 0 ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses an instruments-info reply strictly; the symbol must be listed with a positive tick and lot. */
export function parseInstrumentInfo(body: unknown, category: Category, symbol: string): InstrumentInfoResult {
  const fail = (reason: string): InstrumentInfoResult => ({ ok: false, reason });
  if (!isObject(body)) return fail('reply is not a JSON object');
  if (body.retCode !== 0)
    return fail(`retCode ${JSON.stringify(body.retCode)}: ${String(body.retMsg ?? '(no message)')}`);
  const result = body.result;
  if (!isObject(result) || !Array.isArray(result.list)) return fail('reply has no result.list');
  const item = result.list.find((x): x is Record<string, unknown> => isObject(x) && x.symbol === symbol);
  if (!item) return fail(`${category} symbol ${symbol} is not listed`);
  const pf = item.priceFilter;
  const lf = item.lotSizeFilter;
  if (!isObject(pf) || !isObject(lf)) return fail('priceFilter or lotSizeFilter missing');
  const tickSize = positiveDecimal(pf.tickSize);
  if (!tickSize) return fail(`invalid priceFilter.tickSize ${JSON.stringify(pf.tickSize)}`);
  const stepField = category === 'spot' ? 'basePrecision' : 'qtyStep';
  const qtyStep = positiveDecimal(lf[stepField]);
  if (!qtyStep) return fail(`invalid lotSizeFilter.${stepField} ${JSON.stringify(lf[stepField])}`);
  const info: InstrumentInfo = {
    symbol,
    category,
    status: typeof item.status === 'string' ? item.status : '',
    tickSize,
    qtyStep,
  };
  const minQty = positiveDecimal(lf.minOrderQty);
  if (minQty) info.minOrderQty = minQty;
  const minNotional = positiveDecimal(category === 'spot' ? lf.minOrderAmt : lf.minNotionalValue);
  if (minNotional) info.minNotional = minNotional;
  return { ok: true, info };
}

/** The instruments-info URL for a REST base ("https://api.bybit.com", "http://127.0.0.1:1234"). */
export function instrumentInfoUrl(restBase: string, category: Category, symbol: string): string {
  const q = new URLSearchParams({ category, symbol });
  return `${restBase.replace(/\/+$/, '')}${INSTRUMENT_INFO_PATH}?${q.toString()}`;
}

/**
 * The REST base serving a public stream URL: Bybit's own stream hosts map to their API hosts, any other
 * ws(s)://host:port (an exchange-sim) to http(s)://host:port. Null for an unparsable URL.
 */
export function restBaseForStream(wsUrl: string | undefined | null): string | null {
  if (!wsUrl) return BYBIT_REST_BASE;
  let u: URL;
  try {
    u = new URL(wsUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return null;
  const proto = u.protocol === 'wss:' ? 'https:' : 'http:';
  const m = /^stream(-testnet)?\.bybit\.com$/.exec(u.hostname);
  if (m) return `https://api${m[1] ?? ''}.bybit.com`;
  return `${proto}//${u.host}`;
}

/** Fetches and parses instruments-info; resolves to a failure reason on any network, HTTP or shape problem. */
export async function fetchInstrumentInfo(opts: FetchInstrumentInfoOptions): Promise<InstrumentInfoResult> {
  const url = instrumentInfoUrl(opts.restBase, opts.category, opts.symbol);
  const doFetch = opts.fetch ?? globalThis.fetch;
  const ctl = new AbortController();
  const timeoutMs = opts.timeoutMs ?? INSTRUMENT_INFO_TIMEOUT_MS;
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await doFetch(url, { signal: ctl.signal, headers: { accept: 'application/json' } });
    const text = await res.text();
    if (!res.ok) return { ok: false, reason: `${url}: HTTP ${res.status}` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, reason: `${url}: reply is not JSON` };
    }
    const r = parseInstrumentInfo(body, opts.category, opts.symbol);
    return r.ok ? r : { ok: false, reason: `${url}: ${r.reason}` };
  } catch (e) {
    const why = ctl.signal.aborted ? `no reply within ${timeoutMs} ms` : describeError(e);
    return { ok: false, reason: `${url}: ${why}` };
  } finally {
    clearTimeout(timer);
  }
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // undici wraps the socket error (ECONNREFUSED, ...) as the cause of a bare "fetch failed".
  const cause = (e as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
}
