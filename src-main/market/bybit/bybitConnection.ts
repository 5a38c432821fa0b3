// One Bybit v5 public WebSocket shared by the BybitSource of each symbol on it: connect, subscribe every
// member's topics (split to the category's per-request limit), heartbeat, half-open and stale detection,
// reconnect with jittered backoff, and routing of each frame to its symbol. A refused subscription (an
// unknown symbol, a symbol of the other category) is fatal: no retry can fix it, so the connection stops.
import WebSocket from 'ws';
import type { Category, FeedHealth, GapReason } from '../../../src-shared/market.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { parseFrame, PING_REQUEST, subscribeRequests, type ParsedFrame } from './protocol.ts';
import { isRefusal, SubscriptionRefusedError, symbolOfTopic, topicsNamedIn } from './subscriptionRefused.ts';

export interface ConnectionOptions {
  url: string;
  category: Category;
  pingIntervalMs: number;
  staleTimeoutMs: number;
  reconnect: BackoffPolicy;
  maxFrameBytes: number;
  now: () => number;
  random: () => number;
}

/** What the connection needs of a symbol's source (BybitSource). */
export interface ConnectionMember {
  readonly symbol: string;
  readonly depth: number;
  /** Its topics: the book's and the trades'. */
  readonly topics: readonly string[];
  /** Runs before the first connect (instrument info); never rejects. */
  prepare(): Promise<void>;
  /** A socket opened and its subscriptions were sent. */
  connected(t: number): void;
  /** A frame too large for the socket closed it (which symbol's is unknown): the stream is broken. */
  oversizedFrame(detail: string): void;
  /** A book, trades or oversize frame for this symbol. */
  frame(f: Extract<ParsedFrame, { type: 'book' | 'trades' | 'oversize' }>, recvTs: number): void;
  /** Called on every heartbeat tick: a text when this symbol's feed proves the socket dead, else null. */
  tick(t: number, awaitingPong: boolean): string | null;
  /** The socket is gone (a reconnect follows unless stopped): distrust the book. */
  lost(reason: GapReason, detail: string): void;
  setState(state: FeedHealth['state']): void;
  /** A frame this connection could not use (counted and said on the member that reports the connection). */
  problem(kind: 'malformed' | 'unknown', text: string): void;
  warn(text: string): void;
  /** Emits the health counters (at most about once a second). */
  healthTick(recvTs: number): void;
  /** The subscription was refused: the feed has stopped for good. */
  refused(error: SubscriptionRefusedError): void;
}

export class BybitConnection {
  private readonly members: ConnectionMember[] = [];
  /** Members that called start() and not stop(). */
  private readonly running = new Set<ConnectionMember>();
  private ws: WebSocket | null = null;
  private stopped = true;
  private attempt = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private lastPingTs = 0;
  private awaitingPongSince: number | null = null;
  /** Subscribe requests of the current socket not answered yet, by req_id, with their topics. */
  private readonly pending = new Map<string, readonly string[]>();
  private nextReqId = 1;
  private subscribedOnce = false;
  private startPromise: Promise<void> | null = null;
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** Set once a subscription was refused: the connection will not come back. */
  private failure: SubscriptionRefusedError | null = null;

  constructor(private readonly opts: ConnectionOptions) {}

  get url(): string {
    return this.opts.url;
  }

  get category(): Category {
    return this.opts.category;
  }

  add(member: ConnectionMember): void {
    if (this.members.some((m) => m.symbol === member.symbol))
      throw new Error(`${member.symbol} is listed twice on one connection`);
    this.members.push(member);
  }

  /** The member that reports what concerns the whole connection (reconnects, unroutable frames). */
  private get reporter(): ConnectionMember {
    return this.members[0];
  }

  /**
   * Starts the connection for `member` (once for all). Resolves when every member's subscriptions are
   * acknowledged; rejects with a SubscriptionRefusedError when one is refused. It keeps retrying until then.
   */
  start(member: ConnectionMember): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.running.add(member);
    if (this.startPromise) return this.subscribedOnce ? Promise.resolve() : this.startPromise;
    this.stopped = false;
    this.attempt = 0;
    this.subscribedOnce = false;
    this.startPromise = new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    // A stop (or a restart that already connected) while asking leaves nothing to do here.
    void Promise.all(this.members.map((m) => m.prepare())).then(
      () => !this.stopped && !this.ws && this.connect(),
    );
    return this.startPromise;
  }

  /** Stops `member`; the socket closes once no member runs. */
  async stop(member: ConnectionMember): Promise<void> {
    this.running.delete(member);
    if (this.running.size > 0 || this.stopped) return;
    await this.shutDown();
  }

  private async shutDown(): Promise<void> {
    this.stopped = true;
    this.startPromise = null;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    this.dropSocket();
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 500);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'client stop');
      });
    }
    for (const m of this.members) m.setState('stopped');
    this.startWaiter?.resolve();
    this.startWaiter = null;
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends (un)subscribe requests for `topics` on the open socket; false when there is none. */
  send(topics: readonly string[], op: 'subscribe' | 'unsubscribe'): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    for (const r of subscribeRequests(this.opts.category, topics, op)) ws.send(r);
    return true;
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.stopped) return;
    for (const m of this.members) m.setState(this.attempt > 0 ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url, {
        handshakeTimeout: Math.max(1000, this.opts.staleTimeoutMs),
        perMessageDeflate: false,
        // ws's default (100 MiB) let one frame stall the event loop for seconds: refused before it is buffered.
        maxPayload: this.opts.maxFrameBytes,
      });
    } catch (e) {
      // A malformed URL never heals: report it instead of retrying forever.
      const err = new Error(`cannot connect to ${this.opts.url}: ${(e as Error).message}`);
      this.stopped = true;
      this.startPromise = null;
      for (const m of this.members) m.setState('stopped');
      this.reporter.warn(err.message);
      this.startWaiter?.reject(err);
      this.startWaiter = null;
      return;
    }
    this.ws = ws;
    ws.on('open', () => {
      if (ws !== this.ws) return;
      const t = this.now();
      this.lastPingTs = t;
      this.awaitingPongSince = null;
      for (const m of this.members) m.connected(t);
      // One request per chunk of topics (spot takes at most 10 per request), each with its own req_id so that a
      // refusal is traced to its topics even when the exchange's text does not name them.
      this.pending.clear();
      const topics = this.members.flatMap((m) => m.topics);
      for (const r of subscribeRequests(this.opts.category, topics)) {
        const req = JSON.parse(r) as { op: string; args: string[] };
        const reqId = `l2desk-${this.nextReqId++}`;
        this.pending.set(reqId, req.args);
        ws.send(JSON.stringify({ req_id: reqId, ...req }));
      }
      const period = Math.max(10, Math.min(this.opts.pingIntervalMs, this.opts.staleTimeoutMs) / 4);
      this.tickTimer = setInterval(() => this.onTick(ws), period);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (ws !== this.ws) return;
      const text = isBinary
        ? ''
        : Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : data.toString();
      this.onFrame(text);
    });
    ws.on('error', (err: Error) => {
      if (ws !== this.ws) return;
      if ((err as Error & { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws closes the socket (1009) on an oversized frame: the rest of the stream is lost, so resync.
        const detail = `frame larger than ${this.opts.maxFrameBytes} bytes refused (bybit.max_frame_bytes)`;
        for (const m of this.members) m.oversizedFrame(detail);
        this.lostConnection('oversize', `${detail}: connection dropped`);
        return;
      }
      this.lostConnection('disconnect', `socket error: ${err.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws !== this.ws) return;
      this.lostConnection(
        'disconnect',
        `socket closed (code ${code}${reason.length ? `, ${reason.toString()}` : ''})`,
      );
    });
  }

  private now(): number {
    return this.opts.now();
  }

  private onTick(ws: WebSocket): void {
    if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
    const t = this.now();
    const stale = this.opts.staleTimeoutMs;
    if (this.awaitingPongSince !== null && t - this.awaitingPongSince > stale) {
      this.lostConnection('stale', `no pong within ${t - this.awaitingPongSince} ms (half-open connection)`);
      return;
    }
    for (const m of this.members) {
      const dead = m.tick(t, this.awaitingPongSince !== null);
      if (dead !== null) {
        this.lostConnection('stale', dead);
        return;
      }
      if (ws !== this.ws) return;
    }
    if (t - this.lastPingTs >= this.opts.pingIntervalMs) {
      this.lastPingTs = t;
      if (this.awaitingPongSince === null) this.awaitingPongSince = t;
      ws.send(PING_REQUEST);
    }
  }

  private onFrame(text: string): void {
    const recvTs = this.now();
    const f = parseFrame(text, recvTs);
    switch (f.type) {
      case 'book':
      case 'trades':
      case 'oversize': {
        const symbol = f.type === 'oversize' ? f.symbol : f.msg.symbol;
        const m = this.members.find((x) => x.symbol === symbol);
        if (m) m.frame(f, recvTs);
        else if (f.type === 'trades')
          this.reporter.problem('unknown', `trades for an unsubscribed symbol ${symbol}`);
        else {
          const depth = f.type === 'oversize' ? f.depth : f.msg.depth;
          this.reporter.problem('unknown', `book message for unexpected topic orderbook.${depth}.${symbol}`);
        }
        break;
      }
      case 'pong':
        this.awaitingPongSince = null;
        break;
      case 'subscribe':
        this.onSubscribeReply(f, text);
        break;
      case 'unknown':
        this.reporter.problem('unknown', f.reason);
        break;
      case 'malformed':
        this.reporter.problem('malformed', f.reason);
        break;
    }
    for (const m of this.members) m.healthTick(recvTs);
  }

  private onSubscribeReply(f: Extract<ParsedFrame, { type: 'subscribe' }>, text: string): void {
    const reqId = replyReqId(text);
    const asked = reqId !== null ? this.pending.get(reqId) : undefined;
    // A reply to one of this socket's subscribe requests: by its req_id, or (a server that echoes none) the oldest.
    let answered: readonly string[] | undefined = asked;
    if (f.op === 'subscribe' && !answered && this.pending.size > 0 && reqId === null) {
      const first = this.pending.keys().next().value as string;
      answered = this.pending.get(first);
      this.pending.delete(first);
    } else if (asked) this.pending.delete(reqId as string);
    if (!f.success) {
      const ours = new Set(this.members.flatMap((m) => m.topics));
      const named = topicsNamedIn(f.retMsg).filter((t) => ours.has(t));
      const refusedTopics = named.length > 0 ? named : f.op === 'subscribe' ? [...(answered ?? [])] : [];
      if (f.op === 'subscribe' && refusedTopics.length > 0 && isRefusal(f.retMsg)) {
        const symbols = [...new Set(refusedTopics.map(symbolOfTopic))];
        return this.fail(new SubscriptionRefusedError(symbols, this.opts.category, f.retMsg));
      }
      // Not tied to our topics (or "already subscribed"): counted and said, the stale timer still guards the feed.
      this.reporter.problem('unknown', `${f.op} failed: ${f.retMsg || '(no message)'}`);
    }
    if (f.op === 'subscribe' && answered && this.pending.size === 0 && !this.subscribedOnce) {
      this.subscribedOnce = true;
      for (const m of this.members) m.setState('subscribed');
      this.startWaiter?.resolve();
      this.startWaiter = null;
    } else if (f.op === 'subscribe' && answered && this.pending.size === 0) {
      for (const m of this.members) m.setState('subscribed');
    }
  }

  /** A refused subscription: no retry can fix it, so the feed stops and says why. */
  private fail(error: SubscriptionRefusedError): void {
    if (this.failure) return;
    this.failure = error;
    const waiter = this.startWaiter;
    this.startWaiter = null;
    this.running.clear();
    void this.shutDown();
    for (const m of this.members) m.refused(error);
    waiter?.reject(error);
  }

  private lostConnection(reason: GapReason, detail: string): void {
    this.dropSocket();
    if (this.stopped) return;
    for (const m of this.members) m.lost(reason, detail);
    const delay = backoffDelay(this.attempt++, this.opts.reconnect, this.opts.random);
    for (const m of this.members) m.setState('reconnecting');
    this.reporter.warn(`${detail}; reconnecting in ${Math.round(delay)} ms`);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** The first snapshot after a (re)connect arrived: the next outage starts its backoff afresh. */
  resetBackoff(): void {
    this.attempt = 0;
  }

  private dropSocket(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    const ws = this.ws;
    this.ws = null;
    this.awaitingPongSince = null;
    this.pending.clear();
    if (ws && !this.stopped) {
      ws.removeAllListeners('message');
      ws.on('error', () => {}); // late errors of a socket we gave up on are expected
      ws.terminate();
    }
  }
}

/** The req_id a reply echoes, if any (Bybit echoes the request's). */
function replyReqId(text: string): string | null {
  try {
    const o = JSON.parse(text) as { req_id?: unknown };
    return typeof o.req_id === 'string' && o.req_id !== '' ? o.req_id : null;
  } catch {
    return null;
  }
}
