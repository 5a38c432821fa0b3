// The doc test: every `l2desk` command shown in README.md and docs/*.md runs, so that none goes stale. Each
// document's commands run in order in a fresh folder (a walk-through builds on its earlier steps), as a user would
// type them (`npx l2desk …` = bin/l2desk.mjs), with the real recording available under the names the docs use and
// "live Bybit" served by the project's exchange-sim on 127.0.0.1 (through the user config file's bybit.url).
// A command that runs until Ctrl-C (web, exchange-sim, a long live collect) gets Ctrl-C after it has started and must
// not have failed before. A trailing `# exits N` comment on a command states its expected exit code (default 0).
// Addresses are the test's own: `--port N` becomes any free port, ws://127.0.0.1:8765 the test's exchange-sim, and
// clickhouse://127.0.0.1:8123 a ClickHouse server started for the doc (Debian's clickhouse-server; those commands
// are skipped, saying so, where it is not installed). Blocks fenced as ```text are output, never run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { PROJECT_ROOT } from './config/loadConfig.ts';
import { ExchangeSimServer } from './market/exchangeSim/exchangeSimServer.ts';
import { simFeed } from './market/exchangeSim/feeds.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from './store/clickhouse/testServer.ts';
import { writeDocFixtures } from './testing/docFixtures.ts';

export interface DocCommand {
  doc: string;
  line: number;
  args: string[];
  expectExit: number;
}

/** Splits a shell command line into words (single and double quotes; no other shell syntax is used in the docs). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let any = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) words.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (quote) throw new Error(`unclosed quote in: ${line}`);
  if (cur || any) words.push(cur);
  return words;
}

/** The `l2desk` commands in a Markdown text's fenced blocks (`$ ` prompts and `\` continuations allowed). */
export function docCommands(doc: string, text: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = text.split('\n');
  let fence: 'none' | 'run' | 'text' = 'none';
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const open = /^\s*```\s*(\w*)/.exec(raw);
    if (open) {
      fence = fence !== 'none' ? 'none' : open[1] === 'text' ? 'text' : 'run';
      continue;
    }
    if (fence !== 'run') continue;
    const m = /^\s*(?:\$\s+)?(?:npx\s+)?l2desk\s+(.*)$/.exec(raw);
    if (!m) continue;
    let body = m[1];
    const at = i + 1;
    while (body.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      body = body.trimEnd().slice(0, -1) + ' ' + lines[++i].trim();
    }
    const hash = body.search(/\s#\s/);
    const comment = hash >= 0 ? body.slice(hash + 2) : '';
    if (hash >= 0) body = body.slice(0, hash);
    const exits = /exits (\d+)/.exec(comment);
    out.push({ doc, line: at, args: shellWords(body.trim()), expectExit: exits ? Number(exits[1]) : 0 });
  }
  return out;
}

const LONG_RUNNING = new Set(['web', 'exchange-sim']);
/** The document whose commands take longest (about half of all): it runs in a lane of its own. */
const LONGEST_DOC = 'data.md';
/** Least time a long-running command runs before its Ctrl-C, however soon it prints. */
const MIN_RUN_MS = 3000;

/** Whether the command runs until Ctrl-C (or for longer than a test should wait): it is interrupted once started. */
function interrupted(args: string[]): boolean {
  if (LONG_RUNNING.has(args[0])) return true;
  if (args[0] !== 'collect' && args[0] !== 'trade') return false;
  const speedMax = args.includes('max');
  const d = args[args.indexOf('--duration') + 1];
  if (!args.includes('--duration')) return !speedMax || args[0] === 'trade';
  const minutes = /^(\d+)(m)?$/.test(d)
    ? Number.parseInt(d, 10)
    : /^(\d+)h$/.test(d)
      ? Number.parseInt(d, 10) * 60
      : 0;
  return !speedMax && minutes >= 1;
}

function run(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  stopAfterMs: number | null,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'), ...args], {
      cwd,
      env,
    });
    let out = '';
    // A long-running command gets Ctrl-C once it has shown it runs (its first output, then a moment more to get
    // going, never before MIN_RUN_MS), or after stopAfterMs if it prints nothing: no fixed wait per command.
    let stop: NodeJS.Timeout | null = null;
    const stopAt = (ms: number) => {
      if (stop) clearTimeout(stop);
      stop = setTimeout(() => child.kill('SIGINT'), ms);
    };
    const started = Date.now();
    let spoke = false;
    const heard = (d: Buffer) => {
      out += String(d);
      if (stopAfterMs === null || spoke) return;
      spoke = true;
      stopAt(
        Math.min(stopAfterMs, Math.max(MIN_RUN_MS, Date.now() - started + 1500)) - (Date.now() - started),
      );
    };
    child.stdout.on('data', heard);
    child.stderr.on('data', heard);
    const kill = setTimeout(() => child.kill('SIGKILL'), 240_000);
    if (stopAfterMs !== null) stopAt(stopAfterMs);
    child.on('exit', (code) => {
      clearTimeout(kill);
      if (stop) clearTimeout(stop);
      resolve({ code, out });
    });
  });
}

const DOCS = [
  path.join(PROJECT_ROOT, 'README.md'),
  ...(fs.existsSync(path.join(PROJECT_ROOT, 'docs'))
    ? fs
        .readdirSync(path.join(PROJECT_ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => path.join(PROJECT_ROOT, 'docs', f))
    : []),
];

describe('docCommands', () => {
  it('finds commands with prompts, npx, continuations, comments and expected exit codes', () => {
    const md = [
      'text l2desk not-a-command',
      '```sh',
      'npx l2desk collect --source sim --duration 10m   # ten minutes',
      '$ l2desk book --db "my file.db" \\',
      '    --json',
      'npm test',
      'npx l2desk frobnicate   # exits 2',
      '```',
    ].join('\n');
    expect(docCommands('x.md', md)).toEqual([
      { doc: 'x.md', line: 3, args: ['collect', '--source', 'sim', '--duration', '10m'], expectExit: 0 },
      { doc: 'x.md', line: 4, args: ['book', '--db', 'my file.db', '--json'], expectExit: 0 },
      { doc: 'x.md', line: 7, args: ['frobnicate'], expectExit: 2 },
    ]);
  });
});

/** The command as the test runs it: its own ports and servers in place of the documented addresses. */
export function localised(args: string[], exchangePort: number, clickhousePort: number | null): string[] {
  const out = args.map((a, i) => {
    if (args[i - 1] === '--port') return '0';
    let v = a.replaceAll('ws://127.0.0.1:8765', `ws://127.0.0.1:${exchangePort}`);
    if (clickhousePort !== null)
      v = v.replaceAll('clickhouse://127.0.0.1:8123', `clickhouse://127.0.0.1:${clickhousePort}`);
    return v;
  });
  // The UI build is the e2e tests' business (and two builds of out/web at once would race): serve it as it is.
  if (out[0] === 'web' && !out.includes('--no-build')) out.push('--no-build');
  return out;
}

describe('every command in README and docs runs', () => {
  let exchange: ExchangeSimServer;
  let clickhouse: TestServer | null = null;
  beforeAll(async () => {
    // "Live Bybit" lists the symbols the docs use, each on its own tick grid; any other symbol is refused.
    const market = (symbol: string, startPrice: number, tickSize: string, seed: number) =>
      simFeed({ seed, symbol, startPrice, tickSize, levels: 200, bookRateHz: 50, startMs: Date.now() });
    exchange = await ExchangeSimServer.start({
      feed: market('BTCUSDT', 65000, '0.1', 7),
      moreFeeds: [market('ETHUSDT', 3400, '0.01', 8), market('SOLUSDT', 150, '0.001', 9)],
    });
  });
  afterAll(async () => {
    await exchange.close();
    await clickhouse?.stop();
  });

  // Two lanes: the longest document beside all the others, each lane's documents one after another. A third of the
  // time goes to commands that wait for their Ctrl-C, with the processor idle: the lanes fill that time.
  const lanes = [Promise.resolve(), Promise.resolve()];
  for (const doc of DOCS) {
    const commands = docCommands(path.relative(PROJECT_ROOT, doc), fs.readFileSync(doc, 'utf8'));
    if (commands.length === 0) continue;
    const lane = path.basename(doc) === LONGEST_DOC ? 0 : 1;
    const before = lanes[lane];
    let done = () => {};
    lanes[lane] = new Promise<void>((resolve) => (done = resolve));
    it.concurrent(
      `${path.relative(PROJECT_ROOT, doc)}: ${commands.length} commands`,
      async ({ expect }) => {
        await before;
        try {
          await runDoc(doc, commands, expect);
        } finally {
          done();
        }
      },
      600_000,
    );
  }

  async function runDoc(doc: string, commands: DocCommand[], expect: ExpectStatic): Promise<void> {
    const needsClickhouse = commands.some((c) => c.args.some((a) => a.includes('clickhouse://')));
    const chSkip = needsClickhouse ? clickhouseSkipReason() : null;
    if (needsClickhouse && !chSkip && !clickhouse) clickhouse = await startTestServer();
    if (chSkip) console.warn(`${path.relative(PROJECT_ROOT, doc)}: ClickHouse commands not run: ${chSkip}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-doc-'));
    try {
      // A user runs the docs' commands in the checkout: the bundled model is at models/, the example data files
      // beside it. "Live Bybit" is the test's exchange-sim, through the user config file.
      writeDocFixtures(dir);
      fs.cpSync(path.join(PROJECT_ROOT, 'models'), path.join(dir, 'models'), { recursive: true });
      const cfgDir = path.join(dir, 'config', 'l2desk');
      fs.mkdirSync(cfgDir, { recursive: true });
      fs.writeFileSync(path.join(cfgDir, 'config.yaml'), `bybit:\n  url: ${exchange.url}\n`);
      const env = { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), NODE_NO_WARNINGS: '1' };
      const exchangePort = Number(new URL(exchange.url).port);
      for (const c of commands) {
        if (chSkip && c.args.some((a) => a.includes('clickhouse://'))) continue;
        const args = localised(c.args, exchangePort, clickhouse ? clickhouse.httpPort : null);
        // A command shown failing (`# exits N`) fails at once: it is never interrupted.
        const stopAfter = c.expectExit === 0 && interrupted(args) ? 8_000 : null;
        const r = await run(args, dir, env, stopAfter);
        const ok = stopAfter !== null ? r.code === 0 || r.code === 130 : r.code === c.expectExit;
        expect(
          ok,
          `${c.doc}:${c.line} l2desk ${c.args.join(' ')} exited ${r.code}${stopAfter !== null ? ' (interrupted)' : ''}\n${r.out.slice(-2000)}`,
        ).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
