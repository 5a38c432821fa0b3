// Reading a session ahead in a worker thread (sessionPrefetch.ts) against readSession on the same real SQLite files:
// the same events in the same order with every value, for a real Bybit orderbook.200 recording with trades and for a
// simulated session spanning many chunks, over a time range too; the packing itself round-trips values a damaged
// row may hold (NULLs, an unknown side) and gaps; a consumer that stops early is not kept waiting; a session the
// worker cannot read is read on the caller's thread (its error as readSession says it), and a value damaged after
// the first chunk rejects with the reader's message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSimSession } from '../backtest/simSession.ts';
import { importFiles } from '../cli/import.ts';
import { BYBIT_RECORDING } from '../testing/bybitRecording.ts';
import { openDb } from './db.ts';
import { CHUNK_EVENTS, ChunkPacker, ChunkReader, prefetchedPages } from './sessionPrefetch.ts';
import { readSession, type StoredEvent } from './sessionReader.ts';
import { getSession } from './sessions.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2prefetch-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An event with its own copies of the (reused) level arrays. */
function own(e: StoredEvent): StoredEvent {
  return e.kind === 'book'
    ? { ...e, bids: e.bids.map((l) => [l[0], l[1]]), asks: e.asks.map((l) => [l[0], l[1]]) }
    : e;
}

async function readAhead(
  file: string,
  sessionId: number,
  range: { fromTs?: number; toTs?: number } = {},
  fallback: () => Iterable<StoredEvent> = () => {
    throw new Error('fallback used');
  },
): Promise<StoredEvent[]> {
  const db = openDb(file, { mustExist: true });
  const s = getSession(db, sessionId) ?? { id: sessionId, symbol: 'X', depth: 1 };
  db.close();
  const out: StoredEvent[] = [];
  for await (const page of prefetchedPages(file, s, range, fallback)) for (const e of page) out.push(own(e));
  return out;
}

function readHere(file: string, sessionId: number, range: { fromTs?: number; toTs?: number } = {}) {
  const db = openDb(file, { mustExist: true });
  try {
    return [...readSession(db, sessionId, range)];
  } finally {
    db.close();
  }
}

describe('read-ahead of a stored session', () => {
  it('packs and unpacks every kind of event, NULLs and an unknown side included', () => {
    const events: StoredEvent[] = [
      {
        kind: 'book',
        type: 'snapshot',
        symbol: 'ETHUSDT',
        depth: 200,
        recvTs: 1_700_000_000_123,
        ts: 1_700_000_000_100,
        cts: 1_700_000_000_099,
        u: 2 ** 40,
        seq: 7,
        bids: Array.from({ length: 300 }, (_, i) => [3400.01 - i * 0.01, 0.1 + i] as [number, number]),
        asks: [[3400.02, 1e-8]],
      },
      {
        kind: 'book',
        type: 'delta',
        symbol: 'ETHUSDT',
        depth: 200,
        recvTs: 5,
        ts: 4,
        cts: 3,
        u: 2,
        seq: 1,
        bids: [],
        asks: [[3400.03, 0]],
      },
      {
        kind: 'trades',
        symbol: 'ETHUSDT',
        ts: 10,
        recvTs: 11,
        trades: [
          { ts: 9, side: 'Buy', price: 3400.02, size: 0.5, id: 'a-1', blockTrade: false, seq: 12 },
          { ts: 9, side: 'Sell', price: 3400.01, size: 0.25, id: 'a-2', blockTrade: true, seq: 13 },
          // What a damaged row may hold: read back as it is, for the replay's checks to refuse.
          {
            ts: 9,
            side: 'sideways' as 'Buy',
            price: 1,
            size: 2,
            id: null as unknown as string,
            blockTrade: false,
            seq: null as unknown as number,
          },
        ],
      },
      {
        kind: 'gap',
        gap: {
          symbol: 'ETHUSDT',
          reason: 'sequence',
          startTs: 20,
          endTs: null,
          detail: 'u jumped from 2 to 9',
        },
      },
    ];
    const packer = new ChunkPacker();
    for (const e of events.slice(0, 2)) packer.add(e);
    const first = packer.take();
    for (const e of events.slice(2)) packer.add(e);
    const second = packer.take();
    expect([first.events, second.events]).toEqual([2, 2]);
    const reader = new ChunkReader('ETHUSDT', 200);
    // Each event copied before the next is read: the reader reuses its level tuples.
    const back: StoredEvent[] = [];
    for (const c of [first, second]) for (const e of reader.events(c)) back.push(own(e));
    expect(back).toEqual(events);
    // A damaged chunk is refused, not misread.
    const bad = { ...second, nums: new Float64Array([7]), used: 1, events: 1 };
    expect(() => [...reader.events(bad)]).toThrow(/read-ahead chunk damaged/);
  });

  it('gives exactly readSession’s events for a real orderbook.200 recording with trades', async () => {
    const file = path.join(dir, 'real.db');
    const db = openDb(file);
    const sid = (await importFiles(db, [BYBIT_RECORDING], { category: 'linear' })).sessions[0].sessionId;
    const s = getSession(db, sid);
    db.close();
    const here = readHere(file, sid);
    expect(here.some((e) => e.kind === 'trades')).toBe(true);
    expect(here.length).toBeGreaterThan(100);
    expect(await readAhead(file, sid)).toEqual(here);
    // Over a range too.
    const mid = ((s?.firstRecvTs ?? 0) + (s?.lastRecvTs ?? 0)) / 2;
    const range = { fromTs: mid - 5000, toTs: mid + 5000 };
    const part = readHere(file, sid, range);
    expect(part.length).toBeGreaterThan(10);
    expect(part.length).toBeLessThan(here.length);
    expect(await readAhead(file, sid, range)).toEqual(part);
  }, 60_000);

  it('gives exactly readSession’s events over many chunks, and lets a consumer stop early', async () => {
    const file = path.join(dir, 'sim.db');
    const db = openDb(file);
    const { sessionId } = writeSimSession(db, { seed: 5, durationMs: 600_000 });
    db.close();
    const here = readHere(file, sessionId);
    expect(here.length).toBeGreaterThan(4 * CHUNK_EVENTS);
    expect(await readAhead(file, sessionId)).toEqual(here);

    const s = { id: sessionId, symbol: 'BTCUSDT', depth: 50 };
    let seen = 0;
    for await (const page of prefetchedPages(file, s, {}, () => [])) {
      for (const e of page) if (e) seen++;
      break;
    }
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(here.length);
  }, 60_000);

  it('reads on the caller’s thread what the worker cannot, and reports a value damaged later', async () => {
    const file = path.join(dir, 'sim.db');
    // No such session: the worker fails before its first chunk, and the caller's own reader takes over.
    const fallback = [
      { kind: 'gap', gap: { symbol: 'X', reason: 'sequence', startTs: 1, endTs: 1, detail: 'd' } },
    ];
    expect(await readAhead(file, 999, {}, () => fallback as StoredEvent[])).toEqual(fallback);

    const db = openDb(file);
    const sid = (db.prepare('SELECT max(id) FROM sessions').pluck().get() as number) ?? 0;
    const ids = db
      .prepare('SELECT id FROM l2_updates WHERE session_id = ? ORDER BY id')
      .pluck()
      .all(sid) as number[];
    db.prepare("UPDATE l2_updates SET levels = 'not levels' WHERE id = ?").run(ids[ids.length - 10]);
    db.close();
    await expect(readAhead(file, sid)).rejects.toThrow(/stored book levels are damaged/);
  }, 60_000);
});
