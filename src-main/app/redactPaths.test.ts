// Texts that reach a page name no local folder: known paths by their role, other absolute paths by file name,
// while ordinary text with slashes (rates, ratios, URLs, config keys) is left alone.
import { describe, expect, it } from 'vitest';
import type { Commands, StatusView } from '../../src-shared/ipc.ts';
import { redactEvent, redactHandlers, redactPaths } from './redactPaths.ts';

const DB = { path: '/home/ann/data/l2desk.db', label: 'the database' };

describe('redactPaths', () => {
  it.each([
    [
      'no session 99 in /home/ann/data/l2desk.db; list them with `l2desk db`',
      'no session 99 in the database; list them with `l2desk db`',
    ],
    ['SQLITE_BUSY on /home/ann/data/l2desk.db: locked', 'SQLITE_BUSY on the database: locked'],
    // The WAL beside it is another file: its name is kept, its folder is not.
    ['cannot open /home/ann/data/l2desk.db-wal', 'cannot open l2desk.db-wal'],
    ['no model: cannot read /home/ann/models/x-1.onnx (ENOENT)', 'no model: cannot read x-1.onnx (ENOENT)'],
    [
      "ENOENT: no such file or directory, open '/tmp/l2/a b.json'",
      "ENOENT: no such file or directory, open 'a b.json'",
    ],
    ['model at file:///home/ann/m/v%202.onnx failed', 'model at v 2.onnx failed'],
    ['cannot read C:\\Users\\ann\\l2\\m.onnx.', 'cannot read m.onnx.'],
    ['share \\\\srv\\team\\l2\\db.sqlite gone', 'share db.sqlite gone'],
    [
      'walk-forward models in /var/tmp/walkforward-3-20260101-000000/',
      'walk-forward models in walkforward-3-20260101-000000',
    ],
  ])('%s', (msg, want) => {
    expect(redactPaths(msg, [DB])).toBe(want);
  });

  it.each([
    '120 msgs /s',
    '1/2 of the windows',
    'see https://bybit-exchange.github.io/docs/v5/ws/connect',
    'risk.max_position_notional must be > 0',
    'orderbook.50.BTCUSDT: gap u 10 -> 12',
    'ws://127.0.0.1:8080/ws refused',
  ])('leaves "%s" alone', (msg) => {
    expect(redactPaths(msg, [DB])).toBe(msg);
  });

  it('names the database also when it is given as a relative path or a file URL', () => {
    expect(redactPaths('in l2desk.db; retry', [{ path: 'l2desk.db', label: 'the database' }])).toBe(
      'in the database; retry',
    );
    expect(redactPaths('at file:///home/ann/data/l2desk.db now', [DB])).toBe('at the database now');
  });
});

describe('redactHandlers and redactEvent', () => {
  const status = (note: string | null): StatusView => ({
    source: 'sim',
    sessionId: null,
    symbol: 'BTCUSDT',
    running: false,
    connection: 'stopped',
    latencyMs: 0,
    messagesPerSec: 0,
    messages: 0,
    gaps: 0,
    bookValid: false,
    threshold: 0,
    model: null,
    note,
  });
  const r = (m: string) => redactPaths(m, [DB]);

  it('rethrows a failing handler with the paths taken out and redacts result notes', async () => {
    const h = {
      'market/setSource': async () => {
        throw new Error('no session 7 in /home/ann/data/l2desk.db; list them');
      },
      'market/start': async () => status('no model: cannot read /opt/l2/models/default.onnx'),
    } as unknown as Commands;
    const w = redactHandlers(h, r);
    await expect(w['market/setSource']({ source: { kind: 'sim' } })).rejects.toThrow(
      /^no session 7 in the database; list them$/,
    );
    expect((await w['market/start']({})).note).toBe('no model: cannot read default.onnx');
  });

  it('redacts the texts of events and passes the data-only ones as they are', () => {
    expect(redactEvent('app/error', { where: 'source', message: 'bad /a/b/c.db', t: 1 }, r).message).toBe(
      'bad c.db',
    );
    expect(redactEvent('app/status', status('/x/y/m.onnx missing'), r).note).toBe('m.onnx missing');
    const prices = [{ t: 1, mid: 2 }];
    expect(redactEvent('market/prices', prices, r)).toBe(prices);
  });
});
