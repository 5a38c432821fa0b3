#!/usr/bin/env node
// `npm start`: build and launch the Electron app; when the Electron binary is missing or cannot start (no display,
// no download on this machine), say so and serve the same UI in the browser instead (`l2desk web`).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronSqliteBinding } from './electronNative.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** The Electron executable, or null. Never `require('electron')`: that would try to download the binary. */
export function electronBinary() {
  const pkg = path.join(root, 'node_modules', 'electron');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  let rel = null;
  try {
    rel = fs.readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim();
  } catch {
    return null;
  }
  const full = override ? path.join(override, rel) : path.join(pkg, 'dist', rel);
  return fs.existsSync(full) ? full : null;
}

function web(reason) {
  console.error(`L2 Desk: ${reason}; serving the same UI in your browser instead (engine in Node).`);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'l2desk.mjs'), 'web', ...args], {
    stdio: 'inherit',
    cwd: root,
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();

function main() {
  const bin = electronBinary();
  if (!bin) web('the Electron binary is not installed (node_modules/electron/dist is missing)');
  else if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    web('no display to open a window on');
  else {
    const build = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
      { stdio: 'inherit', cwd: root },
    );
    let binding = null;
    try {
      binding = electronSqliteBinding(root);
    } catch (e) {
      web(`${e.message}; the desktop app needs it once, with internet`);
    }
    if (!binding) return;
    if (build.status !== 0) web('the Electron build failed');
    else {
      const started = Date.now();
      const child = spawn(bin, [root, ...args], {
        stdio: 'inherit',
        cwd: root,
        env: { ...process.env, L2DESK_SQLITE_BINDING: binding },
      });
      child.on('error', (e) => web(`Electron could not start (${e.message})`));
      child.on('exit', (code, signal) => {
        // A crash within seconds of launch (missing libraries, no GPU/sandbox support) falls back to the browser.
        if (code !== 0 && Date.now() - started < 5000 && signal === null)
          web(`Electron exited with code ${code} at startup`);
        else process.exit(code ?? 0);
      });
    }
  }
}
