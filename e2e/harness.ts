// Shared by the e2e tests, the UI benchmark and the screenshot script: starts `l2desk web` as a child process
// on a temp database and launches Debian's Chromium through playwright-core (never a downloaded browser).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');
const CLI = path.join(ROOT, 'bin', 'l2desk.mjs');

export interface WebServer {
  url: string;
  wsUrl: string;
  token: string;
  origin: string;
  dir: string;
  db: string;
  proc: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'l2desk-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Stores a simulated session (as fast as possible) so that Retrain and Backtest have minutes of data at once: 40 min,
 * more than training's default minimum of 200 label horizons of 10 s (34 min). */
export function seedSimSession(db: string, duration = '40m'): void {
  const r = spawnSync(
    process.execPath,
    // A fixed random seed: the same simulated path on every test run.
    [
      CLI,
      'collect',
      '--source',
      'sim',
      '--seed',
      '42',
      '--speed',
      'max',
      '--duration',
      duration,
      '--db',
      db,
      '--quiet',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`seeding ${db} failed: ${r.stderr}`);
}

export async function startWeb(
  opts: { dir?: string; args?: string[]; seed?: boolean } = {},
): Promise<WebServer> {
  const dir = opts.dir ?? tempDir();
  const db = path.join(dir, 'l2desk.db');
  if (opts.seed) seedSimSession(db);
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'web',
      '--source',
      'sim',
      '--seed',
      '42',
      '--db',
      db,
      '--port',
      '0',
      '--models',
      path.join(dir, 'models'),
      // The e2e walk-forward trains on 6 min windows: below the default training minimum (34 min of data).
      '--set',
      'train.min_horizons=20',
      ...(opts.args ?? []),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, XDG_CONFIG_HOME: dir },
    },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (out += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`l2desk web did not print its URL in 60 s:\n${out}`)),
      60_000,
    );
    const check = () => {
      const m = /L2 Desk UI: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => reject(new Error(`l2desk web exited with ${code}:\n${out}`)));
  });
  const u = new URL(url);
  const token = u.searchParams.get('token')!;
  return {
    url,
    token,
    origin: u.origin,
    wsUrl: `ws://${u.host}/ws?token=${encodeURIComponent(token)}`,
    dir,
    db,
    proc,
    log: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** The Electron executable when the binary was downloaded, else null (never triggers a download). */
export function electronBinary(): string | null {
  const pkg = path.join(ROOT, 'node_modules', 'electron');
  try {
    const rel = fs.readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim();
    const full = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(pkg, 'dist'), rel);
    return fs.existsSync(full) ? full : null;
  } catch {
    return null;
  }
}
