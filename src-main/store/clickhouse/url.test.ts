import { describe, expect, it } from 'vitest';
import { ClickHouseUrlError, isClickHouseUrl, parseClickHouseUrl } from './url.ts';

describe('parseClickHouseUrl', () => {
  it.each([
    ['clickhouse://127.0.0.1:8123/l2desk', '127.0.0.1', 8123, 'l2desk'],
    ['clickhouse://ch.example.com:18123/market_data', 'ch.example.com', 18123, 'market_data'],
    ['CLICKHOUSE://localhost:8123/_db1', 'localhost', 8123, '_db1'],
    ['clickhouse://[::1]:8123/db', '[::1]', 8123, 'db'],
  ])('%s', (text, host, port, database) => {
    const u = parseClickHouseUrl(text);
    expect(u).toEqual({ host, port, database, httpUrl: `http://${host}:${port}` });
  });

  it.each([
    ['data/l2desk.db', 'not a ClickHouse address'],
    ['clickhouse:db', 'not a clickhouse:// address'],
    ['clickhouse://127.0.0.1/l2desk', 'the port is missing'],
    ['clickhouse://127.0.0.1:/l2desk', 'the port is missing'],
    ['clickhouse://127.0.0.1:http/l2desk', '"http" is not a port'],
    ['clickhouse://127.0.0.1:70000/l2desk', '"70000" is not a port'],
    ['clickhouse://127.0.0.1:0/l2desk', '"0" is not a port'],
    ['clickhouse://127.0.0.1:8123', 'the database name is missing'],
    ['clickhouse://127.0.0.1:8123/', 'the database name is missing'],
    ['clickhouse://127.0.0.1:8123/a/b', '"a/b" is not a database name'],
    ['clickhouse://127.0.0.1:8123/1db', '"1db" is not a database name'],
    ["clickhouse://127.0.0.1:8123/x';DROP", 'is not a database name'],
    ['clickhouse://:8123/db', 'the host is missing'],
    ['clickhouse://user:pw@host:8123/db', 'user names and passwords'],
    ['clickhouse://host:8123/db?secure=1', 'query strings'],
    ['clickhouse://ho st:8123/db', 'is not a host name'],
  ])('refuses %s', (text, why) => {
    expect(() => parseClickHouseUrl(text)).toThrow(ClickHouseUrlError);
    expect(() => parseClickHouseUrl(text)).toThrow(why);
    expect(() => parseClickHouseUrl(text)).toThrow('expected clickhouse://HOST:PORT/DATABASE');
  });

  it('tells ClickHouse addresses from SQLite paths', () => {
    expect(isClickHouseUrl('clickhouse://h:1/d')).toBe(true);
    expect(isClickHouseUrl('ClickHouse:whatever')).toBe(true);
    expect(isClickHouseUrl('data/l2desk.db')).toBe(false);
    expect(isClickHouseUrl(':memory:')).toBe(false);
  });
});
