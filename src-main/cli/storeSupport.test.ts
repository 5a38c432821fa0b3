import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
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
  ])('lets %s %j through', (cmd, argv) => {
    expect(clickHouseRefusal(cmd, argv)).toBeNull();
  });

  it.each([
    ['web', ['--db', CH], 'web'],
    ['trade', ['--paper', `--db=${CH}`], 'trade'],
  ])('refuses %s %j', (cmd, argv, name) => {
    expect(clickHouseRefusal(cmd, argv)).toBe(
      `--db ${CH}: a ClickHouse store is not supported yet for this command (${name}); it is for collect, import, ` +
        'book, db check, db quality, db prune, export, backtest, train, predictions, diagnose, runs. Use an SQLite file',
    );
  });

  it('makes the CLI exit 2 with that message, creating nothing', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    try {
      expect(await main(['web', '--db', CH])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors.join('\n')).toContain('a ClickHouse store is not supported yet for this command (web)');
  });

  it('the app refuses a ClickHouse db setting with what to do, before opening anything', async () => {
    const config = { ...loadConfig({}), db: CH };
    await expect(createApp({ config, modelsDir: 'unused-models' })).rejects.toThrow(
      `db ${CH}: the app (and l2desk web) keep sessions, runs and models in an SQLite file; set db to a file.`,
    );
    expect(fs.existsSync('unused-models')).toBe(false);
  });

  it('openDb refuses a ClickHouse address instead of creating a file named after it', () => {
    expect(() => openDb(CH)).toThrow(`--db ${CH}: a ClickHouse store is not supported yet for this command`);
  });
});
