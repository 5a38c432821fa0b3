// Product text speaks the user's words: no help, config comment, README or doc refers to the system L2 Desk
// replaced ("the seed", its scripts and options), which mean nothing to a user. A random seed is fine.
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

  // docs/cli.md is every command's --help word for word (cliReference.test.ts renders it again from the live CLI and
  // fails on any difference), so the help texts are checked there without starting one process per command again.
  it("every command's --help speaks the user's words", () => {
    const ref = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'cli.md'), 'utf8');
    const top = /```text\n([\s\S]*?)```/.exec(ref)?.[1] ?? '';
    const commands = [...top.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
    expect(commands).toContain('diagnose');
    // Every command the CLI lists has its help there.
    for (const c of commands) expect(ref).toContain(`## l2desk ${c}\n`);
    expect(ref).not.toMatch(FORBIDDEN);
  });
});
