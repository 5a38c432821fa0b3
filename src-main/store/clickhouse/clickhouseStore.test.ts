// The ClickHouse store against a real clickhouse-server (started here on free loopback ports, its own data dir):
// the same seeded sessions written through the ClickHouse writer and the SQLite writer read back identically,
// retried inserts after a dropped connection never duplicate rows, a replay rebuilds the same book, and writers
// taking new ids at the same instant never share one.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gap } from '../../../src-shared/market.ts';
import { SequencedBook } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { syntheticEvents } from '../../features/testing/syntheticMarket.ts';
import { SimMarket } from '../../market/sim/simMarket.ts';
import { openDb, type Db } from '../db.ts';
import { readSession as readSqlite, type StoredEvent } from '../sessionReader.ts';
import { SessionRecorder } from '../sessionRecorder.ts';
import { SessionWriter } from '../sessionWriter.ts';
import { createSession as createSqliteSession, getSession as getSqliteSession } from '../sessions.ts';
import { createSession, getSession, listSessions, latestSession, updateSessionMeta } from './catalogue.ts';
import { checkClickHouse } from './check.ts';
import { openClickHouse, queryJson, type ClickHouseStore } from './connection.ts';
import { expectDistinctIds } from './idClaimsScenario.ts';
import { readSession } from './reader.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from './testServer.ts';
import { ClickHouseSessionWriter, type ClickHouseWriterOptions } from './writer.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

async function collect(it: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

function write(w: ClickHouseSessionWriter, ev: StoredEvent): void {
  if (ev.kind === 'gap') w.writeGap(ev.gap);
  else w.writeMessage(ev);
}

/** Writes events through the ClickHouse writer into a new session (sim BTCUSDT unless told), closes it. */
async function writeCh(
  store: ClickHouseStore,
  events: Iterable<StoredEvent>,
  o: {
    startedAt: number;
    endedAt: number;
    symbol?: string;
    tickSize?: string;
    writer?: ClickHouseWriterOptions;
  },
): Promise<number> {
  const sid = await createSession(store, {
    source: 'sim',
    symbol: o.symbol ?? 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: o.tickSize ?? '0.1',
    startedAt: o.startedAt,
    meta: { seed: 7 },
  });
  const w = await ClickHouseSessionWriter.open(store, sid, { ...o.writer, now: () => o.startedAt });
  for (const ev of events) write(w, ev);
  await w.close(o.endedAt);
  return sid;
}

/** The synthetic stream with gaps, plus a gap opened and later closed (stored as two row versions). */
function eventsWithGaps(): StoredEvent[] {
  const ev: StoredEvent[] = syntheticEvents({ seed: 11, durationMs: 20_000, gapsAtMs: [5_000, 12_000] });
  const open: Gap = {
    symbol: 'BTCUSDT',
    reason: 'stale',
    startTs: 1_700_000_008_000,
    endTs: null,
    detail: 'no data',
  };
  ev.splice(300, 0, { kind: 'gap', gap: open });
  ev.splice(900, 0, { kind: 'gap', gap: { ...open, endTs: 1_700_000_009_500 } });
  return ev;
}

/** What a reader yields for the events written: a closed gap shows its end where it was opened. */
function expectedFromSqlite(db: Db, events: StoredEvent[]): { sid: number; read: StoredEvent[] } {
  const sid = createSqliteSession(db, {
    source: 'sim',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 50,
    tickSize: '0.1',
    startedAt: 1,
  });
  const w = new SessionWriter(db, sid, { now: () => 1 });
  for (const ev of events) {
    if (ev.kind === 'gap') w.writeGap(ev.gap);
    else w.writeMessage(ev);
  }
  w.close(2);
  return { sid, read: [...readSqlite(db, sid)] };
}

describe.skipIf(skip !== null)('ClickHouse store (real clickhouse-server)', () => {
  let server: TestServer;
  let dir: string;
  let db: Db;

  beforeAll(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2ch-'));
    db = openDb(path.join(dir, 'ref.db'));
  }, 90_000);
  afterAll(async () => {
    db?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  }, 30_000);

  it('stores a seeded simulated session exactly as the SQLite store does (messages, trades, gaps, counts)', async () => {
    // The simulator recorded into SQLite through the real recorder, then the same stream into ClickHouse.
    const source = new SimMarket({
      seed: 5,
      startPrice: 0.5123,
      tickSize: '0.0001',
      symbol: 'XRPUSDT',
      levels: 50,
      bookRateHz: 50,
      depth: 50,
      speed: 'max',
      startMs: 1_786_000_000_000,
    });
    const rec = new SessionRecorder(db, source, { durationMs: 20_000, clock: 'message', depth: 50 });
    await rec.start();
    const r = await rec.finished;
    expect(r.error).toBeUndefined();
    const simEvents = [...readSqlite(db, rec.sessionId)];
    expect(simEvents.length).toBeGreaterThan(500);
    expect(simEvents.some((e) => e.kind === 'trades' && e.trades.length > 1)).toBe(true);

    const store = await openClickHouse(server.url('equiv'));
    try {
      // Small batches so one session spans many inserts, small pages so reads cross page boundaries.
      const sim = await writeCh(store, simEvents, {
        startedAt: 1_786_000_000_000,
        endedAt: 1_786_000_030_000,
        symbol: 'XRPUSDT',
        tickSize: '0.0001',
        writer: { maxRows: 97 },
      });
      expect(await collect(readSession(store, sim, { pageSize: 64 }))).toEqual(simEvents);
      expect(await collect(readSession(store, sim))).toEqual(simEvents);

      const events = eventsWithGaps();
      const ref = expectedFromSqlite(db, events);
      expect(ref.read.filter((e) => e.kind === 'gap')).toHaveLength(3);
      const withGaps = await writeCh(store, events, { startedAt: 1, endedAt: 2, writer: { maxRows: 50 } });
      expect(await collect(readSession(store, withGaps, { pageSize: 33 }))).toEqual(ref.read);

      // Time windows and a start id select the same events as SQLite's reader.
      const t0 = 1_700_000_004_000;
      const t1 = 1_700_000_013_000;
      expect(await collect(readSession(store, withGaps, { fromTs: t0, toTs: t1, pageSize: 50 }))).toEqual([
        ...readSqlite(db, ref.sid, { fromTs: t0, toTs: t1 }),
      ]);

      // The catalogue: the same counters and fields as SQLite's sessions table.
      const a = getSqliteSession(db, ref.sid)!;
      const b = (await getSession(store, withGaps))!;
      for (const k of [
        'messages',
        'bookMessages',
        'tradeMessages',
        'trades',
        'gaps',
        'firstRecvTs',
        'lastRecvTs',
      ] as const)
        expect(b[k], k).toBe(a[k]);
      expect(b).toMatchObject({ symbol: 'BTCUSDT', depth: 50, tickSize: '0.1', endedAt: 2, seed: 7 });
      const simInfo = (await getSession(store, sim))!;
      const simRef = getSqliteSession(db, rec.sessionId)!;
      expect(simInfo.messages).toBe(simRef.messages);
      expect(simInfo.trades).toBe(simRef.trades);
      expect((await listSessions(store)).map((s) => s.id)).toEqual([sim, withGaps]);
      expect((await latestSession(store, 'XRPUSDT'))?.id).toBe(sim);
      await updateSessionMeta(store, sim, { stopReason: 'duration reached' });
      expect((await getSession(store, sim))?.meta).toEqual({ seed: 7, stopReason: 'duration reached' });
      await expect(collect(readSession(store, 999))).rejects.toThrow(`no session 999 in ${store.name}`);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('retries a batch whose connection dropped after the server stored it, and never shows a row twice', async () => {
    // A loopback proxy passes requests to the server but drops the first insert connections after the server
    // answered: the rows are stored, the writer sees an error and sends them again.
    let dropsLeft = 3;
    let dropped = 0;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(server.httpPort, '127.0.0.1');
      let isInsert = false;
      client.on('data', (d: Buffer) => {
        if (
          d.toString('latin1').includes('FORMAT%20RowBinary') ||
          d.toString('latin1').includes('FORMAT+RowBinary')
        )
          isInsert = true;
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        if (isInsert && dropsLeft > 0) {
          dropsLeft--;
          dropped++;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(d);
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    const store = await openClickHouse(`clickhouse://127.0.0.1:${port}/retry`);
    try {
      const events = eventsWithGaps();
      const busy: string[] = [];
      const sid = await writeCh(store, events, {
        startedAt: 1,
        endedAt: 2,
        writer: { maxRows: 200, retryFirstMs: 5, onBusy: (e) => busy.push(e.state) },
      });
      expect(dropped).toBe(3);
      expect(busy).toContain('busy');
      expect(busy.at(-1)).toBe('free');
      // The server holds duplicates (the retried batches)...
      const [raw] = await queryJson<{ n: string; u: string }>(
        store,
        `SELECT count() AS n, uniqExact(id) AS u FROM retry.l2_updates WHERE session = ${sid}`,
      );
      expect(Number(raw.n)).toBeGreaterThan(Number(raw.u));
      // ...and nothing above the store sees them.
      const ref = expectedFromSqlite(db, events);
      expect(await collect(readSession(store, sid, { pageSize: 100 }))).toEqual(ref.read);
      const info = (await getSession(store, sid))!;
      const stored = getSqliteSession(db, ref.sid)!;
      expect(info.messages).toBe(stored.messages);
      expect([info.bookMessages, info.tradeMessages, info.trades]).toEqual([
        stored.bookMessages,
        stored.tradeMessages,
        stored.trades,
      ]);
      expect(info.gaps).toBe(3);
      // db check counts each row once too.
      const report = await checkClickHouse(store);
      expect(report.tables.l2_updates).toBe(Number(raw.u));
      expect(report.tables.l2_updates).toBe(stored.bookMessages);
      expect(report.tables.trades).toBe(stored.trades);
    } finally {
      await store.close();
      proxy.close();
    }
  }, 120_000);

  it('shows no part of a batch whose commit never landed, and refuses to append after it', async () => {
    // A proxy that lets data inserts through but cuts every insert into `commits` before it reaches the server:
    // as a writer killed between the inserts of one batch would leave it.
    let cutCommits = false;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(server.httpPort, '127.0.0.1');
      client.on('data', (d: Buffer) => {
        if (cutCommits && /commits/.test(d.toString('latin1'))) {
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => client.write(d));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    const store = await openClickHouse(`clickhouse://127.0.0.1:${port}/partial`);
    try {
      const events = eventsWithGaps();
      const half = Math.floor(events.length / 2);
      const sid = await createSession(store, {
        source: 'sim',
        symbol: 'BTCUSDT',
        category: 'linear',
        depth: 50,
        tickSize: '0.1',
        startedAt: 1,
      });
      const w = await ClickHouseSessionWriter.open(store, sid, { retryFirstMs: 5, giveUpMs: 300 });
      for (const ev of events.slice(0, half)) write(w, ev);
      await w.drain();
      cutCommits = true;
      for (const ev of events.slice(half)) write(w, ev);
      await expect(w.drain()).rejects.toThrow('is not accepting inserts');
      cutCommits = false;
      // Merge the parts now (the server would, some time): the open gap's row must survive its uncommitted closing.
      await store.client.command({ query: 'OPTIMIZE TABLE partial.gaps FINAL' });
      await store.client.command({ query: 'OPTIMIZE TABLE partial.l2_updates FINAL' });
      // The server holds the second half's rows, but the session is the first half only.
      const [raw] = await queryJson<{ n: string }>(
        store,
        `SELECT uniqExact(id) AS n FROM partial.l2_updates WHERE session = ${sid}`,
      );
      const firstHalf = expectedFromSqlite(db, events.slice(0, half)).read;
      expect(Number(raw.n)).toBeGreaterThan(firstHalf.filter((e) => e.kind === 'book').length);
      expect(await collect(readSession(store, sid, { pageSize: 100 }))).toEqual(firstHalf);
      const info = (await getSession(store, sid))!;
      expect(info.bookMessages).toBe(firstHalf.filter((e) => e.kind === 'book').length);
      // Appending after the cut batch would expose it: a new writer is refused, the committed data stays as it is.
      await expect(ClickHouseSessionWriter.open(store, sid)).rejects.toThrow(
        `session ${sid} in ${store.name} ends with a batch that was never committed`,
      );
      expect(await collect(readSession(store, sid))).toEqual(firstHalf);
    } finally {
      await store.close();
      proxy.close();
    }
  }, 60_000);

  it('keeps rows in memory while the server is down, stores them once it is back, and acknowledges only stored rows', async () => {
    const store = await openClickHouse(server.url('outage'));
    const events = eventsWithGaps();
    const sid = await createSession(store, {
      source: 'sim',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      startedAt: 1,
    });
    const w = await ClickHouseSessionWriter.open(store, sid, {
      maxRows: 100,
      batchIntervalMs: 10,
      retryFirstMs: 20,
      giveUpMs: 60_000,
    });
    const half = Math.floor(events.length / 2);
    try {
      for (const ev of events.slice(0, half)) write(w, ev);
      await w.drain();
      const before = w.stats();
      expect(before.pending).toBe(0);
      await server.kill(); // kill -9: pooled connections drop, new ones are refused
      for (const ev of events.slice(half)) write(w, ev);
      await new Promise((r) => setTimeout(r, 600));
      const during = w.stats();
      expect(during.busySince).not.toBeNull();
      const rows = (e: StoredEvent) => (e.kind === 'trades' ? e.trades.length : 1);
      expect(during.pending).toBe(events.slice(half).reduce((n, e) => n + rows(e), 0));
      expect(during.bookMessages + during.tradeMessages).toBe(before.bookMessages + before.tradeMessages);
      // Stopping while the server is still down: the last rows and the session's end wait for it.
      let closed = false;
      const closing = w.close(2).then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(closed).toBe(false);
      await server.start();
      await closing;
      expect((await getSession(store, sid))?.endedAt).toBe(2);
      const st = w.stats();
      expect(st.pending).toBe(0);
      const ref = expectedFromSqlite(db, events);
      const sqlite = getSqliteSession(db, ref.sid)!;
      expect(st.bookMessages + st.tradeMessages).toBe(sqlite.messages);
      expect(await collect(readSession(store, sid))).toEqual(ref.read);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('fails with a clear error once the server has refused inserts past the give-up time, counting nothing unstored', async () => {
    const store = await openClickHouse(server.url('giveup'));
    const sid = await createSession(store, {
      source: 'sim',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 50,
      tickSize: '0.1',
      startedAt: 1,
    });
    const errors: Error[] = [];
    const w = await ClickHouseSessionWriter.open(store, sid, {
      retryFirstMs: 10,
      giveUpMs: 300,
      onError: (e) => errors.push(e),
    });
    // Dropping the table makes every insert fail on the server.
    await store.client.command({ query: 'DROP TABLE giveup.l2_updates' });
    try {
      for (const ev of syntheticEvents({ seed: 2, durationMs: 2_000 }))
        if (ev.kind === 'book') w.writeMessage(ev);
      await expect(w.drain()).rejects.toThrow(
        /is not accepting inserts: gave up after .* rows received were not stored/,
      );
      expect(errors).toHaveLength(1);
      expect(w.stats().bookMessages).toBe(0);
      expect(w.stats().pending).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('replays a stored session into the same book as the SQLite replay, at every message', async () => {
    const store = await openClickHouse(server.url('book'));
    try {
      const events = syntheticEvents({ seed: 23, durationMs: 15_000, gapsAtMs: [6_000] });
      const ref = expectedFromSqlite(db, events);
      const sid = await writeCh(store, events, { startedAt: 1, endedAt: 2 });
      const replay = async (it: AsyncIterable<StoredEvent> | Iterable<StoredEvent>) => {
        const book = new SequencedBook(new TickScale('0.1'));
        const tops: string[] = [];
        for await (const e of it as AsyncIterable<StoredEvent>) {
          if (e.kind !== 'book') continue;
          const res = book.apply(e);
          tops.push(
            `${res.status} ${book.valid} ${JSON.stringify(book.book.levels('bid', 10))} ${JSON.stringify(book.book.levels('ask', 10))}`,
          );
        }
        return tops;
      };
      const fromSqlite = await replay(readSqlite(db, ref.sid));
      const fromCh = await replay(readSession(store, sid));
      expect(fromCh).toEqual(fromSqlite);
      expect(fromCh.length).toBeGreaterThan(500);
      // The same session read twice gives the same book.
      expect(await replay(readSession(store, sid, { pageSize: 77 }))).toEqual(fromCh);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('reads a session whose receive clock stepped back in arrival order, whatever the page size', async () => {
    // Pages are found by receive time (the tables' sorting key): a clock stepped back 30 s, then forward 50 s, must
    // neither lose nor reorder a message.
    const store = await openClickHouse(server.url('clock'));
    try {
      const events = syntheticEvents({ seed: 29, durationMs: 60_000, gapsAtMs: [20_000] });
      const n = events.length;
      const shift = (i: number) => (i >= 0.4 * n && i < 0.7 * n ? -30_000 : i >= 0.7 * n ? 20_000 : 0);
      const stepped = events.map((e, i): StoredEvent => {
        if (e.kind === 'gap') return e;
        return { ...e, recvTs: e.recvTs + shift(i) } as StoredEvent;
      });
      const ref = expectedFromSqlite(db, stepped);
      expect(ref.read.length).toBeGreaterThan(3 * 1024); // several of the page plan's id buckets
      const sid = await writeCh(store, stepped, { startedAt: 1, endedAt: 2 });
      for (const pageSize of [64, 1000, 16_384])
        expect(await collect(readSession(store, sid, { pageSize })), `pageSize ${pageSize}`).toEqual(
          ref.read,
        );
    } finally {
      await store.close();
    }
  }, 60_000);

  it('gives writers creating sessions, runs and models at the same instant distinct ids (claimed, not highest + 1)', async () => {
    // Two connections, as two collector processes would have, each creating sessions concurrently.
    const a = await openClickHouse(server.url('claims'));
    const b = await openClickHouse(server.url('claims'));
    try {
      await expectDistinctIds(a, b, dir);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('refuses a server that is not there with an error naming it', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(openClickHouse(`clickhouse://127.0.0.1:${port}/x`)).rejects.toThrow(
      `cannot reach ClickHouse at http://127.0.0.1:${port}`,
    );
    await expect(openClickHouse(server.url('nothere'), { mustExist: true })).rejects.toThrow(
      `no database nothere on the ClickHouse server`,
    );
  });
});
