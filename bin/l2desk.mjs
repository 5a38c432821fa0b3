#!/usr/bin/env node
// Entry point of the headless CLI. Runs the compiled JavaScript in out/cli/ (made by `npm install`/`npm run build:cli`,
// scripts/buildCli.mjs) when it is at least as new as every source file; in a developer checkout with edited
// sources it runs the TypeScript through tsx instead, so a stale build is never what runs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'out', 'cli', 'cli.js');

/** Newest modification time (ms) of the .ts sources under the given folders; stops early past `limit`. */
function newestSource(dirs, limit) {
  let newest = 0;
  const stack = dirs.map((d) => path.join(root, d));
  while (stack.length) {
    const dir = stack.pop();
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (/\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.test.ts')) {
        const t = fs.statSync(p).mtimeMs;
        if (t > newest) newest = t;
        if (newest > limit) return newest;
      }
    }
  }
  return newest;
}

function compiledIsFresh() {
  if (process.env.L2DESK_FROM_SOURCE === '1') return false;
  let stamp;
  try {
    stamp = fs.statSync(path.join(root, 'out', 'cli', 'BUILD_STAMP')).mtimeMs;
  } catch {
    return false;
  }
  // A packaged install ships no sources: the build is all there is.
  if (!fs.existsSync(path.join(root, 'src-main'))) return true;
  return newestSource(['src-main', 'src-shared'], stamp) <= stamp;
}

let main;
if (compiledIsFresh()) {
  ({ main } = await import(pathToFileURL(compiled).href));
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('l2desk: the compiled CLI is missing or older than the sources; run `npm run build:cli`.');
    process.exit(1);
  }
  register();
  ({ main } = await import(pathToFileURL(path.join(root, 'src-main', 'cli.ts')).href));
}
process.exitCode = await main(process.argv.slice(2));
