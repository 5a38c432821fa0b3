#!/usr/bin/env node
// Compiles the headless CLI (src-main/cli.ts and the worker entries it starts) to JavaScript in out/cli/, so that
// `l2desk` runs without transpiling TypeScript at start. Each command is its own chunk (see LOADERS in cli.ts):
// `l2desk --help` loads a few kB. Packages stay external (native modules, onnxruntime, vite for web mode).
// bin/l2desk.mjs runs this build when it is newer than every source file, else the sources through tsx.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// `--outdir DIR` builds elsewhere (the test of the compiled CLI does, so that it never races a running CLI).
const at = process.argv.indexOf('--outdir');
const outdir =
  at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : path.join(root, 'out', 'cli');
const started = Date.now();

fs.rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'src-main/cli.ts',
    // Started with new URL('./trainerWorker.js' | './backtestWorker.js' | './sessionPrefetchWorker.js' |
    // './openSessionRowsWorker.js', import.meta.url) from their chunks.
    trainerWorker: 'src-main/model/trainerWorker.ts',
    backtestWorker: 'src-main/backtest/backtestWorker.ts',
    sessionPrefetchWorker: 'src-main/store/sessionPrefetchWorker.ts',
    openSessionRowsWorker: 'src-main/model/openSessionRowsWorker.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  // Flat: the worker entries must sit beside the chunks that start them.
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
});
fs.writeFileSync(path.join(outdir, 'package.json'), '{ "type": "module" }\n');
// The stamp is written last: a build cut short is never taken for a fresh one.
fs.writeFileSync(path.join(outdir, 'BUILD_STAMP'), `${new Date().toISOString()}\n`);
console.error(
  `l2desk: compiled the CLI to ${path.relative(root, outdir) || outdir} in ${Date.now() - started} ms`,
);
