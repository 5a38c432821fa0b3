// `l2desk book --db FILE [--session ID] [--at TIME] [--depth 10] [--json]`: rebuilds a session's order
// book from storage (as SequencedBook would have seen it live) and prints it at a time, end of session by default.
// --db may be a ClickHouse store (clickhouse://HOST:PORT/DATABASE): the same replay from its session reader.
import type { Level } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { loadConfig } from '../config/loadConfig.ts';
import type { StoredEvent } from '../store/sessionReader.ts';
import type { SessionInfo } from '../store/sessions.ts';
import { eachEvent, openSessionStore, type SessionStore } from '../store/sessionStore.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'print the book rebuilt from storage at a time';

const USAGE = `usage: l2desk book [--db FILE|clickhouse://HOST:PORT/DATABASE] [--session ID] [--at TIME] [--clock receive|exchange] [--depth 10] [--json] [--config FILE]
  --session  session id (default: the latest)
  --at       ms since epoch or an ISO time (default: end of session)
  --clock    which time --at means: receive (default: data received at or before it, our local clock) or exchange
             (book messages the exchange stamped at or before it: its ts, the time to compare with other venues' data;
             imported files carry only the exchange's time, so both clocks agree there)
  --depth    levels per side (default 10)
  A book that is not valid at that time (after a gap, until the next snapshot) is printed as held, with a
  warning on stderr; --json then adds "valid":false and "problem".`;

export interface BookAt {
  session: SessionInfo;
  /** Exchange time of the last applied book message. */
  ts: number;
  valid: boolean;
  /** Why the book is not valid (last gap or ignored reason), empty when valid. */
  problem: string;
  bids: Level[];
  asks: Level[];
}

/** Parses `--at`: an integer is ms since epoch, anything else must be an ISO date-time. */
export function parseAt(text: string): number {
  if (/^\d+$/.test(text.trim())) return Number(text);
  const t = Date.parse(text);
  if (!Number.isFinite(t))
    throw new UsageError(
      `--at must be ms since epoch or an ISO time such as 2026-08-09T10:00:00Z, got "${text}"`,
    );
  return t;
}

export type BookClock = 'receive' | 'exchange';

/** The replay behind bookAt, one event at a time (stores that read synchronously or asynchronously share it). */
class BookReplay {
  private readonly sb: SequencedBook;
  private ts = -1;
  private problem = '';

  constructor(
    private readonly session: SessionInfo,
    private readonly at: number | undefined,
    private readonly clock: BookClock,
  ) {
    this.sb = new SequencedBook(new TickScale(session.tickSize));
  }

  /** What to read: up to `at` on the receive clock; everything on the exchange clock (step() stops it). */
  get readOptions(): { toTs?: number } {
    return this.at !== undefined && this.clock === 'receive' ? { toTs: this.at } : {};
  }

  /** Applies one stored event; false once the replay has gone past `at`. */
  step(ev: StoredEvent): boolean {
    if (ev.kind !== 'book') return true;
    // Book messages arrive in the exchange's time order: the first one stamped after `at` ends the replay.
    if (this.at !== undefined && this.clock === 'exchange' && ev.ts > this.at) return false;
    const r = this.sb.apply(ev);
    if (r.status === 'applied') {
      this.ts = ev.ts;
      if (this.sb.valid) this.problem = '';
    } else if (r.status === 'gap') {
      this.problem = `${r.reason}: ${r.detail}`;
      this.ts = ev.ts;
    }
    return true;
  }

  result(depth: number): BookAt | undefined {
    if (this.ts < 0) return undefined;
    return {
      session: this.session,
      ts: this.ts,
      valid: this.sb.valid,
      problem: this.problem,
      bids: this.sb.book.levels('bid', depth),
      asks: this.sb.book.levels('ask', depth),
    };
  }
}

/** Replays a session of `store` up to `at` (on `clock`) through a SequencedBook and returns the top `depth` levels. */
export async function bookAt(
  store: SessionStore,
  session: SessionInfo,
  at: number | undefined,
  depth: number,
  clock: BookClock = 'receive',
): Promise<BookAt | undefined> {
  const r = new BookReplay(session, at, clock);
  await eachEvent(store.read(session.id, r.readOptions), (ev) => r.step(ev));
  return r.result(depth);
}

function ladder(b: BookAt): string {
  const scale = new TickScale(b.session.tickSize);
  // Prices with the tick's decimals: String() writes a 0.0000001 tick's prices as 1e-7.
  const fmt = (l: Level | undefined) =>
    l ? `${l[0].toFixed(scale.decimals).padStart(14)} ${String(l[1]).padStart(14)}` : ' '.repeat(29);
  const lines = [
    `session ${b.session.id} ${b.session.symbol} (tick ${b.session.tickSize}) at ts ${b.ts} (${new Date(b.ts).toISOString()})`,
  ];
  lines.push(`${'price'.padStart(14)} ${'size'.padStart(14)}`);
  for (const a of [...b.asks].reverse()) lines.push(`${fmt(a)}  ask`);
  const bb = b.bids[0];
  const ba = b.asks[0];
  if (bb && ba) {
    const spreadTicks = scale.toTicks(ba[0]) - scale.toTicks(bb[0]);
    lines.push(
      `${'-'.repeat(14)} spread ${scale.toPrice(spreadTicks).toFixed(scale.decimals)} (${spreadTicks} tick${spreadTicks === 1 ? '' : 's'})`,
    );
  } else lines.push('-'.repeat(29));
  for (const l of b.bids) lines.push(`${fmt(l)}  bid`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['json', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(['db', 'session', 'at', 'clock', 'depth', 'json', 'config', 'help']);
  const config = loadConfig({
    configFile: args.str('config'),
    overrides: args.str('db') ? { db: args.str('db') } : {},
  });
  const depth = args.num('depth') ?? 10;
  if (!Number.isInteger(depth) || depth <= 0) throw new UsageError('--depth must be a positive integer');
  const at = args.str('at') === undefined ? undefined : parseAt(args.req('at'));
  const clock = args.str('clock') ?? 'receive';
  if (clock !== 'receive' && clock !== 'exchange')
    throw new UsageError(`--clock must be receive or exchange, got "${clock}"`);
  const sid = args.num('session');
  const store = await openSessionStore(config.db);
  try {
    const session = await (sid === undefined ? store.latest() : store.get(sid));
    if (!session) {
      console.error(
        sid === undefined ? `no sessions in ${store.name}` : `no session ${sid} in ${store.name}`,
      );
      return 1;
    }
    const b = await bookAt(store, session, at, depth, clock);
    if (!b) {
      console.error(
        `session ${session.id} has no order-book snapshot${at === undefined ? '' : ` ${clock === 'receive' ? 'received' : 'stamped by the exchange'} at or before ${at}`}`,
      );
      return 1;
    }
    if (!b.valid)
      console.error(
        `warning: the book is not valid at this time (${b.problem || 'no snapshot since the last gap'})`,
      );
    // An invalid book (after a gap, until the next snapshot) is printed as held, flagged so a script can tell.
    const flag = b.valid ? {} : { valid: false, problem: b.problem || 'no snapshot since the last gap' };
    if (args.bool('json')) console.log(JSON.stringify({ ts: b.ts, bids: b.bids, asks: b.asks, ...flag }));
    else console.log(ladder(b));
    return 0;
  } finally {
    await store.close();
  }
}
