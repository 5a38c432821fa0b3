// cli.startup: wall time of `l2desk --help` (bin/l2desk.mjs with a fresh compiled build, as users run it) beside
// bare `node -e 0`, interleaved. Goal: ≤ 300 ms. The build is made first so that the bin takes the compiled path.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../src-main/config/loadConfig.ts';
import { emit, median } from './lib/report.ts';

const bin = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'buildCli.mjs')], { stdio: 'ignore' });

function wallMs(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    stdio: 'ignore',
    env: { ...process.env, L2DESK_FROM_SOURCE: '' },
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const cases: Record<string, string[]> = {
  help: [bin, '--help'],
  version: [bin, '--version'],
  node: ['-e', '0'],
};
const times: Record<string, number[]> = { help: [], version: [], node: [] };
const rounds = 15;
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(cases);
  for (let k = 0; k < names.length; k++) {
    const name = names[(r + k) % names.length];
    times[name].push(wallMs(cases[name]));
  }
}
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
emit({
  bench: 'cli.startup',
  value: Math.round(median(times.help)),
  unit: 'ms (l2desk --help, median wall)',
  p90: Math.round(p90(times.help)),
  version_ms: Math.round(median(times.version)),
  peer: 'node -e 0',
  peer_value: Math.round(median(times.node)),
  goal: '<= 300 ms',
  n: rounds,
});
