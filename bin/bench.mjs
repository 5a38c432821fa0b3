#!/usr/bin/env node
// Runs every bench/*.bench.ts in turn through tsx, forwarding their JSON lines (stdout) and notes (stderr).
// `npm run bench -- book` runs only the benchmarks whose file name contains "book". Each runs with --expose-gc
// (benches collect garbage between cases); a bench that exits non-zero (a missing peer, a failed check) makes this
// exit 1 after the others have run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const tsxCli = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const filters = process.argv.slice(2);

const files = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`bench: no bench/*.bench.ts matches ${filters.join(' ') || '(any)'}`);
  process.exit(2);
}

const failed = [];
for (const f of files) {
  process.stderr.write(`bench: ${f}\n`);
  const r = spawnSync(process.execPath, [tsxCli, '--expose-gc', path.join(benchDir, f)], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) failed.push(`${f} (${r.signal ?? `exit ${r.status}`})`);
}
if (failed.length) {
  console.error(`bench: failed: ${failed.join(', ')}`);
  process.exit(1);
}
