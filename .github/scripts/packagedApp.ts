// Release-pipeline helper for the packaged desktop app (run with tsx; see .github/workflows/release.yml):
//   locate <releaseDir>          print the packaged executable electron-builder left in release/
//   check-fuses <exe>            fail unless the executable's fuses are exactly those of electron-builder.yml
//   smoke <exe>                  launch the shipped executable as a user would, with ELECTRON_RUN_AS_NODE,
//                                NODE_OPTIONS, --inspect and ELECTRON_RENDERER_URL all set: it must ignore every one
//                                of them and open its database through its own Electron-ABI better-sqlite3
//   test-copy <exe> <destDir>    copy the app with only the --inspect fuse turned back on (Playwright drives Electron
//                                through it) and print the copy's executable
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { fuseFile, fuseMismatches, withFuse } from '../../src-main/electron/fuseWire.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PRODUCT = 'L2 Desk';

function fail(msg: string): never {
  console.error(`packagedApp: ${msg}`);
  process.exit(1);
}

function locate(releaseDir: string): string {
  const candidates: string[] = [];
  if (process.platform === 'linux') candidates.push(path.join(releaseDir, 'linux-unpacked', 'l2desk'));
  if (process.platform === 'win32') candidates.push(path.join(releaseDir, 'win-unpacked', `${PRODUCT}.exe`));
  if (process.platform === 'darwin') {
    for (const d of fs.existsSync(releaseDir) ? fs.readdirSync(releaseDir) : []) {
      if (d.startsWith('mac'))
        candidates.push(path.join(releaseDir, d, `${PRODUCT}.app`, 'Contents', 'MacOS', PRODUCT));
    }
  }
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found)
    fail(`no packaged app in ${releaseDir} (looked for ${candidates.join(', ') || 'nothing on this OS'})`);
  return path.resolve(found);
}

function expectedFuses(): Record<string, unknown> {
  const config = YAML.parse(fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as {
    electronFuses?: Record<string, unknown>;
  };
  if (!config.electronFuses) fail('electron-builder.yml has no electronFuses');
  return config.electronFuses;
}

function checkFuses(exe: string): void {
  const problems = fuseMismatches(fs.readFileSync(fuseFile(exe)), expectedFuses());
  if (problems.length) fail(`fuses of ${exe} differ from electron-builder.yml:\n  ${problems.join('\n  ')}`);
  console.log(`fuses of ${exe} match electron-builder.yml`);
}

/** The folder that is the app: the .app bundle on macOS, the unpacked directory elsewhere. */
function appRoot(exe: string): { root: string; rel: string } {
  const app = /^(.*?\.app)(?:[/\\]|$)/.exec(exe)?.[1];
  const root = app ?? path.dirname(exe);
  return { root, rel: path.relative(root, exe) };
}

function testCopy(exe: string, dest: string): string {
  const { root, rel } = appRoot(exe);
  const target = path.join(dest, path.basename(root));
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  fs.cpSync(root, target, { recursive: true, verbatimSymlinks: true });
  const copy = path.join(target, rel);
  const file = fuseFile(copy);
  fs.writeFileSync(file, withFuse(fs.readFileSync(file), 'enableNodeCliInspectArguments', true));
  if (process.platform === 'darwin') {
    // Changing the framework's bytes breaks its signature; an arm64 Mac refuses to start it unsigned.
    const r = spawnSync(
      'codesign',
      [
        '--sign',
        '-',
        '--force',
        '--deep',
        '--preserve-metadata=entitlements,requirements,flags,runtime',
        target,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) fail(`ad-hoc signing of the test copy failed: ${r.stderr}`);
  }
  const problems = fuseMismatches(fs.readFileSync(file), expectedFuses());
  if (problems.length !== 1 || !problems[0].startsWith('enableNodeCliInspectArguments: on')) {
    fail(`the test copy should differ only by --inspect:\n  ${problems.join('\n  ')}`);
  }
  return copy;
}

const SMOKE_TIMEOUT_MS = 90_000;

async function smoke(exe: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-smoke-'));
  const db = path.join(dir, 'l2desk.db');
  fs.mkdirSync(path.join(dir, 'l2desk'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'l2desk', 'config.yaml'), 'source: sim\n');
  const marker = path.join(dir, 'node-options-ran');
  fs.writeFileSync(
    path.join(dir, 'preload.cjs'),
    `require('fs').writeFileSync(${JSON.stringify(marker)}, '1')`,
  );
  const child = spawn(exe, ['--inspect=0', `--user-data-dir=${path.join(dir, 'user-data')}`], {
    cwd: dir,
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // Each of these would hand the process to someone else if the shipped fuses or checks were missing.
      ELECTRON_RUN_AS_NODE: '1',
      NODE_OPTIONS: `--require ${path.join(dir, 'preload.cjs')}`,
      ELECTRON_RENDERER_URL: 'http://127.0.0.1:9/',
      L2DESK_DB: db,
      XDG_CONFIG_HOME: dir,
    },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const stop = () => {
    if (exited !== undefined || child.pid === undefined) return;
    if (process.platform === 'win32') spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F']);
    else process.kill(-child.pid, 'SIGKILL');
  };
  try {
    const deadline = Date.now() + SMOKE_TIMEOUT_MS;
    let tables = 0;
    while (Date.now() < deadline && exited === undefined) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!fs.existsSync(db)) continue;
      try {
        const read = new Database(db, { readonly: true, fileMustExist: true });
        tables = (
          read.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }
        ).n;
        read.close();
      } catch {
        tables = 0; // being created
      }
      if (tables > 0) break;
    }
    const problems: string[] = [];
    if (exited !== undefined) problems.push(`it exited with code ${exited}`);
    if (tables === 0) problems.push(`it did not create its database in ${SMOKE_TIMEOUT_MS / 1000} s`);
    if (/Debugger listening/.test(out)) problems.push('--inspect was honoured');
    if (fs.existsSync(marker)) problems.push('NODE_OPTIONS was honoured');
    if (!out.includes('ELECTRON_RENDERER_URL is ignored in a packaged app')) {
      problems.push('no notice that ELECTRON_RENDERER_URL was ignored');
    }
    if (problems.length) fail(`smoke test of ${exe}: ${problems.join('; ')}\n--- output ---\n${out}`);
    console.log(
      `smoke test of ${exe}: started, opened SQLite (${tables} tables), ignored run-as-node, NODE_OPTIONS, --inspect and the dev URL`,
    );
  } finally {
    stop();
  }
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'locate' && a) console.log(locate(a));
else if (cmd === 'check-fuses' && a) checkFuses(a);
else if (cmd === 'test-copy' && a && b) console.log(testCopy(a, b));
else if (cmd === 'smoke' && a) await smoke(a);
else
  fail(
    'usage: packagedApp.ts locate <releaseDir> | check-fuses <exe> | smoke <exe> | test-copy <exe> <destDir>',
  );
