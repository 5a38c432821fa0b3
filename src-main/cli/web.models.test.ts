import path from 'node:path';
import { expect, it } from 'vitest';
import { defaultModelsDir } from './web.ts';

it('puts retrained models beside an SQLite database, and in data/models for a ClickHouse store', () => {
  const cwd = path.join(path.sep, 'home', 'me', 'desk');
  expect(defaultModelsDir('data/l2desk.db', cwd)).toBe(path.join(cwd, 'data', 'models'));
  expect(defaultModelsDir('/srv/l2/x.db', cwd)).toBe(path.join(path.sep, 'srv', 'l2', 'models'));
  // Not a folder named "clickhouse:" here, and never the checkout's bundled models/.
  expect(defaultModelsDir('clickhouse://127.0.0.1:8123/l2desk', cwd)).toBe(path.join(cwd, 'data', 'models'));
});
