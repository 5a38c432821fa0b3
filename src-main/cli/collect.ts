// `l2desk collect`: stores L2 updates, trades and gaps from a live (bybit) or simulated (sim) source into a store (an
// SQLite file through the batched SessionWriter, or ClickHouse: --db clickhouse://HOST:PORT/DATABASE), with a
// progress line, retention as it goes (store.retention_days) and a clean stop on Ctrl-C / SIGTERM.
import { formatDuration, parseDuration } from '../../src-shared/duration.ts';
import { parseSymbolList } from '../../src-shared/inputRules.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import type { SubscriptionRefusedError } from '../market/bybit/subscriptionRefused.ts';
import { createBybitSources, createSource } from '../market/createSource.ts';
import { awaitSubscribed, HeldSource, type Subscribing } from '../market/heldSource.ts';
import type { MarketSource } from '../market/source.ts';
import { prunedText, pruneFailedText, scheduleRetention } from '../store/retentionSchedule.ts';
import type { RecordResult, RecorderOptions, SessionRecorder } from '../store/sessionRecorder.ts';
import { openSessionStore } from '../store/sessionStore.ts';
import { Args, UsageError } from './args.ts';
import { safeText } from './safeText.ts';
import { CLEAR_LINE, writeControl } from './terminalGuard.ts';
import { seedNote } from '../market/sim/simSeed.ts';

export const summary = 'collect L2 updates and trades into SQLite or ClickHouse (bybit or sim)';

const USAGE = `usage: l2desk collect [--source bybit|sim] [--symbol BTCUSDT[,ETHUSDT,...]] [--category linear|spot] [--depth 50]
                      [--duration 60m] [--db FILE|clickhouse://HOST:PORT/DATABASE] [--url WS_URL] [--speed max|N] [--seed N] [--sim-params FILE] [--config FILE] [--set key=value] [--quiet]
  --symbol    the symbol to collect, or several separated by commas (--source bybit): BTCUSDT,ETHUSDT,SOLUSDT
              are collected over one connection into one session each, each with its own tick size, sequence
              checks and gaps; the subscribe requests are split to the exchange's per-request limit (spot: 10 topics).
              A symbol the exchange refuses (unknown, or not listed on --category) stops the command at once
              with exit code 1 and stores nothing; the sessions are created only once every subscription is accepted.
  --duration  how long to collect: 90s, 60m, 2h; a bare number is minutes (default 60m).
              With --source sim it is simulated time: --speed max stores it as fast as possible.
`;

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

/** `--symbol A,B,C`: upper-case symbols, each once; undefined when the flag is absent. */
export function parseSymbols(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSymbolList(text, '--symbol');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `control.signal` lets an embedding caller (tests, the app) stop the collection as Ctrl-C would. */
export async function run(argv: string[], control: { signal?: AbortSignal } = {}): Promise<number> {
  const args = Args.of(argv, ['quiet', 'help']);
  if (args.bool('help')) {
    console.log(USAGE);
    return 0;
  }
  args.rejectUnknown(KNOWN);
  const symbolArg = parseSymbols(args.str('symbol'));
  const overrides: Record<string, unknown> = {};
  for (const k of ['source', 'category', 'db'] as const)
    if (args.str(k) !== undefined) overrides[k] = args.str(k);
  if (symbolArg) overrides.symbol = symbolArg[0];
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
  const symbols = symbolArg ?? [config.symbol];
  if (symbols.length > 1 && config.source !== 'bybit')
    throw new UsageError(
      `several symbols (--symbol ${symbols.join(',')}) are collected from a live feed (--source bybit) over one connection; ` +
        'the simulator makes one market: run one collect per symbol',
    );
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
  const multi = symbols.length > 1;
  const tty = Boolean(process.stderr.isTTY);
  const clearLine = () => {
    if (tty && !quiet) writeControl(process.stderr, CLEAR_LINE);
  };

  // A ClickHouse store is chosen by its URL; anything else is an SQLite file.
  const store = await openSessionStore(config.db, { mustExist: false });
  const onClickHouse = store.kind === 'clickhouse';
  // Retention runs where data arrives, at the start and then as the recording goes, so a long-lived collector keeps
  // the store bounded without a cron job.
  const days = config.store.retention_days;
  // One prune at the start, before anything is recorded, then one per interval. A prune that fails (the database
  // locked, a ClickHouse login without the right to drop partitions) costs a warning, never the recording.
  const retention =
    days > 0
      ? scheduleRetention(store, {
          days,
          onPruned: (r) => {
            const said = prunedText(r, days);
            if (!said || quiet) return;
            clearLine();
            process.stderr.write(`${said}\n`);
          },
          onError: (e) => {
            clearLine();
            process.stderr.write(`warning: ${safeText(pruneFailedText(e))}\n`);
          },
        })
      : null;
  const closeStores = async () => {
    await retention?.stop();
    await store.close();
  };
  await retention?.runNow();
  const sourceOpts = { url: args.str('url'), durationMs: isSim ? durationMs : undefined };
  const raw: MarketSource[] = multi
    ? createBybitSources(config, symbols, sourceOpts)
    : [createSource(config, sourceOpts)];
  // The path's random seed, even with --quiet: without it a simulated session cannot be repeated.
  for (const s of raw) if (s.seed !== undefined) process.stderr.write(`${seedNote(s.seed)}\n`);
  let warningsSeen = 0;
  let refusal: SubscriptionRefusedError | null = null;
  // With several symbols, each line says whose it is (the connection's own troubles come under the first symbol).
  const tag = (sym: string, text: string) => (multi && !text.includes(sym) ? `${sym}: ${text}` : text);
  const printWarning = (sym: string, text: string) => {
    if (refusal && text === refusal.message) return; // said once, as the reason the collection stopped
    const n = ++warningsSeen;
    // Source text (topics, ret_msg) is escaped: one warning stays one line, and cannot drive the terminal.
    if (n <= MAX_WARNINGS_SHOWN) {
      clearLine();
      process.stderr.write(`warning: ${safeText(tag(sym, text))}\n`);
    } else if (n === MAX_WARNINGS_SHOWN + 1) {
      clearLine();
      process.stderr.write('(further warnings are counted, not shown)\n');
    }
  };
  // Information, not a problem (where the tick size came from): a note, hidden by --quiet like the progress line.
  const printNotice = (sym: string, text: string) => {
    if (quiet) return;
    clearLine();
    process.stderr.write(`note: ${safeText(tag(sym, text))}\n`);
  };

  // One stop for everything: before the sessions exist it ends the wait for the subscriptions; after, every recorder.
  const recorders: SessionRecorder[] = [];
  let stopAsked: string | null = null;
  let earlyStop: (reason: string) => void = () => {};
  const early = new Promise<string>((r) => (earlyStop = r));
  const stopAll = (reason: string) => {
    stopAsked ??= reason;
    earlyStop(reason);
    for (const r of recorders) void r.stop(reason);
  };
  const onSignal = (sig: NodeJS.Signals) => stopAll(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const onAbort = () => stopAll('aborted');
  if (control.signal?.aborted) onAbort();
  control.signal?.addEventListener('abort', onAbort);
  const detach = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    control.signal?.removeEventListener('abort', onAbort);
  };
  // A refusal after the start (a resubscription refused) ends the whole collection with its message.
  for (const s of raw)
    if (s instanceof BybitSource)
      s.onRefused((e) => {
        refusal ??= e;
        stopAll('source failed');
      });

  // A live feed is started first, and the sessions are created only once the exchange has accepted every
  // subscription: a refused symbol (unknown, or of the other category) fails at once and stores nothing. What
  // arrives meanwhile (the first snapshot) is held and handed to the recorders.
  let sources: MarketSource[] = raw;
  if (!isSim) {
    const held = raw.map((s) => new HeldSource(s));
    const printers = held.map((h) => {
      const sym = h.instrument.symbol;
      const w = (t: string) => printWarning(sym, t);
      const n = (t: string) => printNotice(sym, t);
      h.on('warning', w);
      h.on('notice', n);
      return () => {
        h.off('warning', w);
        h.off('notice', n);
      };
    });
    const t0 = Date.now();
    const subscribed = await awaitSubscribed(held, durationMs, early);
    // A refusal also asks for a stop: it is the reason, whichever came first.
    const outcome: Subscribing = refusal ? { kind: 'failed', error: refusal } : subscribed;
    for (const p of printers) p();
    if (outcome.kind !== 'subscribed') {
      detach();
      await Promise.all(raw.map((s) => s.stop().catch(() => undefined)));
      await closeStores();
      if (outcome.kind === 'failed') {
        console.error(`collect: ${safeText(outcome.error.message)}; nothing was stored`);
        return 1;
      }
      // The exchange never accepted the subscriptions: nothing was received, so no session was made.
      const waited = formatDuration(Date.now() - t0);
      if (outcome.reason !== 'duration reached') {
        console.error(
          `collect stopped (${outcome.reason}) before the exchange accepted the subscriptions: nothing was stored`,
        );
        return 0;
      }
      console.error(
        `no market data received from the ${config.source} source in ${waited}: ` +
          'the exchange was not reachable (see the warnings above) or sent nothing; nothing was stored',
      );
      return 1;
    }
    sources = held;
  }

  const recorderOptions = (sym: string, source: MarketSource): RecorderOptions => ({
    durationMs,
    // The simulator's clock is simulated time: stop after --duration of it, at any speed.
    clock: isSim ? 'message' : 'wall',
    depth: config.depth,
    batchIntervalMs: config.store.batch_interval,
    busyGiveUpMs: config.store.busy_give_up,
    busyBufferBytes: config.store.busy_buffer_mb * 2 ** 20,
    meta: isSim
      ? { seed: source.seed, speed }
      : { url: args.str('url') ?? config.bybit.url, ...(multi ? { symbols } : {}) },
    onWarning: (text) => printWarning(sym, text),
    onNotice: (text) => printNotice(sym, text),
  });
  try {
    for (const source of sources) {
      const sym = source.instrument.symbol;
      recorders.push(await store.record(source, recorderOptions(sym, source)));
    }
  } catch (e) {
    detach();
    await Promise.all(raw.map((s) => s.stop().catch(() => undefined)));
    await Promise.all(recorders.map((r) => r.stop('write error')));
    await closeStores();
    throw e;
  }
  for (const s of sources) if (s instanceof HeldSource) s.release();
  // A stop asked while subscribing (or a refusal) applies to the recorders now that they exist.
  if (stopAsked) for (const r of recorders) void r.stop(stopAsked);

  const label = symbols.join(',');
  let lastCount = 0;
  let lastTick = Date.now();
  const progress = setInterval(() => {
    if (quiet) return;
    const ps = recorders.map((r) => r.progress());
    const p = ps[0];
    const messages = ps.reduce((a, x) => a + x.messages, 0);
    const buffered = ps.reduce((a, x) => a + x.buffered, 0);
    const gaps = ps.reduce((a, x) => a + x.gaps, 0);
    const busySince = ps.find((x) => x.storeBusySince !== null)?.storeBusySince ?? null;
    const now = Date.now();
    const rate = ((messages - lastCount) * 1000) / Math.max(1, now - lastTick);
    lastCount = messages;
    lastTick = now;
    const clock = isSim
      ? `${formatDuration(p.elapsedMs)} sim ${formatDuration(p.dataSpanMs)}/${formatDuration(durationMs)}`
      : `${formatDuration(p.elapsedMs)}/${formatDuration(durationMs)}`;
    // Stored counts; while the database is locked, what waits in memory is shown beside them.
    const held =
      busySince !== null
        ? ` (${buffered} held in memory: ${onClickHouse ? 'ClickHouse unavailable' : 'database locked'} ${formatDuration(now - busySince)})`
        : '';
    const line = `collect ${label} ${clock} messages ${messages}${held} (${Math.round(rate)}/s) gaps ${gaps} ${p.state}`;
    if (tty) writeControl(process.stderr, CLEAR_LINE);
    process.stderr.write(tty ? line : `${line}\n`);
  }, 1000);

  let results: RecordResult[];
  try {
    results = await Promise.all(
      recorders.map(async (r) => {
        // A start failure is reported through the result; a stop asked meanwhile has already ended the recording.
        if (!stopAsked) await r.start().catch(() => undefined);
        const res = await r.finished;
        // One symbol's store failing ends the others too: the sessions cover the same span.
        if (res.error) stopAll(res.stopReason);
        return res;
      }),
    );
  } finally {
    clearInterval(progress);
    detach();
    clearLine();
    await closeStores();
  }
  for (const [i, result] of results.entries()) {
    const sym = sources[i].instrument.symbol;
    const wallS = result.elapsedMs / 1000;
    if (result.error) console.error(`collect stopped: ${safeText(result.error.message)}`);
    console.log(
      `session ${result.sessionId}: ${config.source} ${sym} depth ${config.depth}; ` +
        `${result.messages} messages (${result.bookMessages} book, ${result.tradeMessages} trade messages, ${result.trades} trades), ` +
        `${result.gaps} gap${result.gaps === 1 ? '' : 's'}; ${formatDuration(result.elapsedMs)} wall` +
        `${isSim ? `, ${formatDuration(result.dataSpanMs)} simulated` : ''}, ${Math.round(result.messages / Math.max(wallS, 1e-3))} messages/s; ` +
        `stopped: ${result.stopReason}; ${onClickHouse ? 'store' : 'file'} ${store.name}`,
    );
    // The counts above are what the file holds; what arrived and could not be stored is said apart, with why.
    if (result.notStored)
      console.error(
        `not stored: ${result.notStored.messages} of ${result.received} messages received (${safeText(result.notStored.reason)})`,
      );
  }
  const failed: SubscriptionRefusedError | null = refusal;
  if (failed) console.error(`collect stopped: ${safeText((failed as Error).message)}`);
  // A live collection whose whole --duration brought nothing stored nothing: say why and fail for scripts, as
  // `trade` does (Ctrl-C stays 0: the user stopped it).
  const total = results.reduce((a, r) => a + r.messages, 0);
  const noData = !isSim && total === 0 && results.every((r) => r.stopReason === 'duration reached');
  if (noData)
    console.error(
      `no market data received from the ${config.source} source in ${formatDuration(results[0].elapsedMs)}: ` +
        'the exchange was not reachable (see the warnings above) or sent nothing',
    );
  return results.some((r) => r.error) || failed || noData ? 1 : 0;
}
