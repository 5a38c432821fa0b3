// `l2desk collect`: stores L2 updates, trades and gaps from a live (bybit) or simulated (sim) source into
// SQLite through the batched SessionWriter (or a ClickHouse store: --db clickhouse://HOST:PORT/DATABASE), with a
// progress line and a clean stop on Ctrl-C / SIGTERM.
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { createSource } from '../market/createSource.ts';
import { openClickHouse, type ClickHouseStore } from '../store/clickhouse/connection.ts';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { openDb, type Db } from '../store/db.ts';
import { pruneRawData } from '../store/retention.ts';
import { SessionRecorder, type RecordResult, type RecorderOptions } from '../store/sessionRecorder.ts';
import { Args, UsageError } from './args.ts';
import { safeText } from './safeText.ts';
import { CLEAR_LINE, writeControl } from './terminalGuard.ts';
import { seedNote } from '../market/sim/simSeed.ts';

export const summary = 'collect L2 updates and trades into SQLite or ClickHouse (bybit or sim)';

const USAGE = `usage: l2desk collect [--source bybit|sim] [--symbol BTCUSDT] [--category linear|spot] [--depth 50]
                      [--duration 60m] [--db FILE|clickhouse://HOST:PORT/DATABASE] [--url WS_URL] [--speed max|N] [--seed N] [--sim-params FILE] [--config FILE] [--set key=value] [--quiet]
  --duration  how long to collect: 90s, 60m, 2h; a bare number is minutes (default 60m).
              With --source sim it is simulated time: --speed max stores it as fast as possible.`;

const KNOWN = [
  'set',
  'source',
  'symbol',
  'category',
  'depth',
  'duration',
  'db',
  'url',
  'speed',
  'seed',
  'sim-params',
  'config',
  'quiet',
  'help',
];
const MAX_WARNINGS_SHOWN = 20;

/** `control.signal` lets an embedding caller (tests, the app) stop the collection as Ctrl-C would. */
export async function run(argv: string[], control: { signal?: AbortSignal } = {}): Promise<number> {
  const args = Args.of(argv, ['quiet', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const overrides: Record<string, unknown> = {};
  for (const k of ['source', 'symbol', 'category', 'db'] as const)
    if (args.str(k) !== undefined) overrides[k] = args.str(k);
  if (args.str('depth') !== undefined) overrides.depth = args.num('depth');
  if (args.str('url') !== undefined) overrides['bybit.url'] = args.str('url');
  if (args.str('seed') !== undefined) overrides['sim.seed'] = args.num('seed');
  if (args.str('sim-params') !== undefined) overrides['sim.params_file'] = args.str('sim-params');
  if (args.str('speed') !== undefined)
    overrides['sim.speed'] = args.str('speed') === 'max' ? 'max' : args.num('speed');
  // A dedicated flag wins over the same key given with --set.
  const config = loadConfig({ configFile: args.str('config'), overrides: { ...args.sets(), ...overrides } });
  if (config.source === 'replay')
    throw new UsageError('collect records a live or simulated market: --source bybit or --source sim');
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

  // A ClickHouse store is chosen by its URL; anything else is an SQLite file.
  const ch: ClickHouseStore | null = isClickHouseUrl(config.db) ? await openClickHouse(config.db) : null;
  const db: Db | null = ch ? null : openDb(config.db);
  if (ch && config.store.retention_days > 0 && !quiet)
    process.stderr.write(
      'note: store.retention_days is not applied to a ClickHouse store (prune it on the server)\n',
    );
  if (db && config.store.retention_days > 0) {
    // Retention runs where data arrives, so a long-lived collector keeps the file bounded without a cron job.
    const r = pruneRawData(db, { days: config.store.retention_days, now: Date.now() });
    if (r.l2Deleted + r.tradesDeleted > 0 && !quiet)
      process.stderr.write(
        `retention: pruned ${r.l2Deleted} L2 updates and ${r.tradesDeleted} trades older than ${config.store.retention_days} days\n`,
      );
  }
  const source = createSource(config, { url: args.str('url'), durationMs: isSim ? durationMs : undefined });
  // The path's random seed, even with --quiet: without it a simulated session cannot be repeated.
  if (source.seed !== undefined) process.stderr.write(`${seedNote(source.seed)}\n`);
  const tty = Boolean(process.stderr.isTTY);
  const clearLine = () => {
    if (tty && !quiet) writeControl(process.stderr, CLEAR_LINE);
  };
  const recorderOptions: RecorderOptions = {
    durationMs,
    // The simulator's clock is simulated time: stop after --duration of it, at any speed.
    clock: isSim ? 'message' : 'wall',
    depth: config.depth,
    batchIntervalMs: config.store.batch_interval,
    busyGiveUpMs: config.store.busy_give_up,
    busyBufferBytes: config.store.busy_buffer_mb * 2 ** 20,
    meta: isSim ? { seed: source.seed, speed } : { url: args.str('url') ?? config.bybit.url },
    onWarning: (text) => {
      const n = recorder.progress().warnings;
      // Source text (topics, ret_msg) is escaped: one warning stays one line, and cannot drive the terminal.
      if (n <= MAX_WARNINGS_SHOWN) {
        clearLine();
        process.stderr.write(`warning: ${safeText(text)}\n`);
      } else if (n === MAX_WARNINGS_SHOWN + 1) {
        clearLine();
        process.stderr.write('(further warnings are counted, not shown)\n');
      }
    },
    // Information, not a problem (where the tick size came from): a note, hidden by --quiet like the progress line.
    onNotice: (text) => {
      if (quiet) return;
      clearLine();
      process.stderr.write(`note: ${safeText(text)}\n`);
    },
  };
  let recorder: SessionRecorder;
  try {
    recorder = ch
      ? await SessionRecorder.toClickHouse(ch, source, recorderOptions)
      : new SessionRecorder(db as Db, source, recorderOptions);
  } catch (e) {
    await ch?.close();
    throw e;
  }

  let lastCount = 0;
  let lastTick = Date.now();
  const progress = setInterval(() => {
    if (quiet) return;
    const p = recorder.progress();
    const now = Date.now();
    const rate = ((p.messages - lastCount) * 1000) / Math.max(1, now - lastTick);
    lastCount = p.messages;
    lastTick = now;
    const clock = isSim
      ? `${formatDuration(p.elapsedMs)} sim ${formatDuration(p.dataSpanMs)}/${formatDuration(durationMs)}`
      : `${formatDuration(p.elapsedMs)}/${formatDuration(durationMs)}`;
    // Stored counts; while the database is locked, what waits in memory is shown beside them.
    const held =
      p.storeBusySince !== null
        ? ` (${p.buffered} held in memory: ${ch ? 'ClickHouse unavailable' : 'database locked'} ${formatDuration(now - p.storeBusySince)})`
        : '';
    const line = `collect ${source.instrument.symbol} ${clock} messages ${p.messages}${held} (${Math.round(rate)}/s) gaps ${p.gaps} ${p.state}`;
    if (tty) writeControl(process.stderr, CLEAR_LINE);
    process.stderr.write(tty ? line : `${line}\n`);
  }, 1000);
  const onSignal = (sig: NodeJS.Signals) => void recorder.stop(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const onAbort = () => void recorder.stop('aborted');
  if (control.signal?.aborted) onAbort();
  control.signal?.addEventListener('abort', onAbort);

  let result: RecordResult;
  try {
    await recorder.start().catch(() => undefined); // a start failure is reported through the result
    result = await recorder.finished;
  } finally {
    clearInterval(progress);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    control.signal?.removeEventListener('abort', onAbort);
    clearLine();
    db?.close();
    await ch?.close();
  }
  const wallS = result.elapsedMs / 1000;
  if (result.error) console.error(`collect stopped: ${safeText(result.error.message)}`);
  console.log(
    `session ${result.sessionId}: ${config.source} ${source.instrument.symbol} depth ${config.depth}; ` +
      `${result.messages} messages (${result.bookMessages} book, ${result.tradeMessages} trade messages, ${result.trades} trades), ` +
      `${result.gaps} gap${result.gaps === 1 ? '' : 's'}; ${formatDuration(result.elapsedMs)} wall` +
      `${isSim ? `, ${formatDuration(result.dataSpanMs)} simulated` : ''}, ${Math.round(result.messages / Math.max(wallS, 1e-3))} messages/s; ` +
      `stopped: ${result.stopReason}; ${ch ? `store ${ch.name}` : `file ${config.db}`}`,
  );
  // The counts above are what the file holds; what arrived and could not be stored is said apart, with why.
  if (result.notStored)
    console.error(
      `not stored: ${result.notStored.messages} of ${result.received} messages received (${safeText(result.notStored.reason)})`,
    );
  // A live collection whose whole --duration brought nothing stored nothing: say why and fail for scripts, as
  // `trade` does (Ctrl-C stays 0: the user stopped it).
  const noData = !isSim && result.messages === 0 && result.stopReason === 'duration reached';
  if (noData)
    console.error(
      `no market data received from the ${config.source} source in ${formatDuration(result.elapsedMs)}: ` +
        'the exchange was not reachable (see the warnings above) or sent nothing',
    );
  return result.error || noData ? 1 : 0;
}
