// Product text speaks the user's words: no help, config comment, README or doc refers to the system L2 Desk
// replaced ("the seed", its scripts and options), which mean nothing to a user. A random seed is fine.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './config/loadConfig.ts';

const FORBIDDEN =
  /\bseed(?:'s| system)|\bthe seed\b(?! (?:is|of|N|value|number|it|printed|used|given))|check_predictions\.py|diagnose_signals\.py|optuna|main\.py/i;

function textFiles(dir: string, ext: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => ext.test(f))
    .map((f) => path.join(dir, f));
}

describe('product text', () => {
  it('README, docs, the default config and the renderer never mention the system L2 Desk replaced', () => {
    const files = [
      path.join(PROJECT_ROOT, 'README.md'),
      path.join(PROJECT_ROOT, 'resources', 'config.yaml'),
      ...textFiles(path.join(PROJECT_ROOT, 'docs'), /\.md$/),
      ...textFiles(path.join(PROJECT_ROOT, 'src-renderer'), /\.tsx?$/),
    ];
    const hits = files.flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `${path.relative(PROJECT_ROOT, f)}:${i + 1}`, line }))
        .filter((l) => FORBIDDEN.test(l.line)),
    );
    expect(hits).toEqual([]);
  });

  it("every command's --help speaks the user's words", () => {
    const bin = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
    const top = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(top.status).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
    expect(commands).toContain('diagnose');
    for (const text of [
      top.stdout,
      ...commands.map((c) => spawnSync(process.execPath, [bin, c, '--help'], { encoding: 'utf8' }).stdout),
    ])
      expect(text).not.toMatch(FORBIDDEN);
  }, 120_000);
});
