// A Bybit v5-compatible public WebSocket server on 127.0.0.1 that plays one MarketFeed per symbol it serves:
// subscribe and pong replies, a snapshot then deltas per book topic and depth, trades, and injectable faults.
// A topic of a symbol it does not serve, or of a symbol not listed on the connection's category (the URL's
// /v5/public/{linear|spot}), is refused as Bybit refuses it. It keeps each true book (what a correct client
// holds) so tests can compare.
import { WebSocketServer, type WebSocket } from 'ws';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Category, Level } from '../../../src-shared/market.ts';
import { TickScale } from '../../book/tickScale.ts';
import { BOOK_DEPTHS, MAX_ARGS_PER_REQUEST } from '../bybit/protocol.ts';
import { decimalText } from '../bybit/tickInference.ts';
import { INSTRUMENT_INFO_PATH } from '../bybit/instrumentInfo.ts';
import { sizeDecimals } from '../../trading/lotSize.ts';
import { parseRequestTarget } from '../../bridge/requestTarget.ts';
import { captureTop, diffTop, emptyView, SideBook, type SentView } from '../sim/sideBook.ts';
import type { FeedStep, MarketFeed } from './feeds.ts';

export const FAULTS = ['drop', 'halfopen', 'gap', 'restart', 'malformed', 'stall'] as const;
export type Fault = (typeof FAULTS)[number];

export const FAULT_HELP: Record<Fault, string> = {
  drop: 'close every connection abruptly',
  halfopen: 'stop answering pings on the current connections (half-open)',
  gap: 'skip one book delta (a missing u) on the current connections',
  restart: 'send a restart snapshot (u = 1) and continue from there',
  malformed: 'send malformed frames (truncated JSON, a non-numeric price)',
  stall: 'stop sending data on the current connections but keep the sockets open',
};

export interface ExchangeSimOptions {
  /** The first symbol's market. */
  feed: MarketFeed;
  /** Further symbols served on the same port (each its own book, tick and update ids), on one market clock. */
  moreFeeds?: readonly MarketFeed[];
  /**
   * Per symbol, the categories it is listed on (default: `category`). Subscribing to a symbol on a category it is
   * not listed on is refused ("handler not found"), as Bybit refuses a spot-only symbol on linear.
   */
  listings?: Readonly<Record<string, readonly Category[]>>;
  /** 0 picks a free port. */
  port?: number;
  category?: Category;
  /** Market time runs this many times faster than wall time. */
  speed?: number;
  /**
   * Each step's frames go out this long (market ms) after their exchange stamps: a feed latency, so that clients'
   * receive stamps lag the exchange's `ts` as on a real connection (default 0).
   */
  feedDelayMs?: number;
  /** Start with the market paused (tests step it with resume/pause). */
  paused?: boolean;
  log?: (line: string) => void;
}

interface Conn {
  id: string;
  ws: WebSocket;
  /** The category of the stream it connected to (/v5/public/{linear|spot}). */
  category: Category;
  subs: Set<string>;
  /** halfopen fault: pings go unanswered. */
  noPong: boolean;
  /** stall fault: no data frames. */
  stalled: boolean;
  /** gap fault: the next delta of these book topics is not sent. */
  skipNext: Set<string>;
}

/** One depth's public view of the market book, with its own update id as on Bybit. */
interface DepthView {
  depth: number;
  u: number;
  bid: SentView;
  ask: SentView;
}

export interface TrueBook {
  u: number;
  bids: Level[];
  asks: Level[];
}

export interface ServerStats {
  connections: number;
  pings: number;
  pongs: number;
  subscribes: number;
  /** The args of every subscribe request received, in order (tests check the per-request limit). */
  subscribeArgs: string[][];
  stepsPlayed: number;
  faults: Partial<Record<Fault, number>>;
}

/** One served symbol: its feed, the market's full book, and each depth's public view with its own update ids. */
class SymbolMarket {
  readonly symbol: string;
  readonly scale: TickScale;
  readonly priceDecimals: number;
  readonly bids = new SideBook(true);
  readonly asks = new SideBook(false);
  readonly views = new Map<number, DepthView>();
  bookSeq = 0;
  warnedOffTick = false;
  /** The feed's next step, read ahead; null when none is read. */
  pending: FeedStep | null = null;
  ended = false;

  constructor(
    readonly feed: MarketFeed,
    readonly categories: Set<Category>,
  ) {
    this.symbol = feed.symbol;
    this.scale = new TickScale(feed.tickSize);
    this.priceDecimals = this.scale.decimals;
  }

  peek(): FeedStep | null {
    if (!this.pending && !this.ended) {
      this.pending = this.feed.next();
      if (!this.pending) this.ended = true;
    }
    return this.pending;
  }

  topicOf(depth: number): string {
    return `orderbook.${depth}.${this.symbol}`;
  }

  readonly formatLevel = (tick: number, size: number): [string, string] => [
    this.scale.toPrice(tick).toFixed(this.priceDecimals),
    size === 0 ? '0' : decimalText(size),
  ];

  viewFor(depth: number): DepthView {
    let view = this.views.get(depth);
    if (!view) {
      view = { depth, u: 1_000, bid: emptyView(), ask: emptyView() };
      captureTop(this.bids, depth, view.bid);
      captureTop(this.asks, depth, view.ask);
      this.views.set(depth, view);
    }
    return view;
  }

  snapshotText(view: DepthView, ts: number): string {
    const pairs = (v: SentView) => v.ticks.map((t, i) => this.formatLevel(t, v.sizes[i]));
    return JSON.stringify({
      topic: this.topicOf(view.depth),
      type: 'snapshot',
      ts,
      data: { s: this.symbol, b: pairs(view.bid), a: pairs(view.ask), u: view.u, seq: this.bookSeq },
      cts: ts,
    });
  }

  trueBook(depth: number): TrueBook {
    const view = this.views.get(depth);
    const levels = (side: SideBook): Level[] =>
      side.ticks.slice(0, depth).map((t) => [this.scale.toPrice(t), side.sizes.get(t) as number] as Level);
    return { u: view ? view.u : 0, bids: levels(this.bids), asks: levels(this.asks) };
  }
}

export class ExchangeSimServer {
  /** The first served symbol (the only one unless `moreFeeds` were given). */
  readonly symbol: string;
  readonly category: Category;
  /** The first symbol's tick grid. */
  readonly scale: TickScale;
  readonly stats: ServerStats = {
    connections: 0,
    pings: 0,
    pongs: 0,
    subscribes: 0,
    subscribeArgs: [],
    stepsPlayed: 0,
    faults: {},
  };
  private readonly wss: WebSocketServer;
  /** The http server the WebSocket server sits on; it also answers REST instruments-info. */
  private readonly http: Server;
  private readonly conns = new Set<Conn>();
  private readonly markets = new Map<string, SymbolMarket>();
  private readonly speed: number;
  private readonly feedDelayMs: number;
  private readonly log: (line: string) => void;
  private timer: NodeJS.Timeout | null = null;
  private paused: boolean;
  private ended = false;
  /** Wall time at which market time `marketAnchor` is due; re-anchored on resume. */
  private wallAnchor = 0;
  private marketAnchor = 0;
  /** Market time of the last step played. */
  private marketNow = 0;
  private nextConnId = 1;
  private endWaiters: Array<() => void> = [];

  private constructor(wss: WebSocketServer, http: Server, opts: ExchangeSimOptions) {
    this.wss = wss;
    this.http = http;
    this.category = opts.category ?? 'linear';
    for (const feed of [opts.feed, ...(opts.moreFeeds ?? [])]) {
      if (this.markets.has(feed.symbol)) throw new Error(`exchange-sim: ${feed.symbol} is served twice`);
      const listed = opts.listings?.[feed.symbol] ?? [this.category];
      this.markets.set(feed.symbol, new SymbolMarket(feed, new Set(listed)));
    }
    this.symbol = opts.feed.symbol;
    this.scale = this.firstMarket.scale;
    this.speed = opts.speed ?? 1;
    this.feedDelayMs = Math.max(0, opts.feedDelayMs ?? 0);
    this.paused = opts.paused ?? false;
    this.log = opts.log ?? (() => {});
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
  }

  /** Starts listening on 127.0.0.1 (never another interface) and plays each feed's first step (its snapshot). */
  static async start(opts: ExchangeSimOptions): Promise<ExchangeSimServer> {
    let server: ExchangeSimServer | null = null;
    const http = createServer((req, res) => {
      // Nothing a client sends may throw out of the handler: answer 400 and keep serving.
      try {
        if (server) server.onHttp(req, res);
        else res.writeHead(503).end();
      } catch {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request\n');
        else res.destroy();
      }
    });
    const wss = new WebSocketServer({
      server: http,
      perMessageDeflate: false,
      maxPayload: MAX_REQUEST_FRAME,
      // The upgrade's target is checked like a plain request's: one no URL parser takes is a 400.
      verifyClient: (info, cb) => {
        if (parseRequestTarget(info.req.url)) cb(true);
        else cb(false, 400, 'Bad Request');
      },
    });
    // ws re-emits the http server's errors on wss: without a listener a port in use (EADDRINUSE) would crash the
    // process instead of rejecting below.
    wss.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      http.once('listening', () => resolve());
      http.once('error', reject);
      http.listen(opts.port ?? 0, '127.0.0.1');
    });
    try {
      server = new ExchangeSimServer(wss, http, opts);
    } catch (e) {
      await new Promise<void>((r) => http.close(() => r()));
      throw e;
    }
    // Each market's initial book exists before anyone connects.
    for (const m of server.markets.values()) server.playStep(m);
    if (!server.paused) server.resume();
    return server;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** The REST base serving instruments-info (`GET /v5/market/instruments-info`). */
  get restUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The public stream URL clients connect to (of `category`, default the server's). */
  urlFor(category: Category): string {
    return `ws://127.0.0.1:${this.port}/v5/public/${category}`;
  }

  get url(): string {
    return this.urlFor(this.category);
  }

  /** The symbols served, first one first. */
  get symbols(): string[] {
    return [...this.markets.keys()];
  }

  /** A served symbol's tick grid. */
  scaleOf(symbol: string): TickScale {
    return this.market(symbol).scale;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get hasEnded(): boolean {
    return this.ended;
  }

  /** Resolves when the feeds have no more steps. */
  whenEnded(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((r) => this.endWaiters.push(r));
  }

  /** Stops the market clock; connections stay open and keep answering pings and subscriptions. */
  pause(): void {
    this.paused = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  resume(): void {
    this.paused = false;
    if (this.timer || this.ended) return;
    const next = this.nextMarket();
    if (!next) return this.finish();
    this.wallAnchor = Date.now();
    this.marketAnchor = (next.pending as FeedStep).atMs;
    this.schedule();
  }

  /** Plays `n` market steps at once (tests drive a paused market with it). */
  step(n = 1): void {
    for (let i = 0; i < n && !this.ended; i++) {
      const m = this.nextMarket();
      if (!m) return this.finish();
      this.playStep(m);
    }
  }

  /** What a correct client subscribed to `orderbook.{depth}.{symbol}` holds now: the top `depth` levels and u. */
  trueBook(depth = 50, symbol = this.symbol): TrueBook {
    return this.market(symbol).trueBook(depth);
  }

  /**
   * Delists `symbol` (as an exchange delists an instrument): from now on a subscription to its topics is refused;
   * current subscribers keep what they have.
   */
  delist(symbol: string): void {
    this.market(symbol).categories.clear();
    this.log(`${symbol} delisted: its topics are refused from now on`);
  }

  /** Injects a fault on the current connections (or the markets, for restart). */
  inject(fault: Fault): void {
    this.stats.faults[fault] = (this.stats.faults[fault] ?? 0) + 1;
    this.log(`fault: ${fault} (${FAULT_HELP[fault]}) on ${this.conns.size} connection(s)`);
    switch (fault) {
      case 'drop':
        for (const c of this.conns) c.ws.terminate();
        break;
      case 'halfopen':
        for (const c of this.conns) c.noPong = true;
        break;
      case 'stall':
        for (const c of this.conns) c.stalled = true;
        break;
      case 'gap':
        for (const c of this.conns)
          for (const m of this.markets.values()) for (const d of m.views.keys()) c.skipNext.add(m.topicOf(d));
        break;
      case 'restart':
        for (const m of this.markets.values())
          for (const view of m.views.values()) {
            view.u = 1;
            this.broadcastSnapshot(m, view);
          }
        break;
      case 'malformed':
        for (const c of this.conns) {
          const topic = [...c.subs].find((t) => bookDepthOf(t) > 0);
          const m = (topic && this.markets.get(topic.slice(topic.lastIndexOf('.') + 1))) || this.firstMarket;
          const depth = topic ? bookDepthOf(topic) : 50;
          const u = (m.views.get(depth)?.u ?? 0) + 1;
          const bad = `{"topic":"orderbook.${depth}.${m.symbol}","type":"delta","ts":${this.marketNow || Date.now()},"data":{"s":"${m.symbol}","b":[["abc","1.000"]],"a":[],"u":${u},"seq":1}}`;
          c.ws.send(bad.slice(0, Math.floor(bad.length / 2))); // truncated JSON
          c.ws.send(bad); // valid JSON, non-numeric price; its u is not consumed
        }
        break;
    }
  }

  async close(): Promise<void> {
    this.pause();
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private get firstMarket(): SymbolMarket {
    return this.markets.values().next().value as SymbolMarket;
  }

  private market(symbol: string): SymbolMarket {
    const m = this.markets.get(symbol);
    if (!m) throw new Error(`exchange-sim does not serve ${symbol} (it serves ${this.symbols.join(', ')})`);
    return m;
  }

  // --- REST -----------------------------------------------------------------------------------------

  /** Plain HTTP on the stream's port: instruments-info for the served symbols, in Bybit's shape; else 404. */
  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const send = (status: number, body: object): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const url = parseRequestTarget(req.url);
    if (!url) {
      send(400, { retCode: 10400, retMsg: 'Bad Request', result: {}, retExtInfo: {}, time: Date.now() });
      return;
    }
    if (req.method !== 'GET' || url.pathname !== INSTRUMENT_INFO_PATH) {
      send(404, { retCode: 10404, retMsg: 'Not Found', result: {}, retExtInfo: {}, time: Date.now() });
      return;
    }
    const category = url.searchParams.get('category') ?? '';
    if (category !== 'linear' && category !== 'spot' && category !== 'inverse' && category !== 'option') {
      send(200, {
        retCode: 10001,
        retMsg: 'Illegal category',
        result: {},
        retExtInfo: {},
        time: Date.now(),
      });
      return;
    }
    const symbol = url.searchParams.get('symbol');
    const list = [...this.markets.values()].filter(
      (m) =>
        (category === 'linear' || category === 'spot') &&
        m.categories.has(category) &&
        (!symbol || symbol.toUpperCase() === m.symbol),
    );
    this.log(`REST instruments-info ${category} ${symbol ?? '(all)'}${list.length ? '' : ': not listed'}`);
    send(200, {
      retCode: 0,
      retMsg: 'OK',
      result: {
        category,
        list: list.map((m) => this.instrumentItem(m, category as Category)),
        ...(category === 'spot' ? {} : { nextPageCursor: '' }),
      },
      retExtInfo: {},
      time: Date.now(),
    });
  }

  /** A served symbol as Bybit lists it, with a lot the feed's sizes are multiples of. */
  private instrumentItem(m: SymbolMarket, category: Category): Record<string, unknown> {
    const tick = m.scale.tickSize;
    const lot = qtyStep(m);
    const maxPrice = (Number(tick) * 1e7).toFixed(m.priceDecimals);
    if (category === 'spot') {
      return {
        symbol: m.symbol,
        baseCoin: m.symbol.replace(/USDT$/, ''),
        quoteCoin: 'USDT',
        innovation: '0',
        status: 'Trading',
        marginTrading: 'none',
        stTag: '0',
        lotSizeFilter: {
          basePrecision: lot,
          quotePrecision: '0.00000001',
          minOrderQty: lot,
          maxOrderQty: '1000000',
          minOrderAmt: m.feed.minNotional ?? '1',
          maxOrderAmt: '2000000',
        },
        priceFilter: { tickSize: tick },
        riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' },
      };
    }
    return {
      symbol: m.symbol,
      contractType: 'LinearPerpetual',
      status: 'Trading',
      baseCoin: m.symbol.replace(/USDT$/, ''),
      quoteCoin: 'USDT',
      launchTime: '1585526400000',
      deliveryTime: '0',
      deliveryFeeRate: '',
      priceScale: String(m.priceDecimals),
      leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
      priceFilter: { minPrice: tick, maxPrice, tickSize: tick },
      lotSizeFilter: {
        maxOrderQty: '1000000',
        minOrderQty: lot,
        qtyStep: lot,
        postOnlyMaxOrderQty: '1000000',
        maxMktOrderQty: '100000',
        minNotionalValue: m.feed.minNotional ?? '5',
      },
      unifiedMarginTrade: true,
      fundingInterval: 480,
      settleCoin: 'USDT',
      copyTrading: 'both',
      upperFundingRate: '0.00375',
      lowerFundingRate: '-0.00375',
      isPreListing: false,
      preListingInfo: null,
    };
  }

  // --- market clock -------------------------------------------------------------------------------

  /** The market whose next step comes first (market time), or null when every feed has ended. */
  private nextMarket(): SymbolMarket | null {
    let best: SymbolMarket | null = null;
    for (const m of this.markets.values()) {
      const s = m.peek();
      if (s && (!best || s.atMs < (best.pending as FeedStep).atMs)) best = m;
    }
    return best;
  }

  private schedule(): void {
    const m = this.nextMarket();
    if (!m) return this.finish();
    const next = m.pending as FeedStep;
    const due = this.wallAnchor + (next.atMs - this.marketAnchor + this.feedDelayMs) / this.speed;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, due - Date.now()));
  }

  private onTimer(): void {
    this.timer = null;
    if (this.paused) return;
    const marketNow = this.marketAnchor + (Date.now() - this.wallAnchor) * this.speed - this.feedDelayMs;
    let n = 0;
    while (!this.paused && !this.ended) {
      const m = this.nextMarket();
      if (!m) return this.finish();
      if ((m.pending as FeedStep).atMs > marketNow || n >= 1000) break;
      this.playStep(m);
      n++;
    }
    if (!this.paused && !this.ended) this.schedule();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.log(`feed ended after ${this.stats.stepsPlayed} steps; connections stay open`);
    for (const w of this.endWaiters.splice(0)) w();
  }

  /** Applies one feed step of `m` to its market book and sends each depth's changes and the trades. */
  private playStep(m: SymbolMarket): void {
    const step = m.peek();
    m.pending = null;
    if (!step) return;
    this.stats.stepsPlayed++;
    this.marketNow = step.atMs;
    let bookTs = 0;
    let bookCts = 0;
    for (const f of step.frames) {
      const frame = f as { topic?: string; type?: string; ts?: number; cts?: number; data?: unknown };
      if (typeof frame.topic !== 'string') continue;
      if (frame.topic.startsWith('publicTrade.')) {
        this.broadcast(`publicTrade.${m.symbol}`, JSON.stringify(frame));
      } else if (frame.topic.startsWith('orderbook.')) {
        const data = frame.data as { b?: [string, string][]; a?: [string, string][]; seq?: number };
        if (typeof data.seq === 'number') m.bookSeq = data.seq;
        if (frame.type === 'snapshot') {
          m.bids.clear();
          m.asks.clear();
        }
        this.applyLevels(m, m.bids, data.b);
        this.applyLevels(m, m.asks, data.a);
        bookTs = frame.ts ?? step.atMs;
        bookCts = frame.cts ?? bookTs;
      }
    }
    if (bookTs === 0) return;
    for (const view of m.views.values()) {
      const b = diffTop(m.bids, view.depth, view.bid, m.formatLevel);
      const a = diffTop(m.asks, view.depth, view.ask, m.formatLevel);
      if (b.length === 0 && a.length === 0) continue;
      view.u++;
      if (view.depth === 1) {
        // Bybit's depth-1 stream sends snapshots only.
        this.broadcastSnapshot(m, view, bookTs);
        continue;
      }
      const topic = m.topicOf(view.depth);
      const text = JSON.stringify({
        topic,
        type: 'delta',
        ts: bookTs,
        data: { s: m.symbol, b, a, u: view.u, seq: m.bookSeq },
        cts: bookCts,
      });
      for (const c of this.conns) {
        if (!c.subs.has(topic) || c.stalled) continue;
        if (c.skipNext.delete(topic)) continue;
        c.ws.send(text);
      }
    }
  }

  /** Applies feed levels; a price off the tick grid is reported once and skipped rather than crash the server. */
  private applyLevels(m: SymbolMarket, side: SideBook, levels: [string, string][] | undefined): void {
    for (const [p, sz] of levels ?? []) {
      const t = m.scale.tryToTicks(Number(p));
      if (Number.isFinite(t)) side.set(t, Number(sz));
      else if (!m.warnedOffTick) {
        m.warnedOffTick = true;
        this.log(
          `feed price ${p} of ${m.symbol} is not on the tick grid ${m.scale.tickSize}; such levels are skipped`,
        );
      }
    }
  }

  private broadcastSnapshot(m: SymbolMarket, view: DepthView, ts = this.marketNow || Date.now()): void {
    const text = m.snapshotText(view, ts);
    const topic = m.topicOf(view.depth);
    for (const c of this.conns) if (c.subs.has(topic) && !c.stalled) c.ws.send(text);
  }

  private broadcast(topic: string, text: string): void {
    for (const c of this.conns) if (c.subs.has(topic) && !c.stalled) c.ws.send(text);
  }

  // --- connections --------------------------------------------------------------------------------

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn: Conn = {
      id: `sim-${this.nextConnId++}`,
      ws,
      category: categoryOfPath(parseRequestTarget(req.url)?.pathname) ?? this.category,
      subs: new Set(),
      noPong: false,
      stalled: false,
      skipNext: new Set(),
    };
    this.conns.add(conn);
    this.stats.connections++;
    this.log(`connection ${conn.id} opened on ${conn.category} (${this.conns.size} open)`);
    ws.on('message', (data, isBinary) => {
      // A frame from outside never throws out of here, whatever its shape.
      try {
        this.onRequest(conn, isBinary ? '' : data.toString());
      } catch {
        this.safeReply(conn, { success: false, ret_msg: 'error:request could not be read', op: '' });
      }
    });
    ws.on('close', () => {
      this.conns.delete(conn);
      this.log(`connection ${conn.id} closed (${this.conns.size} open)`);
    });
    ws.on('error', () => this.conns.delete(conn));
  }

  private reply(conn: Conn, obj: Record<string, unknown>): void {
    conn.ws.send(JSON.stringify({ ...obj, conn_id: conn.id }));
  }

  private safeReply(conn: Conn, obj: Record<string, unknown>): void {
    try {
      this.reply(conn, obj);
    } catch {
      conn.ws.terminate();
    }
  }

  private onRequest(conn: Conn, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.reply(conn, { success: false, ret_msg: `error:request is not valid JSON`, op: '' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return this.reply(conn, { success: false, ret_msg: `error:request is not a JSON object`, op: '' });
    const req = parsed as { op?: unknown; args?: unknown; req_id?: unknown };
    const reqId = typeof req.req_id === 'string' ? req.req_id : undefined;
    const withId = (o: Record<string, unknown>) => (reqId === undefined ? o : { ...o, req_id: reqId });
    if (req.op === 'ping') {
      this.stats.pings++;
      if (conn.noPong) return;
      this.stats.pongs++;
      return this.reply(conn, withId({ success: true, ret_msg: 'pong', op: 'ping' }));
    }
    if (req.op !== 'subscribe' && req.op !== 'unsubscribe') {
      return this.reply(
        conn,
        withId({
          success: false,
          ret_msg: `error:unsupported op ${opText(req.op)}`,
          op: opText(req.op),
        }),
      );
    }
    const op = req.op;
    const args = Array.isArray(req.args) ? req.args.filter((a): a is string => typeof a === 'string') : [];
    if (op === 'subscribe') this.stats.subscribeArgs.push(args.slice(0, 100));
    if (args.length === 0)
      return this.reply(conn, withId({ success: false, ret_msg: 'error:args is empty', op }));
    const maxArgs = MAX_ARGS_PER_REQUEST[conn.category];
    if (args.length > maxArgs) {
      return this.reply(conn, withId({ success: false, ret_msg: `error:args size >${maxArgs}`, op }));
    }
    const bad = args.filter((t) => !this.validTopic(t, conn.category));
    const good = args.filter((t) => this.validTopic(t, conn.category));
    if (op === 'unsubscribe') {
      for (const t of good) conn.subs.delete(t);
    } else {
      this.stats.subscribes++;
      const fresh = good.filter((t) => !conn.subs.has(t));
      const dup = good.filter((t) => conn.subs.has(t));
      for (const t of fresh) conn.subs.add(t);
      if (bad.length === 0 && dup.length === 0) this.reply(conn, withId({ success: true, ret_msg: '', op }));
      else {
        const msg = [
          ...bad.map((t) => `error:handler not found,topic:${t}`),
          ...dup.map((t) => `error:already subscribed,topic:${t}`),
        ].join(';');
        this.reply(conn, withId({ success: false, ret_msg: msg, op }));
      }
      // A new book subscription starts with a snapshot of that depth's current view.
      for (const t of fresh) {
        const d = bookDepthOf(t);
        const m = this.markets.get(t.slice(t.lastIndexOf('.') + 1));
        if (d > 0 && m && !conn.stalled)
          conn.ws.send(m.snapshotText(m.viewFor(d), this.marketNow || Date.now()));
      }
      return;
    }
    if (bad.length === 0) this.reply(conn, withId({ success: true, ret_msg: '', op }));
    else
      this.reply(
        conn,
        withId({
          success: false,
          ret_msg: bad.map((t) => `error:handler not found,topic:${t}`).join(';'),
          op,
        }),
      );
  }

  /** A topic of a served symbol listed on `category`, at a depth that category serves. */
  private validTopic(t: string, category: Category): boolean {
    const m = this.markets.get(t.slice(t.lastIndexOf('.') + 1));
    if (!m || !m.categories.has(category)) return false;
    if (t === `publicTrade.${m.symbol}`) return true;
    const d = bookDepthOf(t);
    return d > 0 && t === m.topicOf(d) && BOOK_DEPTHS[category].includes(d);
  }
}

/** The feed's lot when it declares one, else the finest step the current book's sizes show. */
function qtyStep(m: SymbolMarket): string {
  if (m.feed.qtyStep) return m.feed.qtyStep;
  let d = 0;
  for (const side of [m.bids, m.asks])
    for (const size of side.sizes.values()) {
      const k = sizeDecimals(size);
      if (k > d && k <= 10) d = k;
    }
  return d === 0 ? '1' : `0.${'0'.repeat(d - 1)}1`;
}

/** The category a stream path names (`/v5/public/spot`), or null for another path. */
function categoryOfPath(pathname: string | undefined): Category | null {
  const m = /^\/v5\/public\/(linear|spot)\/?$/.exec(pathname ?? '');
  return m ? (m[1] as Category) : null;
}

/** Client requests are small JSON objects (≤ 10 topics on spot); anything bigger closes the socket (1009). */
export const MAX_REQUEST_FRAME = 64 * 1024;

/** An op echoed back as text: a string as is, anything else as short JSON (`String({toString: 1})` throws). */
function opText(op: unknown): string {
  if (typeof op === 'string') return op.slice(0, 200);
  if (op === undefined) return '';
  return (JSON.stringify(op) ?? '').slice(0, 200);
}

function bookDepthOf(topic: string): number {
  const m = /^orderbook\.(\d+)\.[A-Z0-9]+$/.exec(topic);
  return m ? Number(m[1]) : 0;
}
