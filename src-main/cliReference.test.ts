// docs/cli.md is the CLI's own --help, word for word: a flag added or reworded without `npm run docs:cli` fails here.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { CLI_REFERENCE, renderCliReference } from '../scripts/cliReference.mjs';

describe('docs/cli.md', () => {
  it('is what the commands print for --help now (refresh with npm run docs:cli)', () => {
    const expected = (renderCliReference as () => string)();
    expect(expected).toMatch(/## l2desk collect\n/);
    expect(fs.readFileSync(CLI_REFERENCE as string, 'utf8')).toBe(expected);
  }, 180_000);
});
