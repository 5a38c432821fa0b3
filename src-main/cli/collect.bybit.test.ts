// collect --source bybit against the real exchange-sim WebSocket server on 127.0.0.1, with a skipped u and
// a dropped connection: both gaps are stored with their reasons and spans, and the book rebuilt from the
// database at the end equals the server's true book. Where an unlisted symbol's tick came from is printed as a
// note, not a warning.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { listSessions } from '../store/sessions.ts';
import { startSimExchange, waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { run as runCollect } from './collect.ts';
import { expectStoredBookIsExchangeBook, lastStoredU, storedGaps } from './testing/collectProbe.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2collect-bybit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const until = (cond: () => boolean, what: string) => waitFor(what, cond, 10_000, 50);

it('stores a live-protocol session with its gaps, and the stored book ends equal to the exchange book', async () => {
  const server = await startSimExchange({ seed: 11 }, { speed: 1 });
  const dbFile = path.join(dir, 'live.db');
  try {
    const ctl = new AbortController();
    const collecting = runCollect(
      [
        '--source',
        'bybit',
        '--url',
        server.url,
        '--duration',
        '60s',
        '--depth',
        '50',
        '--db',
        dbFile,
        '--quiet',
      ],
      { signal: ctl.signal },
    );
    await until(() => server.connectionCount > 0 && server.stats.stepsPlayed > 20, 'a subscribed client');
    await sleep(500);
    server.inject('gap');
    await until(
      () => storedGaps(dbFile).some((g) => g.reason === 'sequence' && g.end_ts !== null),
      'the sequence gap to close',
    );
    server.inject('drop');
    await until(() => {
      const g = storedGaps(dbFile);
      return g.some((x) => x.reason === 'disconnect') && g.every((x) => x.end_ts !== null);
    }, 'the reconnect to close the disconnect gap');
    // Freeze the market so the collector's last messages are the exchange's current state.
    server.pause();
    // Await the collector committing the exchange's last update (not a fixed sleep), then stop it.
    const lastU = server.trueBook(50).u;
    await until(() => lastStoredU(dbFile) === lastU, `the collector to store u=${lastU}`);
    ctl.abort();
    expect(await collecting).toBe(0);

    const db = openDb(dbFile);
    try {
      const [s] = listSessions(db);
      expect(s).toMatchObject({ source: 'bybit', symbol: 'BTCUSDT', depth: 50, tickSize: '0.1' });
      expect(s.endedAt).not.toBeNull();
      const gaps = [...readSession(db, s.id)].filter((e) => e.kind === 'gap');
      const reasons = gaps.map((g) => (g.kind === 'gap' ? g.gap.reason : ''));
      expect(reasons).toContain('sequence');
      expect(reasons).toContain('disconnect');
      for (const g of gaps) if (g.kind === 'gap') expect(g.gap.endTs).toBeGreaterThanOrEqual(g.gap.startTs);
      await expectStoredBookIsExchangeBook(db, s, server);
    } finally {
      db.close();
    }
  } finally {
    await server.close();
  }
});

it('prints where an unlisted symbol’s tick came from as a note, not a warning (and --quiet hides it)', async () => {
  const server = await startSimExchange(
    { seed: 13, symbol: 'FOOUSDT', startPrice: 0.15, tickSize: '0.00001' },
    { speed: 1 },
  );
  const written: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  const collect = async (file: string, quiet: boolean) => {
    written.length = 0;
    const ctl = new AbortController();
    const argv = ['--source', 'bybit', '--symbol', 'FOOUSDT', '--url', server.url, '--duration', '60s'];
    const collecting = runCollect(argv.concat(['--db', path.join(dir, file)], quiet ? ['--quiet'] : []), {
      signal: ctl.signal,
    });
    await until(() => (lastStoredU(path.join(dir, file)) ?? 0) > 5, 'stored book messages');
    ctl.abort();
    expect(await collecting).toBe(0);
    return written.join('');
  };
  try {
    const out = await collect('note.db', false);
    expect(out).toMatch(/^note: tick size of FOOUSDT from the exchange's instrument info: 0\.00001 \(lot /m);
    expect(out).not.toMatch(/warning: .*(tick size|instrument info)/);
    // The exchange's lot and minimum order value are kept with the session, and a replay of it trades by them.
    const lot = /\(lot ([0-9.]+)\)/.exec(out)?.[1];
    expect(Number(lot)).toBeGreaterThan(0);
    const db = openDb(path.join(dir, 'note.db'));
    try {
      const [s] = listSessions(db);
      expect(s.meta.instrument).toEqual({ qtyStep: lot, minNotional: '5' });
      expect(new ReplaySource({ db, sessionId: s.id, speed: 'max' }).instrument).toEqual({
        symbol: 'FOOUSDT',
        category: 'linear',
        tickSize: '0.00001',
        qtyStep: lot,
        minNotional: '5',
      });
    } finally {
      db.close();
    }
    const quiet = await collect('note-quiet.db', true);
    expect(quiet).not.toMatch(/note:|tick size/);
  } finally {
    spy.mockRestore();
    await server.close();
  }
});

it('an unreachable exchange for the whole --duration: warnings, a "no market data" line and exit code 1', async () => {
  // A port that was free a moment ago: every connection attempt is refused, as with no network.
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  const written: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  const errs = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void written.push(a.join(' ')));
  try {
    const code = await runCollect([
      '--source',
      'bybit',
      '--url',
      `ws://127.0.0.1:${port}/v5/public/linear`,
      '--duration',
      '2s',
      '--quiet',
      '--db',
      path.join(dir, 'unreachable.db'),
    ]);
    expect(written.join('')).toMatch(/warning: .*reconnecting in \d+ ms/);
    expect(written.join('')).toMatch(/no market data received from the bybit source/);
    expect(code).toBe(1);
  } finally {
    spy.mockRestore();
    errs.mockRestore();
  }
});
