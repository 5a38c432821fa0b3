// Hostile values from a scripted peer on 127.0.0.1: an oversized frame, a snapshot deeper than its topic, and
// implausible prices, sizes and times. Each is refused (never applied or passed on), stored as a gap with its
// reason through the real recorder and SQLite file, and the book resyncs from a fresh snapshot.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Gap, MarketMessage } from '../../../src-shared/market.ts';
import { openDb } from '../../store/db.ts';
import { readSession } from '../../store/sessionReader.ts';
import { SessionRecorder } from '../../store/sessionRecorder.ts';
import { bookOf, cleanupAfterEach, waitFor } from '../exchangeSim/testing/simExchangeHarness.ts';
import { BybitSource } from './bybitSource.ts';

const cleanups = cleanupAfterEach();
const T0 = Date.now();
const YEAR_MS = 365.25 * 24 * 3_600_000;

const book = (type: string, u: number, b: string[][], a: string[][], ts = T0 + u) =>
  JSON.stringify({
    topic: 'orderbook.50.BTCUSDT',
    type,
    ts,
    data: { s: 'BTCUSDT', b, a, u, seq: u },
    cts: ts,
  });
const trade = (id: string, p: string, v: string, T = T0) =>
  JSON.stringify({
    topic: 'publicTrade.BTCUSDT',
    type: 'snapshot',
    ts: T0,
    data: [{ T, s: 'BTCUSDT', S: 'Buy', v, p, i: id, BT: false, seq: 1 }],
  });
const good = (u: number) => book('snapshot', u, [['65000.0', '1']], [['65000.1', '2']]);

/** Each book subscription gets the next burst. */
async function peer(bursts: string[][]) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.on('error', () => {});
    ws.on('message', (d) => {
      const req = JSON.parse(d.toString()) as { op: string; args?: string[] };
      if (req.op === 'ping') return ws.send('{"success":true,"ret_msg":"pong","op":"ping"}');
      ws.send(JSON.stringify({ success: true, ret_msg: '', op: req.op }));
      if (req.op === 'subscribe' && req.args?.some((a) => a.startsWith('orderbook.')))
        for (const f of bursts.shift() ?? []) ws.send(f);
    });
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, connections: () => connections };
}

function recorded(url: string, maxFrameBytes?: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-hostile-'));
  const db = openDb(path.join(dir, 'rec.db'));
  cleanups.push(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const c = new BybitSource({
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    url,
    pingIntervalMs: 200,
    staleTimeoutMs: 1000,
    reconnect: { initialMs: 20, maxMs: 100, jitter: 0 },
    maxFrameBytes,
  });
  cleanups.push(() => c.stop());
  const rec = new SessionRecorder(db, c, { durationMs: Infinity, clock: 'wall', depth: 50 });
  const got = { books: [] as number[], trades: [] as string[], gaps: [] as Gap[] };
  c.on('message', (m: MarketMessage) =>
    m.kind === 'book' ? got.books.push(m.u) : got.trades.push(...m.trades.map((t) => t.id)),
  );
  c.on('gap', (g) => got.gaps.push(g));
  c.on('warning', () => {});
  /** The stored gaps, after the recorder closed the session. */
  const storedGaps = async () => {
    await rec.stop();
    const out: Gap[] = [];
    for (const ev of readSession(db, rec.sessionId)) if (ev.kind === 'gap') out.push(ev.gap);
    return out;
  };
  return { c, rec, got, storedGaps };
}

describe('BybitSource refuses hostile data', () => {
  it('refuses a frame above max_frame_bytes unread: an oversize gap, reconnect, resync', async () => {
    const huge = `{"topic":"orderbook.50.BTCUSDT","pad":"${'x'.repeat(200_000)}"}`;
    const p = await peer([
      [good(10), huge],
      [good(20), book('delta', 21, [['65000.0', '5']], [])],
    ]);
    const { c, rec, got, storedGaps } = recorded(p.url, 100_000);
    await rec.start();
    await waitFor('the resync after the oversized frame', () => got.books.includes(21));
    expect(got.books).toEqual([10, 20, 21]);
    expect(p.connections()).toBe(2);
    expect(bookOf(c).valid).toBe(true);
    const gaps = await storedGaps();
    expect(gaps.map((g) => [g.reason, g.endTs !== null])).toEqual([['oversize', true]]);
    expect(gaps[0].detail).toMatch(/frame larger than 100000 bytes refused \(bybit\.max_frame_bytes\)/);
  });

  it('refuses a snapshot with more levels than the depth, leaving the book gapped until a fresh snapshot', async () => {
    const deep = Array.from({ length: 51 }, (_, i) => [(64000 - i / 10).toFixed(1), '1']);
    const p = await peer([
      [good(10), book('snapshot', 11, deep, [['65000.1', '2']]), book('delta', 12, [['64999.0', '1']], [])],
      [good(20)],
    ]);
    const { c, rec, got, storedGaps } = recorded(p.url);
    await rec.start();
    await waitFor('the resync after the deep snapshot', () => got.books.includes(20));
    expect(got.books).toEqual([10, 20]); // neither the deep snapshot nor the delta after it was applied
    expect(bookOf(c).book.levels('bid', 60)).toEqual([[65000, 1]]);
    expect(c.health().gaps).toBe(1);
    const gaps = await storedGaps();
    expect(gaps.map((g) => g.reason)).toEqual(['oversize']);
    expect(gaps[0].detail).toMatch(/51 bids in a snapshot, more than the 50 a depth-50 snapshot can hold/);
    expect(gaps[0].endTs).not.toBeNull();
  });

  it('refuses implausible book values (size 1e300, a price 1e-28, a time 100 years ahead) and resyncs', async () => {
    const p = await peer([
      [good(10), book('delta', 11, [['65000.0', '1e300']], [])],
      [good(20), book('delta', 21, [['0.0000000000000000000000000001', '1']], [])],
      [good(30), book('delta', 31, [['64999.0', '1']], [], T0 + 100 * YEAR_MS)],
      [good(40), book('delta', 41, [['64999.0', '3']], [])],
    ]);
    const { c, rec, got, storedGaps } = recorded(p.url);
    await rec.start();
    await waitFor('the last resync', () => got.books.includes(41));
    expect(got.books).toEqual([10, 20, 30, 40, 41]);
    expect(bookOf(c).book.levels('bid', 5)).toEqual([
      [65000, 1],
      [64999, 3],
    ]);
    const gaps = await storedGaps();
    expect(gaps.map((g) => [g.reason, g.endTs !== null])).toEqual([
      ['implausible', true],
      ['implausible', true],
      ['implausible', true],
    ]);
    expect(gaps.map((g) => g.detail.match(/implausible (\w+)/)?.[1])).toEqual(['size', 'price', 'time']);
  });

  it('drops implausible trades (stored as findings) and passes the others on', async () => {
    const p = await peer([
      [
        good(10),
        trade('ok1', '65000.1', '0.01'),
        trade('tiny', '0.0000000000000000000000000001', '0.01'),
        trade('huge', '65000.1', '1e300'),
        trade('far', '65000.1', '0.01', 8.64e15),
        trade('offgrid', '65000.15', '0.01'),
        trade('ok2', '65000.0', '0.02'),
      ],
    ]);
    const { c, rec, got, storedGaps } = recorded(p.url);
    await rec.start();
    await waitFor('the last trade', () => got.trades.includes('ok2'));
    expect(got.trades).toEqual(['ok1', 'ok2']);
    expect(bookOf(c).valid).toBe(true); // a refused trade does not break the book
    const gaps = await storedGaps();
    expect(gaps.map((g) => g.detail.match(/implausible (\w+)/)?.[1])).toEqual([
      'price',
      'size',
      'time',
      'tick',
    ]);
    expect(gaps.every((g) => g.reason === 'implausible' && g.endTs === g.startTs)).toBe(true);
  });

  it('follows a feed clock that runs fast (an accelerated simulator), but refuses a jump of it', async () => {
    const MIN = 60_000;
    const p = await peer([
      [
        book('snapshot', 10, [['65000.0', '1']], [['65000.1', '2']], T0 - 30 * 24 * 60 * MIN),
        ...[1, 2, 3, 4, 5].map((i) =>
          book('delta', 10 + i, [['64999.0', String(i)]], [], T0 - 30 * 24 * 60 * MIN + i * 20 * MIN),
        ),
        book('delta', 16, [['64998.0', '1']], [], T0 + 10 * 365 * 24 * 60 * MIN),
      ],
      [good(20)],
    ]);
    const { rec, got, storedGaps } = recorded(p.url);
    await rec.start();
    await waitFor('the resync after the jump', () => got.books.includes(20));
    expect(got.books).toEqual([10, 11, 12, 13, 14, 15, 20]); // 100 min of drift in 20-min steps: followed
    const gaps = await storedGaps();
    expect(gaps.map((g) => g.detail.match(/implausible (\w+)/)?.[1])).toEqual(['time']);
  });
});
