import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDb } from './appDb.ts';

const CH = 'clickhouse://10.0.0.5:8123/l2desk';
const DATA = path.join(path.sep, 'home', 'me', '.config', 'L2 Desk');

describe('the desktop app’s store', () => {
  it('is the SQLite file in the app’s data folder by default, whatever relative path a config names', () => {
    expect(appDb('data/l2desk.db', undefined, DATA)).toBe(path.join(DATA, 'l2desk.db'));
    expect(appDb('data/l2desk.db', 'relative.db', DATA)).toBe(path.join(DATA, 'l2desk.db'));
  });
  it('is the ClickHouse store a config file names', () => {
    expect(appDb(CH, undefined, DATA)).toBe(CH);
  });
  it('is what L2DESK_DB names when that is an absolute path or a ClickHouse store', () => {
    expect(appDb(CH, '/srv/l2/desk.db', DATA)).toBe('/srv/l2/desk.db');
    expect(appDb('data/l2desk.db', CH, DATA)).toBe(CH);
  });
});
