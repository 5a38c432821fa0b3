// A client with no tick size: inferred from the first snapshot, refined when a later price is off that grid,
// against the real exchange-sim server (DOGE-like market) and a scripted peer, and stored by the real recorder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { BookMessage, Gap } from '../../../src-shared/market.ts';
import { SequencedBook } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { openDb } from '../../store/db.ts';
import { readSession } from '../../store/sessionReader.ts';
import { SessionRecorder } from '../../store/sessionRecorder.ts';
import { getSession } from '../../store/sessions.ts';
import { cleanupAfterEach, startSimExchange, waitFor } from '../exchangeSim/testing/simExchangeHarness.ts';
import { BybitSource, type BybitSourceOptions } from './bybitSource.ts';
import { decimalText, offGridPrices, refineTick, tickFromLevels } from './tickInference.ts';

const cleanups = cleanupAfterEach();

function client(opts: Partial<BybitSourceOptions> & { url: string; symbol: string }): BybitSource {
  const c = new BybitSource({
    category: 'linear',
    depth: 50,
    pingIntervalMs: 100,
    staleTimeoutMs: 2000,
    reconnect: { initialMs: 30, maxMs: 200, jitter: 0 },
    ...opts,
  });
  cleanups.push(() => c.stop());
  return c;
}

/** A scripted Bybit peer: each book subscription gets the next burst of frames. */
async function scriptedPeer(bursts: string[][]): Promise<{ url: string; requests: string[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  const requests: string[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (d) => {
      const req = JSON.parse(d.toString()) as { op: string; args?: string[] };
      if (req.op === 'ping') return ws.send('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}');
      ws.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'x', op: req.op }));
      requests.push(`${req.op} ${(req.args ?? []).join(',')}`);
      if (req.op === 'subscribe' && req.args?.some((a) => a.startsWith('orderbook.')))
        for (const f of bursts.shift() ?? []) ws.send(f);
    });
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, requests };
}

const bookFrame = (depth: number, type: string, u: number, b: string[][], a: string[][]) =>
  JSON.stringify({
    topic: `orderbook.${depth}.NEWUSDT`,
    type,
    ts: 1_786_000_000_000 + u,
    data: { s: 'NEWUSDT', b, a, u, seq: u },
    cts: 1_786_000_000_000 + u,
  });

describe('tick inference helpers', () => {
  it('writes parsed prices as plain decimals, exponent forms included', () => {
    expect(decimalText(65114.2)).toBe('65114.2');
    expect(decimalText(Number('0.15230'))).toBe('0.1523');
    expect(decimalText(1.23e-7)).toBe('0.000000123');
    expect(decimalText(5e-7)).toBe('0.0000005');
    expect(decimalText(1e21)).toBe('1000000000000000000000');
  });

  it('infers from snapshot prices and refines to the finer decimal step an off-grid price needs', () => {
    expect(tickFromLevels([[0.15231, 1]], [[0.15232, 1]])).toBe('0.00001');
    expect(tickFromLevels([[0.152, 1]], [[0.153, 1]])).toBe('0.001');
    expect(tickFromLevels([], [])).toBeNull();
    const coarse = new TickScale('0.001');
    expect(refineTick(coarse, [0.1525])?.tickSize).toBe('0.0001');
    expect(refineTick(new TickScale('0.5'), [65000.3])?.tickSize).toBe('0.1');
    expect(refineTick(new TickScale('0.05'), [0.13])?.tickSize).toBe('0.01');
    // Corrupt data is not a finer grid.
    expect(refineTick(coarse, [0.1234567890123456])).toBeNull();
    const msg = { bids: [[0.152, 1]], asks: [[0.1525, 2]] } as unknown as BookMessage;
    expect(offGridPrices(coarse, msg)).toEqual([0.1525]);
  });
});

describe('BybitSource without a tick size', () => {
  it('infers 0.00001 on a DOGE-like exchange-sim market and ends with the true book, exact decimals', async () => {
    const server = await startSimExchange(
      { seed: 21, symbol: 'DOGEUSDT', startPrice: 0.15, tickSize: '0.00001' },
      { speed: 1 },
    );
    cleanups.push(() => server.close());
    const c = client({ symbol: 'DOGEUSDT', url: server.url });
    expect(c.instrument.tickSize).toBe('');
    // A consumer that, like the engine or the recorder, learns the tick from the instrument on first data.
    let consumer: SequencedBook | null = null;
    const problems: string[] = [];
    const gaps: Gap[] = [];
    c.on('gap', (g) => gaps.push(g));
    c.on('message', (m) => {
      if (m.kind !== 'book') return;
      consumer ??= new SequencedBook(new TickScale(c.instrument.tickSize));
      const r = consumer.apply(m);
      if (r.status !== 'applied') problems.push(JSON.stringify(r));
    });
    await c.start();
    await waitFor('first snapshot', () => c.book()?.valid);
    expect(c.instrument).toEqual({ symbol: 'DOGEUSDT', category: 'linear', tickSize: '0.00001' });
    // Some deltas on the inferred tick before comparing (awaited, not a fixed sleep).
    const u0 = (c.book() as SequencedBook).lastU;
    await waitFor('deltas after the snapshot', () => (c.book()?.lastU ?? 0) >= u0 + 10);
    server.pause();
    await waitFor('client in sync', () => c.book()?.valid && c.book()?.lastU === server.trueBook(50).u);
    const truth = server.trueBook(50);
    const book = (c.book() as SequencedBook).book;
    expect(truth.bids).toHaveLength(50);
    expect(book.levels('bid', 50)).toEqual(truth.bids);
    expect(book.levels('ask', 50)).toEqual(truth.asks);
    expect((consumer as SequencedBook | null)?.book.levels('bid', 50)).toEqual(truth.bids);
    expect(problems).toEqual([]);
    expect(gaps).toEqual([]);
    for (const [p, size] of [...book.levels('bid', 50), ...book.levels('ask', 50)]) {
      expect(p).toBeGreaterThan(0.1);
      expect(p).toBeLessThan(0.2);
      expect(decimalText(p)).toMatch(/^0\.\d{1,5}$/); // 0.15231, never 0.15231000000000002
      expect(size % 100).toBe(0); // lots of 100 DOGE, not 0.2 DOGE
    }
    expect(c.health()).toMatchObject({ malformed: 0, gaps: 0, reconnects: 0 });
  });

  it('refines a tick inferred too coarse: gap, resubscribe, fresh snapshot, new tick reported', async () => {
    const peer = await scriptedPeer([
      [
        // Every price of the first snapshot happens to be a multiple of 0.001.
        bookFrame(
          50,
          'snapshot',
          100,
          [
            ['0.1520', '5'],
            ['0.1510', '6'],
          ],
          [['0.1530', '7']],
        ),
        bookFrame(50, 'delta', 101, [['0.1510', '0']], []),
        bookFrame(50, 'delta', 102, [], [['0.1525', '3']]),
        bookFrame(50, 'delta', 103, [['0.1519', '9']], []), // ignored: the book awaits a snapshot
      ],
      [
        bookFrame(
          50,
          'snapshot',
          110,
          [
            ['0.1520', '5'],
            ['0.1519', '9'],
          ],
          [
            ['0.1525', '3'],
            ['0.1530', '7'],
          ],
        ),
        bookFrame(50, 'delta', 111, [['0.1521', '2']], []),
      ],
    ]);
    const c = client({ symbol: 'NEWUSDT', url: peer.url });
    const gaps: Gap[] = [];
    const warnings: string[] = [];
    const notices: string[] = [];
    const emitted: number[] = [];
    c.on('gap', (g) => gaps.push(g));
    c.on('warning', (w) => warnings.push(w));
    c.on('notice', (n) => notices.push(n));
    c.on('message', (m) => m.kind === 'book' && emitted.push(m.u));
    await c.start();
    await waitFor('the resync on the finer tick', () => emitted.includes(111));
    expect(emitted).toEqual([100, 101, 110, 111]);
    expect(c.instrument.tickSize).toBe('0.0001');
    expect(peer.requests).toEqual([
      'subscribe orderbook.50.NEWUSDT,publicTrade.NEWUSDT',
      'unsubscribe orderbook.50.NEWUSDT',
      'subscribe orderbook.50.NEWUSDT',
    ]);
    expect(gaps.map((g) => [g.reason, g.endTs === null])).toEqual([
      ['resubscribe', true],
      ['resubscribe', false],
    ]);
    expect(gaps[0].detail).toMatch(
      /price 0\.1525 \(u=102\) is off the tick grid 0\.001: tick size refined to 0\.0001/,
    );
    // Learning the tick from the first snapshot is information; a wrong tick costing a resync is a warning.
    expect(notices).toEqual(['tick size of NEWUSDT inferred from the first snapshot: 0.001']);
    expect(warnings.join('\n')).not.toMatch(/inferred/);
    expect(warnings.join('\n')).toMatch(/refined to 0\.0001; rebuilding the book/);
    const book = (c.book() as SequencedBook).book;
    expect(book.scale.tickSize).toBe('0.0001');
    expect(book.levels('bid', 5)).toEqual([
      [0.1521, 2],
      [0.152, 5],
      [0.1519, 9],
    ]);
    expect(book.levels('ask', 5)).toEqual([
      [0.1525, 3],
      [0.153, 7],
    ]);
    expect(c.health()).toMatchObject({ reconnects: 0, malformed: 0, gaps: 1 });
  });

  it('refines on a depth-1 snapshot in place, without resubscribing', async () => {
    const peer = await scriptedPeer([
      [
        bookFrame(1, 'snapshot', 7, [['0.52', '100']], [['0.53', '200']]),
        bookFrame(1, 'snapshot', 8, [['0.52', '100']], [['0.5201', '50']]),
        bookFrame(1, 'snapshot', 9, [['0.5199', '10']], [['0.5201', '50']]),
      ],
    ]);
    const c = client({ symbol: 'NEWUSDT', url: peer.url, depth: 1 });
    const gaps: Gap[] = [];
    const emitted: number[] = [];
    c.on('gap', (g) => gaps.push(g));
    c.on('message', (m) => m.kind === 'book' && emitted.push(m.u));
    await c.start();
    await waitFor('three snapshots', () => emitted.length === 3);
    expect(emitted).toEqual([7, 8, 9]);
    expect(c.instrument.tickSize).toBe('0.0001');
    expect(peer.requests).toEqual(['subscribe orderbook.1.NEWUSDT,publicTrade.NEWUSDT']);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ reason: 'resubscribe', endTs: gaps[0].startTs });
    expect(gaps[0].detail).toMatch(/off the tick grid 0\.01: tick size refined to 0\.0001/);
    expect((c.book() as SequencedBook).book.levels('bid', 1)).toEqual([[0.5199, 10]]);
  });

  it('refines a configured tick size that the exchange has made finer, saying so', async () => {
    const peer = await scriptedPeer([
      [
        bookFrame(1, 'snapshot', 7, [['0.52', '100']], [['0.53', '200']]),
        bookFrame(1, 'snapshot', 8, [['0.5205', '100']], [['0.53', '200']]),
      ],
    ]);
    const c = client({ symbol: 'NEWUSDT', url: peer.url, depth: 1, tickSize: '0.01' });
    const warnings: string[] = [];
    const notices: string[] = [];
    c.on('warning', (w) => warnings.push(w));
    c.on('notice', (n) => notices.push(n));
    const emitted: number[] = [];
    c.on('message', (m) => m.kind === 'book' && emitted.push(m.u));
    await c.start();
    await waitFor('both snapshots', () => emitted.length === 2);
    expect(c.instrument.tickSize).toBe('0.0001');
    expect(warnings.join('\n')).toMatch(/refined to 0\.0001 \(the configured 0\.01 is wrong or outdated\)/);
    expect([...warnings, ...notices].join('\n')).not.toMatch(/inferred from the first snapshot/);
  });

  it('stores the inferred, then refined, tick size on the recorded session', async () => {
    const peer = await scriptedPeer([
      [
        bookFrame(50, 'snapshot', 100, [['0.152', '5']], [['0.153', '7']]),
        bookFrame(50, 'delta', 101, [], [['0.1525', '3']]),
      ],
      [bookFrame(50, 'snapshot', 110, [['0.152', '5']], [['0.1525', '3']])],
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-tick-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openDb(path.join(dir, 'rec.db'));
    cleanups.push(() => void db.close());
    const c = client({ symbol: 'NEWUSDT', url: peer.url });
    const rec = new SessionRecorder(db, c, { durationMs: Infinity, clock: 'wall', depth: 50 });
    expect(c.instrument.tickSize).toBe(''); // what the session row starts with
    await rec.start();
    await waitFor('the snapshot on the refined tick', () => rec.progress().messages === 2);
    expect(getSession(db, rec.sessionId)?.tickSize).toBe('0.0001');
    await rec.stop();
    const s = getSession(db, rec.sessionId);
    expect(s).toMatchObject({ symbol: 'NEWUSDT', tickSize: '0.0001', bookMessages: 2 });
    // The stored session replays on its stored tick size: every stored book message applies.
    const replay = new SequencedBook(new TickScale(s?.tickSize ?? ''));
    const events = [...readSession(db, rec.sessionId)];
    const books = events.filter((e) => e.kind === 'book');
    expect(books.map((e) => replay.apply(e).status)).toEqual(['applied', 'applied']);
    expect(events.some((e) => e.kind === 'gap' && e.gap.reason === 'resubscribe')).toBe(true);
    expect(replay.book.levels('ask', 2)).toEqual([[0.1525, 3]]);
  });
});
