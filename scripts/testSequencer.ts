// Starts the longest test files first, so that neither of the two workers is left running one long file alone at
// the end. Vitest does this itself from its cache of earlier durations, but a fresh clone (CI) has no cache, and
// its fallback, larger files first, started the doc test (about 3 minutes, a short file) near the end: the run took
// about 45 s longer there than here. The list names the files measured longest here, longest first; the others
// follow in vitest's own order.
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST_FIRST = [
  'src-main/docs.test.ts',
  'e2e/web.e2e.ts',
  'src-main/cli/trade.test.ts',
  'src-main/cli/clickhouseCommands.test.ts',
  'e2e/layout.e2e.ts',
  'src-main/cli/collect.busy.test.ts',
  'src-main/cli/backtest.walkForward.test.ts',
  'e2e/clickhouse.e2e.ts',
  'src-main/app/retrainFromFeed.test.ts',
  'src-main/app/clickhouseApp.test.ts',
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FIRST.indexOf(
        path.relative(this.ctx.config.root, f.moduleId).split(path.sep).join('/'),
      );
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // A stable sort: files off the list keep vitest's order among themselves.
    return base
      .map((f, k) => ({ f, k, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.k - b.k)
      .map((x) => x.f);
  }
}
