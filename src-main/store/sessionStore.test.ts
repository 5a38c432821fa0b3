// The store interface (sessionStore.ts) keeps one contract over both backends: the same two seeded simulated sessions
// collected into an SQLite file and into a real clickhouse-server (started here) give the same catalogue, the same
// events (whole, and bounded by receive time), the same check and the same refusals, through openSessionStore alone;
// openTrainingData gives the trainer the same rows from either.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookMessage, MarketMessage } from '../../src-shared/market.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { bookAt } from '../cli/book.ts';
import { mutationCount, writeClickHouseSession } from './testing/clickhouseSession.ts';
import { l2desk } from '../cli/testing/runCli.ts';
import { BYBIT_RECORDING } from '../testing/bybitRecording.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from './clickhouse/testServer.ts';
import type { StoredEvent } from './sessionReader.ts';
import type { CheckedSession, SessionInfo } from './sessions.ts';
import { sessionRows } from '../model/featureCache.ts';
import { openDb } from './db.ts';
import { eachEvent, openSessionStore, type SessionStore } from './sessionStore.ts';
import { openTrainingData } from './trainingData.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

async function events(store: SessionStore, id: number, opts = {}): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  await eachEvent(store.read(id, opts), (ev) => void out.push(ev));
  return out;
}

describe('openSessionStore over an SQLite file', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2store-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a missing file without creating it; an empty file holds no sessions, not an SQL error', async () => {
    const missing = path.join(dir, 'missing.db');
    await expect(openSessionStore(missing)).rejects.toThrow(/no database at .*missing\.db/);
    expect(fs.existsSync(missing)).toBe(false);
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    const store = await openSessionStore(empty, { migrate: false });
    try {
      expect(store.kind).toBe('sqlite');
      expect(await store.list()).toEqual([]);
      expect(await store.latest()).toBeUndefined();
      expect(await store.get(1)).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(skip !== null)(
  'one store interface over SQLite and ClickHouse (real clickhouse-server)',
  () => {
    const DAY = 86_400_000;
    let server: TestServer;
    let dir: string;
    let file: string;
    let ch: string;
    beforeAll(async () => {
      server = await startTestServer();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2store-'));
      file = path.join(dir, 'ref.db');
      ch = server.url('iface');
      // Two sessions of two symbols from files (their times are the file's, the same in both stores): the real
      // recording, and the same lines as another symbol (latest(symbol) then has something to choose).
      const eth = path.join(dir, 'eth.jsonl');
      fs.writeFileSync(eth, fs.readFileSync(BYBIT_RECORDING, 'utf8').replaceAll('BTCUSDT', 'ETHUSDT'));
      for (const db of [file, ch]) {
        const r = await l2desk('import', '--db', db, BYBIT_RECORDING, eth, '--quiet');
        expect(r.code, r.err).toBe(0);
      }
    }, 120_000);
    afterAll(async () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      await server?.stop();
    }, 30_000);

    it('the same catalogue, events, bounded reads and check on both stores', async () => {
      const sq = await openSessionStore(file);
      const cs = await openSessionStore(ch);
      try {
        expect([sq.kind, cs.kind]).toEqual(['sqlite', 'clickhouse']);
        expect(cs.name).toBe(ch);
        // What the data says (not when each command ran, nor its run notes).
        const strip = (s: SessionInfo | CheckedSession) => ({
          id: s.id,
          symbol: s.symbol,
          depth: s.depth,
          tickSize: s.tickSize,
          firstRecvTs: s.firstRecvTs,
          lastRecvTs: s.lastRecvTs,
          bookMessages: s.bookMessages,
          tradeMessages: s.tradeMessages,
          trades: s.trades,
          gaps: s.gaps,
        });
        const [ls, lc] = [await sq.list(), await cs.list()];
        expect(ls.map((s) => [s.id, s.symbol])).toEqual([
          [1, 'BTCUSDT'],
          [2, 'ETHUSDT'],
        ]);
        expect(lc.map(strip)).toEqual(ls.map(strip));
        expect((await cs.latest())?.id).toBe(2);
        expect((await cs.latest('BTCUSDT'))?.id).toBe(1);
        expect((await sq.latest('BTCUSDT'))?.id).toBe(1);
        expect(await cs.latest('SOLUSDT')).toBeUndefined();
        expect(await cs.get(9)).toBeUndefined();
        expect(strip((await cs.get(2))!)).toEqual(strip((await sq.get(2))!));

        for (const s of ls) {
          const a = await events(sq, s.id);
          expect(a.length).toBe(s.messages + s.gaps);
          expect(await events(cs, s.id)).toEqual(a);
          // Bounded by receive time: the same slice on both.
          const mid = Math.round((s.firstRecvTs! + s.lastRecvTs!) / 2);
          const upTo = await events(sq, s.id, { toTs: mid });
          expect(upTo.length).toBeGreaterThan(0);
          expect(upTo.length).toBeLessThan(a.length);
          expect(await events(cs, s.id, { toTs: mid })).toEqual(upTo);
          expect(await events(cs, s.id, { fromTs: mid + 1 })).toEqual(a.slice(upTo.length));
          // Bounded by row id (ids are each store's own): nothing before the first, everything up to the last.
          for (const store of [sq, cs]) {
            expect(await events(store, s.id, { toId: 0 }), store.kind).toEqual([]);
            expect(await events(store, s.id, { toId: Number.MAX_SAFE_INTEGER }), store.kind).toEqual(a);
          }
        }

        // Stopping early ends the read on both (the SQLite reader synchronously, the ClickHouse one asynchronously).
        for (const store of [sq, cs]) {
          let n = 0;
          await eachEvent(store.read(1), () => ++n < 5);
          expect(n, store.kind).toBe(5);
        }

        const [cq, cc] = [await sq.check(), await cs.check()];
        expect([cq.ok, cc.ok]).toEqual([true, true]);
        for (const t of ['sessions', 'l2_updates', 'trades', 'gaps'])
          expect(cc.tables[t], t).toBe(cq.tables[t]);
        expect(cc.sessions.map(strip)).toEqual(cq.sessions.map(strip));
      } finally {
        await sq.close();
        await cs.close();
      }
    });

    it('retention on both: a one-snapshot session pruned to a checkpoint replays the same, and twice over', async () => {
      // Fresh copies of the real recording (one snapshot, then deltas and trades for 43 s, as a live feed records).
      const pf = path.join(dir, 'prune.db');
      const pc = server.url('prune_cp');
      for (const db of [pf, pc]) {
        const r = await l2desk('import', '--db', db, BYBIT_RECORDING, '--quiet');
        expect(r.code, r.err).toBe(0);
      }
      const sq = await openSessionStore(pf);
      const cs = await openSessionStore(pc);
      try {
        const s = (await sq.get(1))!;
        const before = await events(sq, 1);
        expect(await events(cs, 1)).toEqual(before);
        for (const frac of [0.4, 0.7]) {
          const cutoff = Math.round(s.firstRecvTs! + frac * (s.lastRecvTs! - s.firstRecvTs!));
          const [rq, rc] = [
            await sq.prune({ days: 1, now: cutoff + DAY }),
            await cs.prune({ days: 1, now: cutoff + DAY }),
          ];
          expect([rq.checkpoints, rc.checkpoints]).toEqual([1, 1]);
          expect(rc.l2Deleted).toBe(rq.l2Deleted);
          expect(rc.tradesDeleted).toBe(rq.tradesDeleted);
          expect(rq.l2Deleted).toBeGreaterThan(0);
          const a = await events(sq, 1);
          expect(await events(cs, 1)).toEqual(a);
          // The first row is the checkpoint (the last book row before the cutoff, as a snapshot); the rest untouched.
          const first = a[0];
          if (first.kind !== 'book') throw new Error('the pruned session starts with a book message');
          expect(first.type).toBe('snapshot');
          expect(first.recvTs).toBeLessThan(cutoff);
          expect(first.bids.length).toBeGreaterThan(100);
          const k = before.findIndex((ev) => ev.kind === 'book' && ev.u === first.u);
          expect(a.slice(1)).toEqual(before.slice(k + 1));
          // The recording's known last book, rebuilt from the pruned session on both stores.
          for (const store of [sq, cs]) {
            const b = await bookAt(store, (await store.get(1))!, undefined, 1);
            expect([b?.valid, b?.bids[0], b?.asks[0]], store.kind).toEqual([
              true,
              [65114.2, 5.974],
              [65114.3, 9.06],
            ]);
          }
          const [cq, cc] = [await sq.check(), await cs.check()];
          expect([cq.ok, cc.ok]).toEqual([true, true]);
          for (const t of ['l2_updates', 'trades']) expect(cc.tables[t], t).toBe(cq.tables[t]);
        }
      } finally {
        await sq.close();
        await cs.close();
      }
    });

    /** A session over the last three days with one snapshot (as a live feed records it), a book and a trade a minute. */
    async function writeDays(url: string, now: number, jumpAt?: number): Promise<void> {
      const msgs: MarketMessage[] = [];
      let u = 1;
      for (let i = 0, t = now - 3 * DAY; t < now; i++, t += 60_000) {
        // A sequence break `jumpAt` minutes in, never resynced: the book is unknown from there on.
        if (i === jumpAt) u += 10;
        msgs.push({
          kind: 'book',
          type: i === 0 ? 'snapshot' : 'delta',
          symbol: 'BTCUSDT',
          depth: 50,
          ts: t,
          cts: t,
          recvTs: t,
          u: u++,
          seq: i + 1,
          // Sizes moving, a level coming and going: never crossed.
          bids:
            i === 0
              ? [
                  [100, 1],
                  [99.9, 2],
                ]
              : [
                  [100, 1 + (i % 5)],
                  [99.8, i % 2],
                ],
          asks:
            i === 0
              ? [
                  [100.1, 1],
                  [100.2, 2],
                ]
              : [[100.1, 1 + (i % 3)]],
        });
        msgs.push({
          kind: 'trades',
          symbol: 'BTCUSDT',
          ts: t + 1,
          recvTs: t + 1,
          trades: [
            { ts: t + 1, side: 'Buy', price: 100.1, size: 0.5, id: `t${i}`, blockTrade: false, seq: i },
          ],
        });
      }
      await writeClickHouseSession(url, msgs);
    }

    it('whole days on ClickHouse (a collector pruning as it records): partitions dropped, no mutation, same books', async () => {
      const now = Date.now();
      const url = server.url('whole_days');
      await writeDays(url, now);
      const cs = await openSessionStore(url);
      try {
        const before = await events(cs, 1);
        const r = await cs.prune({ days: 1, now, wholeDays: true });
        expect(r.checkpoints).toBe(1);
        expect(await mutationCount(url)).toBe(0);
        expect(r.space).toMatch(/^([4-9]|\d\d+) day partition\(s\) dropped whole$/);
        // The cutoff is the start of the server's day holding now - 1 day; the session now starts at its first book
        // message of that day, as a snapshot of the whole book there, and what follows is untouched.
        expect(r.cutoff).toBeLessThanOrEqual(now - DAY);
        expect(r.cutoff).toBeGreaterThan(now - 2 * DAY);
        const after = await events(cs, 1);
        const k = before.findIndex((ev) => ev.kind === 'book' && ev.recvTs >= r.cutoff);
        const m = before[k] as BookMessage;
        // (Trades of the cut day before that message would stay: whole days only. A book message leads each minute.)
        expect(after[0]).toMatchObject({ kind: 'book', type: 'snapshot', u: m.u, recvTs: m.recvTs });
        expect(after.slice(1)).toEqual(before.slice(k + 1));
        expect(r.l2Deleted).toBe(before.slice(0, k).filter((e) => e.kind === 'book').length);
        const b = await bookAt(cs, (await cs.get(1))!, undefined, 5);
        const sb = new SequencedBook(new TickScale('0.1'));
        for (const ev of before) if (ev.kind === 'book') sb.apply(ev);
        expect([b?.bids, b?.asks]).toEqual([sb.book.levels('bid', 5), sb.book.levels('ask', 5)]);
        expect((await cs.check()).ok).toBe(true);
      } finally {
        await cs.close();
      }
    });

    it('whole days: a session whose old days another session keeps is not cut (no snapshot mid-session)', async () => {
      const now = Date.now();
      const url = server.url('whole_days_held');
      await writeDays(url, now);
      // The second session breaks its sequence an hour in and never resyncs: it keeps its snapshot and all after it,
      // so no day of the last three can go, and the first session must not get a checkpoint behind rows that stay.
      await writeDays(url, now, 60);
      const cs = await openSessionStore(url);
      try {
        const before = [await events(cs, 1), await events(cs, 2)];
        const r = await cs.prune({ days: 1, now, wholeDays: true });
        expect([r.checkpoints, r.l2Deleted, r.tradesDeleted]).toEqual([0, 0, 0]);
        expect(await mutationCount(url)).toBe(0);
        expect([await events(cs, 1), await events(cs, 2)]).toEqual(before);
      } finally {
        await cs.close();
      }
    });

    it('openTrainingData: the file itself over SQLite; over ClickHouse the same rows beside a temporary file', async () => {
      const params = { decisionIntervalMs: 1000, horizonMs: 5000, feedLatencyMs: 0 };
      const local = await openTrainingData(file, [1, 2], params, { check: true });
      expect(local).toMatchObject({ storeName: file, file, sessionIds: [1, 2], storeCache: null });
      expect(local.storeFeatures).toBeUndefined();
      expect(local.storeReport).toBeUndefined(); // the caller checks the file itself
      expect(local.registerModel).toBeUndefined(); // the trainer registers in the file
      local.dispose();
      expect(fs.existsSync(file)).toBe(true);

      const steps: string[] = [];
      const remote = await openTrainingData(ch, [1, 2], params, {
        check: true,
        onStep: (st, store) => {
          if ('building' in st && st.done) steps.push(`${st.sessionId} ${store}`);
        },
      });
      try {
        expect(remote.storeName).toBe(ch);
        expect(remote.file).not.toBe(ch);
        expect(fs.existsSync(remote.file)).toBe(true);
        expect(remote.sessionIds).toEqual([1, 2]);
        expect(remote.storeCache).toEqual({ read: [], built: [1, 2], stored: [], storeError: null });
        expect(steps).toEqual([`1 ${ch}`, `2 ${ch}`]);
        expect(remote.storeReport?.ok).toBe(true);
        expect(remote.storeReport?.sessions.map((x) => x.id)).toEqual([1, 2]);
        expect(typeof remote.registerModel).toBe('function');
        // The rows the trainer gets from the store are the ones it builds from the SQLite file.
        const db = openDb(file, { mustExist: true });
        try {
          for (const [i, id] of [1, 2].entries()) {
            const want = sessionRows(db, id, params, { write: false }).rows;
            const got = remote.storeFeatures!.rows[i];
            expect(got.nRows, `session ${id}`).toBe(want.nRows);
            expect(got.nRows).toBeGreaterThan(0);
            expect(got.X).toEqual(want.X);
            expect(got.y).toEqual(want.y);
            expect(got.ts).toEqual(want.ts);
          }
        } finally {
          db.close();
        }
      } finally {
        remote.dispose();
      }
      expect(fs.existsSync(remote.file)).toBe(false);
      await expect(openTrainingData(server.url('nothing_here'), [], params)).rejects.toThrow(/nothing_here/);
    });

    it('refuses the same things on both: an unknown session to read, a database that does not exist', async () => {
      for (const db of [file, ch]) {
        const store = await openSessionStore(db);
        try {
          await expect(events(store, 42), store.kind).rejects.toThrow(/session 42/);
        } finally {
          await store.close();
        }
      }
      await expect(openSessionStore(server.url('nothing_here'))).rejects.toThrow(/nothing_here/);
    });
  },
);
