// Market-data contracts shared by every stage and the renderer: parsed Bybit v5 messages and instruments.
// Prices and sizes are numbers parsed once on ingest; the order book converts prices to integer ticks.

export type Category = 'linear' | 'spot';
export type Side = 'Buy' | 'Sell';
export type SourceKind = 'bybit' | 'sim' | 'replay';

/** A price level as [price, size]; size 0 in a delta deletes the level. */
export type Level = readonly [price: number, size: number];

export interface Instrument {
  symbol: string;
  category: Category;
  /** Tick size as a decimal string ("0.1", "0.0001", "0.5"): strings keep it exact. */
  tickSize: string;
  /** Order quantity step from the exchange's instrument info, when it answered; else inferred from sizes. */
  qtyStep?: string;
  /** Minimum order value in the quote currency (instrument info), when known. */
  minNotional?: string;
}

/** One parsed `orderbook.{depth}.{symbol}` message. */
export interface BookMessage {
  kind: 'book';
  type: 'snapshot' | 'delta';
  symbol: string;
  depth: number;
  /** Exchange time of the message (ms since epoch), Bybit `ts`. */
  ts: number;
  /** Matching-engine time (ms), Bybit `cts`; 0 when absent. */
  cts: number;
  /** Local receive time (ms since epoch), stamped by the source. */
  recvTs: number;
  /** Update id, Bybit `data.u`: consecutive on deltas; 1 on a snapshot means the service restarted. */
  u: number;
  /** Cross-sequence, Bybit `data.seq`: orders book updates against trades. 0 when absent. */
  seq: number;
  bids: Level[];
  asks: Level[];
}

export interface Trade {
  /** Fill time (ms), Bybit `T`. */
  ts: number;
  side: Side;
  price: number;
  size: number;
  id: string;
  /** Block trade, Bybit `BT`. */
  blockTrade: boolean;
  seq: number;
}

/** One parsed `publicTrade.{symbol}` message. */
export interface TradeMessage {
  kind: 'trades';
  symbol: string;
  ts: number;
  recvTs: number;
  trades: Trade[];
}

export type MarketMessage = BookMessage | TradeMessage;

export type GapReason =
  | 'sequence' // non-consecutive u on a delta
  | 'restart' // snapshot with u = 1
  | 'disconnect' // socket closed or errored
  | 'stale' // no data or no pong within the stale timeout (half-open)
  | 'crossed' // best bid >= best ask after an update
  | 'resubscribe' // book invalidated while waiting for a fresh snapshot
  | 'oversize' // a frame above bybit.max_frame_bytes (the connection is dropped) or more levels than the depth
  | 'implausible'; // a value outside the plausibility limits (price band, size cap, clock skew): refused

/** A span of time during which the stored or live book cannot be trusted. */
export interface Gap {
  symbol: string;
  reason: GapReason;
  /** Local time the fault was detected (ms). */
  startTs: number;
  /** Local time a valid snapshot restored the book (ms); null while open. */
  endTs: number | null;
  detail: string;
}

export type ConnectionState = 'idle' | 'connecting' | 'subscribed' | 'reconnecting' | 'stopped';

/** Counters every source reports, shown in the status bar and stored with the session. */
export interface FeedHealth {
  state: ConnectionState;
  messages: number;
  malformed: number;
  unknown: number;
  gaps: number;
  reconnects: number;
  /** recvTs - ts of the latest book message (ms). */
  latencyMs: number;
}
