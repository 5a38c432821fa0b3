// Headless commands of L2 Desk. Each command lives in src-main/cli/<name>.ts and exports
// `run(argv): Promise<number>` (the exit code) and a one-line `summary`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installTerminalGuard } from './cli/terminalGuard.ts';

/** Each command's one-line summary for `l2desk --help`, kept here so that help loads no command (equal to each module's `summary`: cli.test.ts). */
export const COMMANDS = {
  collect: 'collect L2 updates and trades into SQLite or ClickHouse (bybit or sim)',
  import:
    'import Bybit v5 order-book/trade JSON lines or Tardis.dev book CSVs (plain, .gz, .zip) as sessions; --trades merges a trade CSV',
  book: 'print the book rebuilt from storage at a time',
  export: 'write stored sessions as Parquet files (book updates, trades, gaps, features)',
  db: 'database maintenance: `db check`, `db prune`, `db quality`',
  'exchange-sim':
    'serve a Bybit-compatible WebSocket on 127.0.0.1 (simulator or stored session), with faults',
  train: 'train a model on stored data and export ONNX',
  predictions: 'prediction histogram and signal counts per threshold',
  diagnose: "explain why there are or aren't signals (model, data, threshold)",
  trade: 'paper-trade a model live (--paper), on bybit, sim or a replay',
  backtest: 'replay a stored session through the engine and report',
  runs: 'list stored paper/backtest runs, show one, re-render its report',
  models: 'the model registry: trained models, the champion in use, retraining decisions',
  sim: 'simulated market: `sim calibrate` compares a stored session with the simulator and fits it',
  web: 'serve the workstation UI in a browser with the engine in Node',
} as const;

export type CommandName = keyof typeof COMMANDS;

type CommandModule = { run: (argv: string[]) => Promise<number> };

/**
 * One static import per command: the compiled CLI (scripts/buildCli.mjs) splits each into its own chunk, so
 * `l2desk --help` loads none of them and a command loads only what it uses.
 */
const LOADERS: Record<CommandName, () => Promise<CommandModule>> = {
  collect: () => import('./cli/collect.ts'),
  import: () => import('./cli/import.ts'),
  book: () => import('./cli/book.ts'),
  export: () => import('./cli/export.ts'),
  db: () => import('./cli/db.ts'),
  'exchange-sim': () => import('./cli/exchange-sim.ts'),
  train: () => import('./cli/train.ts'),
  predictions: () => import('./cli/predictions.ts'),
  diagnose: () => import('./cli/diagnose.ts'),
  trade: () => import('./cli/trade.ts'),
  backtest: () => import('./cli/backtest.ts'),
  runs: () => import('./cli/runs.ts'),
  models: () => import('./cli/models.ts'),
  sim: () => import('./cli/sim.ts'),
  web: () => import('./cli/web.ts'),
};

/** The version in package.json, found by walking up from this module (sources: src-main/, compiled: out/cli/). */
function packageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'l2desk' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: keep walking up
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(14)} ${v}`);
  return `usage: l2desk <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nl2desk <command> --help for a command's options; l2desk --version for the version`;
}

/**
 * `l2desk … | head`: once the reader is gone a write fails with EPIPE, emitted as an 'error' event that, unhandled,
 * crashes the command mid-run (a collection's session left open, a run unfinished). Drop that output instead: the
 * command runs on to its --duration or Ctrl-C and stops cleanly.
 */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr])
    if (!stream.listeners('error').includes(onPipeError)) stream.on('error', onPipeError);
}
function onPipeError(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EPIPE') throw e;
}

export async function main(argv: string[]): Promise<number> {
  ignoreClosedPipes();
  // Whatever a command prints, control characters from outside text are escaped (see cli/terminalGuard.ts).
  installTerminalGuard();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(`l2desk ${packageVersion()}`);
    return 0;
  }
  // Own keys only: `l2desk toString` is an unknown command, not Object.prototype's.
  if (!Object.hasOwn(COMMANDS, name)) {
    console.error(`l2desk: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const refusal = (await import('./cli/storeSupport.ts')).clickHouseRefusal(name, rest);
    if (refusal) {
      console.error(`l2desk ${name}: ${refusal}`);
      return 2;
    }
    const mod = await LOADERS[name as CommandName]();
    return await mod.run(rest);
  } catch (e) {
    // Loaded here, not at the top, so that `l2desk --help` does not load zod and yaml (the command has them already).
    const [{ UsageError }, { ConfigError }, { ClickHouseUrlError }] = await Promise.all([
      import('./cli/args.ts'),
      import('../src-shared/config.ts'),
      import('./store/clickhouse/url.ts'),
    ]);
    // A malformed --db address is mistyped input like a bad flag value: usage, not a failure of the command.
    if (e instanceof UsageError || e instanceof ConfigError || e instanceof ClickHouseUrlError) {
      console.error(`l2desk ${name}: ${e.message}`);
      return 2;
    }
    console.error(`l2desk ${name}: ${(e as Error).message ?? String(e)}`);
    if (process.env.L2DESK_DEBUG) console.error(e);
    return 1;
  }
}
