// ParquetTable on real files read back by DuckDB: row groups, every column kind with edge values, an empty table,
// footer metadata, and the refusals that keep a wrong value out of a file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type JS } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetTable, type ColumnSpec } from './parquetTable.ts';

let dir: string;
let instance: DuckDBInstance;
let duck: DuckDBConnection;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2pq-'));
  instance = await DuckDBInstance.create(':memory:');
  duck = await instance.connect();
});
afterAll(() => {
  duck.closeSync();
  instance.closeSync();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function rows(sql: string): Promise<JS[][]> {
  return (await duck.runAndReadAll(sql)).getRowsJS();
}

const COLUMNS: ColumnSpec[] = [
  { name: 't', kind: 'timestamp' },
  { name: 'n', kind: 'int64' },
  { name: 'i', kind: 'int32', nullable: true },
  { name: 'x', kind: 'double' },
  { name: 'b', kind: 'bool' },
  { name: 's', kind: 'string', nullable: true },
];

describe('ParquetTable', () => {
  it('writes row groups of the given size that DuckDB reads back value for value', async () => {
    const file = path.join(dir, 'a.parquet');
    const t = new ParquetTable(file, COLUMNS, { rowGroupSize: 3, metadata: { 'l2desk.test': 'yes' } });
    const big = Number.MAX_SAFE_INTEGER;
    const want = [
      [1_786_000_000_123, big, 7, 65_000.1, true, 'bid'],
      [0, -big, null, -0.5, false, null],
      [1_786_000_000_124, 42, -2_147_483_648, Number.NaN, true, 'é ✓'],
      [1_786_000_000_125, 0, 2_147_483_647, 1e-300, false, ''],
      [1_786_000_000_126, 1, 0, Number.MAX_VALUE, true, 'ask'],
      [1_786_000_000_127, 2, 1, 3, false, 'ask'],
      [1_786_000_000_128, 3, 2, 4, true, 'bid'],
    ];
    for (const r of want) t.push(r);
    expect(t.rows).toBe(7);
    t.finish();
    const got = await rows(`SELECT epoch_ms(t), n, i, x, b, s FROM '${file}'`);
    expect(got.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual(want);
    expect(await rows(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${file}')`)).toEqual([
      [3n],
    ]);
    expect(
      await rows(
        `SELECT decode(value) FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'l2desk.test'`,
      ),
    ).toEqual([['yes']]);
    const types = await rows(`SELECT column_type FROM (DESCRIBE SELECT * FROM '${file}')`);
    expect(types.flat()).toEqual([
      'TIMESTAMP WITH TIME ZONE',
      'BIGINT',
      'INTEGER',
      'DOUBLE',
      'BOOLEAN',
      'VARCHAR',
    ]);
  });

  it('an empty table is a valid file with its columns and no rows', async () => {
    const file = path.join(dir, 'empty.parquet');
    new ParquetTable(file, COLUMNS).finish();
    expect(await rows(`SELECT count(*) FROM '${file}'`)).toEqual([[0n]]);
    expect((await rows(`SELECT column_name FROM (DESCRIBE SELECT * FROM '${file}')`)).flat()).toEqual(
      COLUMNS.map((c) => c.name),
    );
  });

  it.each([
    [[1, 1, 1, 1, true, null, 'extra'], /has 7 cells, expected 6/],
    [[null, 1, 1, 1, true, 's'], /column t may not be null/],
    [[1, 2 ** 53, 1, 1, true, 's'], /column n \(int64\) cannot hold 9007199254740992/],
    [[1, 1, 1.5, 1, true, 's'], /column i \(int32\) cannot hold 1\.5/],
    [[1, 1, 1, '1', true, 's'], /column x \(double\) cannot hold 1/],
    [[1, 1, 1, 1, 1, 's'], /column b \(bool\) cannot hold 1/],
    [[1, 1, 1, 1, true, 5], /column s \(string\) cannot hold 5/],
  ])('refuses the row %j', (row, message) => {
    const t = new ParquetTable(path.join(dir, 'bad.parquet'), COLUMNS);
    expect(() => t.push(row)).toThrow(message);
  });

  it('refuses rows after finish', () => {
    const t = new ParquetTable(path.join(dir, 'done.parquet'), COLUMNS);
    t.finish();
    expect(() => t.push([1, 1, 1, 1, true, 's'])).toThrow(/already finished/);
  });
});
