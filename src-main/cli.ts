// Headless commands of L2 Desk. Each command lives in src-main/cli/<name>.ts and exports
// `run(argv): Promise<number>` (the exit code) and a one-line `summary`.
import { ConfigError } from '../src-shared/config.ts';
import { UsageError } from './cli/args.ts';

const COMMANDS = {
  collect: 'collect L2 updates and trades into SQLite (bybit or sim)',
  import: 'import Bybit v5 order-book/trade JSON lines (plain, .gz, .zip) as a session',
  book: 'print the book rebuilt from storage at a time',
  db: 'database maintenance: `db check`, `db prune`, `db quality`',
  'exchange-sim':
    'serve a Bybit-compatible WebSocket on 127.0.0.1 (simulator or stored session), with faults',
  train: 'train a model on stored data and export ONNX',
  predictions: "prediction histogram and signal counts per threshold (the seed's check_predictions.py)",
  diagnose: "explain why there are or aren't signals (the seed's diagnose_signals.py)",
  trade: 'paper-trade a model live (--paper), on bybit, sim or a replay',
  backtest: 'replay a stored session through the engine and report',
  runs: 'list stored paper/backtest runs, show one, re-render its report',
  web: 'serve the workstation UI in a browser with the engine in Node',
} as const;

export type CommandName = keyof typeof COMMANDS;

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(14)} ${v}`);
  return `usage: l2desk <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nl2desk <command> --help for a command's options`;
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
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (!(name in COMMANDS)) {
    console.error(`l2desk: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = (await import(`./cli/${name}.ts`)) as { run: (argv: string[]) => Promise<number> };
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      console.error(`l2desk ${name}: ${e.message}`);
      return 2;
    }
    console.error(`l2desk ${name}: ${(e as Error).message ?? String(e)}`);
    if (process.env.L2DESK_DEBUG) console.error(e);
    return 1;
  }
}
