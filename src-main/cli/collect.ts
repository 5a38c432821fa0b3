// `l2desk collect`: stores L2 updates, trades and gaps from a live (bybit) or simulated (sim) source into
// SQLite through the batched SessionWriter, with a progress line and a clean stop on Ctrl-C / SIGTERM.
import type { Gap, MarketMessage } from '../../src-shared/market.ts';
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import { inferTickSize } from '../book/tickScale.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { createSource } from '../market/createSource.ts';
import { openDb } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession, updateSessionMeta } from '../store/sessions.ts';
import { Args, UsageError } from './args.ts';

export const summary = 'collect L2 updates and trades into SQLite (bybit or sim)';

const USAGE = `usage: l2desk collect [--source bybit|sim] [--symbol BTCUSDT] [--category linear|spot] [--depth 50]
                      [--duration 60m] [--db FILE] [--url WS_URL] [--speed max|N] [--seed N] [--config FILE] [--quiet]
  --duration  how long to collect: 90s, 60m, 2h; a bare number is minutes (default 60m).
              With --source sim it is simulated time: --speed max stores it as fast as possible.`;

const KNOWN = ['source', 'symbol', 'category', 'depth', 'duration', 'db', 'url', 'speed', 'seed', 'config', 'quiet', 'help'];
const MAX_WARNINGS_SHOWN = 20;

export async function run(argv: string[]): Promise<number> {
  const args = Args.of(argv, ['quiet', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const overrides: Record<string, unknown> = {};
  for (const k of ['source', 'symbol', 'category', 'db'] as const) if (args.str(k) !== undefined) overrides[k] = args.str(k);
  if (args.str('depth') !== undefined) overrides.depth = args.num('depth');
  if (args.str('url') !== undefined) overrides['bybit.url'] = args.str('url');
  if (args.str('seed') !== undefined) overrides['sim.seed'] = args.num('seed');
  if (args.str('speed') !== undefined) overrides['sim.speed'] = args.str('speed') === 'max' ? 'max' : args.num('speed');
  const config = loadConfig({ configFile: args.str('config'), overrides });
  if (config.source === 'replay') throw new UsageError('collect records a live or simulated market: --source bybit or --source sim');
  let durationMs: number;
  try {
    durationMs = parseDuration(args.str('duration') ?? '60m', 'm');
  } catch (e) {
    throw new UsageError(`--duration: ${(e as Error).message}`);
  }
  if (!(durationMs > 0)) throw new UsageError('--duration must be positive');
  const quiet = args.bool('quiet');
  const isSim = config.source === 'sim';
  const speed = config.sim.speed;

  const db = openDb(config.db);
  const source = createSource(config, { url: args.str('url'), durationMs: isSim ? durationMs : undefined });
  let tickSize = source.instrument.tickSize;
  const sessionId = createSession(db, {
    source: config.source,
    symbol: source.instrument.symbol,
    category: source.instrument.category,
    depth: config.depth,
    tickSize: tickSize || '',
    startedAt: Date.now(),
    meta: isSim ? { seed: config.sim.seed, speed, durationMs } : { url: args.str('url') ?? config.bybit.url, durationMs },
  });
  let writeError: Error | undefined;
  const writer = new SessionWriter(db, sessionId, {
    batchIntervalMs: config.store.batch_interval,
    onError: (e) => {
      writeError = e;
      finish('write error');
    },
  });

  const wallStart = Date.now();
  let messages = 0;
  let trades = 0;
  let gaps = 0;
  let warnings = 0;
  let firstRecv = -1;
  let lastRecv = -1;
  let stopReason = '';
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  function finish(reason: string): void {
    if (stopReason) return;
    stopReason = reason;
    resolveDone();
  }

  source.on('message', (m: MarketMessage) => {
    if (stopReason) return;
    if (firstRecv < 0) firstRecv = m.recvTs;
    // The simulator's clock is simulated time: stop after --duration of it, at any speed.
    if (isSim && m.recvTs - firstRecv >= durationMs) {
      finish('duration reached');
      return;
    }
    lastRecv = m.recvTs;
    if (!tickSize && m.kind === 'book' && m.type === 'snapshot') {
      tickSize = inferTickSize([...m.bids, ...m.asks].map((l) => String(l[0])));
      db.prepare('UPDATE sessions SET tick_size = ? WHERE id = ?').run(tickSize, sessionId);
    }
    try {
      writer.writeMessage(m);
    } catch (e) {
      writeError = e as Error;
      finish('write error');
      return;
    }
    messages++;
    if (m.kind === 'trades') trades += m.trades.length;
  });
  source.on('gap', (g: Gap) => {
    if (stopReason) return;
    if (g.endTs === null) gaps++;
    try {
      writer.writeGap(g);
    } catch (e) {
      writeError = e as Error;
      finish('write error');
    }
  });
  source.on('warning', (text: string) => {
    warnings++;
    if (warnings <= MAX_WARNINGS_SHOWN) process.stderr.write(`${clearLine()}warning: ${text}\n`);
    else if (warnings === MAX_WARNINGS_SHOWN + 1) process.stderr.write(`${clearLine()}(further warnings are counted, not shown)\n`);
  });

  const tty = Boolean(process.stderr.isTTY);
  function clearLine(): string {
    return tty && !quiet ? '\r\x1b[K' : '';
  }
  let lastCount = 0;
  let lastTick = wallStart;
  const progress = setInterval(() => {
    if (quiet) return;
    const now = Date.now();
    const rate = ((messages - lastCount) * 1000) / Math.max(1, now - lastTick);
    lastCount = messages;
    lastTick = now;
    const simPart = isSim && firstRecv >= 0 ? ` sim ${formatDuration(lastRecv - firstRecv)}/${formatDuration(durationMs)}` : '';
    const line =
      `collect ${source.instrument.symbol} ${formatDuration(now - wallStart)}${isSim ? '' : `/${formatDuration(durationMs)}`}${simPart}` +
      ` messages ${messages} (${Math.round(rate)}/s) gaps ${gaps} state ${source.health().state}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  }, 1000);
  const wallTimer = isSim ? undefined : setTimeout(() => finish('duration reached'), durationMs);
  const onSignal = (sig: NodeJS.Signals) => finish(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    if (isSim && 'done' in source && typeof source.done === 'function') {
      void (source.done as () => Promise<void>)().then(() => finish('source finished'));
    }
    await source.start();
    await done;
  } catch (e) {
    writeError ??= e as Error;
  } finally {
    clearInterval(progress);
    if (wallTimer) clearTimeout(wallTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await source.stop();
    } catch (e) {
      process.stderr.write(`${clearLine()}warning: stopping the source: ${(e as Error).message}\n`);
    }
  }
  if (tty && !quiet) process.stderr.write('\r\x1b[K');
  let exit = 0;
  try {
    writer.close();
    updateSessionMeta(db, sessionId, { health: source.health(), stopReason, warnings });
  } catch (e) {
    writeError ??= e as Error;
  }
  const st = writer.stats();
  db.close();
  const wallS = (Date.now() - wallStart) / 1000;
  if (writeError) {
    console.error(`collect stopped: ${writeError.message}`);
    exit = 1;
  }
  console.log(
    `session ${sessionId}: ${config.source} ${source.instrument.symbol} depth ${config.depth}; ` +
      `${messages} messages (${st.bookMessages} book, ${st.tradeMessages} trade messages, ${trades} trades), ${gaps} gap${gaps === 1 ? '' : 's'}; ` +
      `${formatDuration(wallS * 1000)} wall${isSim && lastRecv >= firstRecv && firstRecv >= 0 ? `, ${formatDuration(lastRecv - firstRecv)} simulated` : ''}` +
      `, ${Math.round(messages / Math.max(wallS, 1e-3))} messages/s; stopped: ${stopReason}; file ${config.db}`,
  );
  return exit;
}
