// `l2desk web`: the workstation UI in a browser, with the engine in this Node process. Serves the built renderer
// and the WebSocket bridge on 127.0.0.1 only, and prints the one URL to open (with the per-run token).
import path from 'node:path';
import { isClickHouseUrl } from '../store/clickhouse/url.ts';
import { createApp } from '../app/createApp.ts';
import { startWsBridge } from '../bridge/wsBridge.ts';
import { buildRenderer, ensureRenderer } from '../bridge/rendererBuild.ts';
import { loadConfig, PROJECT_ROOT } from '../config/loadConfig.ts';
import { Args, UsageError } from './args.ts';
import { resolveSimSeed, seedNote } from '../market/sim/simSeed.ts';

export const summary = 'serve the workstation UI in a browser with the engine in Node';

const HELP = `usage: l2desk web [--port N] [--source sim|bybit] [--db FILE|clickhouse://HOST:PORT/DATABASE] [--symbol SYM] [--seed N] [--sim-params FILE] [--config FILE] [--set key=value]...
  Serves the UI on http://127.0.0.1:PORT (loopback only) and prints the URL to open, token included.
  --port N        port to listen on (default ui.port; 0 = any free port)
  --source S      market source: sim (offline, simulated) or bybit (live public data)
  --db FILE       SQLite database for collected sessions (default: config db), or a ClickHouse store
                  (clickhouse://HOST:PORT/DATABASE): sessions and runs there; the feed kept for live retraining
                  in l2desk-feed.db beside the models folder
  --seed N        sim: repeat the market path of this random seed (default: a fresh one for this run, printed)
  --sim-params F  sim: simulator parameters fitted by \`l2desk sim calibrate --write F\`
  --models DIR    where retrained models are written (default: models/ beside the database; for a
                  ClickHouse store, data/models in the working directory, beside the default database's)
  --no-build      serve out/web as it is, even if the sources are newer
  --build-only    build the UI into out/web and exit
  --no-start      do not start the feed until the user presses Start`;

/**
 * Where retrained models go unless --models says: models/ beside an SQLite database; for a ClickHouse store, which is
 * no folder, data/models here, where the default database's models go (never the bundled models/ of a checkout).
 */
export function defaultModelsDir(db: string, cwd = process.cwd()): string {
  return isClickHouseUrl(db)
    ? path.resolve(cwd, 'data', 'models')
    : path.join(path.dirname(path.resolve(cwd, db)), 'models');
}

export async function run(argv: string[]): Promise<number> {
  const a = Args.of(argv, ['no-build', 'no-start', 'build-only', 'help']);
  if (a.bool('help')) {
    console.log(HELP);
    return 0;
  }
  a.rejectUnknown([
    'port',
    'source',
    'db',
    'symbol',
    'seed',
    'sim-params',
    'config',
    'set',
    'models',
    'no-build',
    'no-start',
    'build-only',
    'help',
  ]);
  if (a.bool('build-only')) {
    console.log(`built ${await buildRenderer(PROJECT_ROOT, (s) => console.error(s))}`);
    return 0;
  }
  const overrides: Record<string, unknown> = {};
  const source = a.str('source');
  if (source !== undefined) {
    if (source !== 'sim' && source !== 'bybit')
      throw new UsageError(
        `--source must be sim or bybit, got "${source}" (replay a stored session from the UI)`,
      );
    overrides.source = source;
  }
  if (a.str('db')) overrides.db = a.str('db');
  if (a.str('symbol')) overrides.symbol = a.str('symbol');
  if (a.num('port') !== undefined) overrides['ui.port'] = a.num('port');
  if (a.str('seed') !== undefined) overrides['sim.seed'] = a.num('seed');
  if (a.str('sim-params') !== undefined) overrides['sim.params_file'] = a.str('sim-params');
  const loaded = loadConfig({ configFile: a.str('config'), overrides: { ...a.sets(), ...overrides } });
  // One random seed for this run's simulated market (every feed the UI starts repeats it), printed to repeat it.
  const seed = resolveSimSeed(loaded.sim.seed);
  const config = { ...loaded, sim: { ...loaded.sim, seed } };
  // On a live feed the seed matters only once the user switches the source to the simulator: said so.
  if (loaded.sim.seed === null)
    console.error(
      config.source === 'sim'
        ? seedNote(seed)
        : `${seedNote(seed)}, if the source is switched to the simulator`,
    );

  const staticDir = a.bool('no-build')
    ? path.join(PROJECT_ROOT, 'out', 'web')
    : await ensureRenderer(PROJECT_ROOT, (s) => console.error(s));
  const clickhouse = isClickHouseUrl(config.db);
  const modelsDir = a.str('models') ?? defaultModelsDir(config.db);
  const ctx = await createApp({ config, modelsDir });
  let bridge;
  try {
    bridge = await startWsBridge({ port: config.ui.port, dispatch: ctx.dispatch, bus: ctx.bus, staticDir });
  } catch (e) {
    await ctx.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UsageError(
        `port ${config.ui.port} on 127.0.0.1 is in use: choose another with --port N (0 = any free port)`,
      );
    throw e;
  }
  console.log(`L2 Desk UI: ${bridge.url}`);
  console.error(
    `source ${config.source} · db ${clickhouse ? config.db : path.resolve(config.db)} · Ctrl+C to stop`,
  );
  if (!a.bool('no-start')) void ctx.service.startLive();
  ctx.service.startAutoRetrain();

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.error('stopping…');
  await bridge.close();
  await ctx.close();
  return 0;
}
