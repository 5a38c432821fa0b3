import { describe, expect, it } from 'vitest';
import { ClickHouseUrlError, isClickHouseUrl, parseClickHouseUrl, redactClickHouseUrl } from './url.ts';

describe('parseClickHouseUrl', () => {
  it.each([
    ['clickhouse://127.0.0.1:8123/l2desk', '127.0.0.1', 8123, 'l2desk'],
    ['clickhouse://ch.example.com:18123/market_data', 'ch.example.com', 18123, 'market_data'],
    ['CLICKHOUSE://localhost:8123/_db1', 'localhost', 8123, '_db1'],
    ['clickhouse://[::1]:8123/db', '[::1]', 8123, 'db'],
  ])('%s', (text, host, port, database) => {
    const u = parseClickHouseUrl(text);
    expect(u).toEqual({ host, port, database, secure: false, httpUrl: `http://${host}:${port}` });
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
    ['clickhouse://user:pw@host:8123/db', 'a password does not go in the address'],
    ['clickhouse://user:@host:8123/db', 'a password does not go in the address'],
    ['clickhouse://us er@host:8123/db', '"us er" is not a user name'],
    ['clickhouse://@host:8123/db', '"" is not a user name'],
    [
      'clickhouse://host:8123/db?compress=1',
      'the options of the address are secure=true (HTTPS) and cluster=NAME',
    ],
    ['clickhouse://host:8123/db?cluster=', 'the cluster is a name of the server'],
    ["clickhouse://host:8123/db?cluster=a'b", 'the cluster is a name of the server'],
    ['clickhouse://host:8123/db?secure=yes', 'secure is true or false'],
    ['clickhouse://host:8123/db#x', 'a fragment'],
    ['clickhouse://ho st:8123/db', 'is not a host name'],
  ])('refuses %s', (text, why) => {
    expect(() => parseClickHouseUrl(text)).toThrow(ClickHouseUrlError);
    expect(() => parseClickHouseUrl(text)).toThrow(why);
    expect(() => parseClickHouseUrl(text)).toThrow('expected clickhouse://[USER@]HOST:PORT/DATABASE');
  });

  it('takes the cluster the store is sharded over', () => {
    expect(parseClickHouseUrl('clickhouse://ch1:8123/market?cluster=shards&secure=false')).toEqual({
      host: 'ch1',
      port: 8123,
      database: 'market',
      secure: false,
      cluster: 'shards',
      httpUrl: 'http://ch1:8123',
    });
    expect(parseClickHouseUrl('clickhouse://ch1:8443/market?secure=true&cluster=shards').cluster).toBe(
      'shards',
    );
    expect(parseClickHouseUrl('clickhouse://ch1:8123/market').cluster).toBeUndefined();
  });

  it('takes a user name before the host', () => {
    expect(parseClickHouseUrl('clickhouse://trader@ch.example.com:8123/market')).toEqual({
      host: 'ch.example.com',
      port: 8123,
      database: 'market',
      user: 'trader',
      secure: false,
      httpUrl: 'http://ch.example.com:8123',
    });
    expect(parseClickHouseUrl('clickhouse://svc.reader-1@[::1]:8123/db').user).toBe('svc.reader-1');
  });

  it.each([
    'clickhouse://trader:s3cret@host:8123/db',
    'clickhouse://trader:pa/ss?w#rd@host:8123/db',
    'clickhouse://trader:p@ss@host:8123/db',
    '  clickhouse://trader:s3cret@host/db',
  ])('never shows the password of %s', (text) => {
    const secret = /:\/\/trader:(.*)@host/.exec(text)![1];
    let message = '';
    try {
      parseClickHouseUrl(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('set L2DESK_CLICKHOUSE_PASSWORD instead');
    expect(message).toContain('clickhouse://trader:***@');
    expect(message).not.toContain(secret);
    expect(redactClickHouseUrl(text)).not.toContain(secret);
  });

  it('takes secure=true for HTTPS', () => {
    const u = parseClickHouseUrl('clickhouse://trader@ch.example.com:8443/market?secure=true');
    expect(u).toMatchObject({ secure: true, httpUrl: 'https://ch.example.com:8443', database: 'market' });
    expect(parseClickHouseUrl('clickhouse://h:8443/d?secure=1').secure).toBe(true);
    expect(parseClickHouseUrl('clickhouse://h:8123/d?secure=false').httpUrl).toBe('http://h:8123');
  });

  it('leaves addresses without a password as they are', () => {
    for (const t of [
      'clickhouse://h:8123/d',
      'clickhouse://u@h:8123/d',
      'clickhouse://[::1]:8123/d',
      'data/x.db',
    ])
      expect(redactClickHouseUrl(t)).toBe(t);
  });

  it('tells ClickHouse addresses from SQLite paths', () => {
    expect(isClickHouseUrl('clickhouse://h:1/d')).toBe(true);
    expect(isClickHouseUrl('ClickHouse:whatever')).toBe(true);
    expect(isClickHouseUrl('data/l2desk.db')).toBe(false);
    expect(isClickHouseUrl(':memory:')).toBe(false);
  });
});
