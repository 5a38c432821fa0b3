import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../app/createApp.ts';
import { main } from '../cli.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';
import { clickHouseRefusal, dbArgument } from './storeSupport.ts';

const CH = 'clickhouse://127.0.0.1:8123/l2desk';

describe('ClickHouse --db support per command', () => {
  it('finds --db in each spelling', () => {
    expect(dbArgument(['--db', CH])).toBe(CH);
    expect(dbArgument([`--db=${CH}`])).toBe(CH);
    expect(dbArgument(['--set', `db=${CH}`])).toBe(CH);
    expect(dbArgument(['--db', 'a.db', '--db', CH])).toBe(CH);
    expect(dbArgument(['--session', '3'])).toBeUndefined();
  });

  it.each([
    ['collect', ['--db', CH, '--source', 'sim']],
    ['book', ['--json', '--db', CH]],
    ['db', ['check', '--db', CH]],
    ['db', ['--db', CH, 'check', '--json']],
    ['backtest', ['--db', CH, '--no-record']],
    ['train', ['--db', 'data/l2desk.db']],
    ['train', ['--db', CH]],
    ['import', [`--db=${CH}`, 'x.zip']],
    ['db', ['quality', '--db', CH]],
    ['db', ['--db', CH, 'prune']],
    ['runs', ['--set', `db=${CH}`]],
    ['runs', ['show', '3', '--db', CH]],
    ['predictions', ['--db', CH]],
    ['diagnose', ['--db', CH, '--json']],
    ['web', ['--db', CH]],
    ['trade', ['--paper', `--db=${CH}`]],
    ['sim', ['calibrate', '--db', CH]],
    ['exchange-sim', ['--session', '1', `--db=${CH}`]],
  ])('lets %s %j through', (cmd, argv) => {
    expect(clickHouseRefusal(cmd, argv)).toBeNull();
  });

  // Every command that takes --db takes a ClickHouse store today; the refusal guards a command added later
  // (and a `db` subcommand) until it does.
  it.each([
    ['report', ['--db', CH], 'report'],
    ['db', ['vacuum', `--db=${CH}`], 'db vacuum'],
  ])('refuses %s %j, a command not on the list', (cmd, argv, name) => {
    expect(clickHouseRefusal(cmd, argv)).toBe(
      `--db ${CH}: a ClickHouse store is not supported yet for this command (${name}); it is for collect, import, ` +
        'book, db check, db quality, db prune, export, backtest, train, predictions, diagnose, runs, models, web, trade, ' +
        'sim, exchange-sim. Use an SQLite file',
    );
  });

  it.each([
    ['book', ['--db', 'clickhouse://127.0.0.1:99999/l2desk'], '"99999" is not a port'],
    ['db', ['check', '--db', 'clickhouse://127.0.0.1:8123/bad-name'], '"bad-name" is not a database name'],
    ['backtest', ['--db', 'clickhouse://127.0.0.1/l2desk'], 'the port is missing'],
  ])('a malformed ClickHouse address is a usage error: %s %j exits 2 saying why', async (cmd, argv, why) => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    try {
      expect(await main([cmd, ...argv])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors.join('\n')).toContain(why);
  });

  it('the app on a ClickHouse store no server answers says so, creating nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chnone-'));
    try {
      const config = { ...loadConfig({}), db: 'clickhouse://127.0.0.1:1/l2desk' };
      await expect(createApp({ config, modelsDir: path.join(dir, 'work', 'models') })).rejects.toThrow(
        'cannot reach ClickHouse at http://127.0.0.1:1',
      );
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('openDb refuses a ClickHouse address instead of creating a file named after it', () => {
    expect(() => openDb(CH)).toThrow(`--db ${CH}: a ClickHouse store is not supported yet for this command`);
  });
});
