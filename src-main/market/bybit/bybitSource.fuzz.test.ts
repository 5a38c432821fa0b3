// Fuzz: over 10,000 mutated real Bybit v5 messages (bit flips, truncation, huge and tiny numbers, deep nesting,
// wrong types, absurd times, too many levels, oversized frames) from a loopback WebSocket peer, through the
// live client, its book and the recorder's SQLite file. Nothing may crash, the event loop never stalls for
// 500 ms (a timer-lag probe: a robustness bound, not a benchmark: a stall on hostile input, such as work quadratic in
// a frame's size, blocks for seconds; a loaded CI machine's garbage collection and worker threads once made 130 ms),
// and the book is valid or gapped, never wrong.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BookMessage, MarketMessage } from '../../../src-shared/market.ts';
import { DEFAULT_PLAUSIBILITY } from '../../book/plausibility.ts';
import { SequencedBook } from '../../book/sequencedBook.ts';
import { TickScale } from '../../book/tickScale.ts';
import { openDb } from '../../store/db.ts';
import { readSession } from '../../store/sessionReader.ts';
import { SessionRecorder } from '../../store/sessionRecorder.ts';
import { BYBIT_RECORDING } from '../../testing/bybitRecording.ts';
import { cleanupAfterEach, waitFor } from '../exchangeSim/testing/simExchangeHarness.ts';
import { BybitSource } from './bybitSource.ts';
import { parseFrame } from './protocol.ts';

const SAMPLE = BYBIT_RECORDING;
const MUTATED_TARGET = 10_000;
const MAX_FRAME = 256 * 1024;
const cleanups = cleanupAfterEach();

type Json = Record<string, unknown>;

/** Deterministic randomness (mulberry32): a failure replays exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The real recording, times moved to now so the receive clock agrees with it. */
function loadSample(now: number): Json[] {
  const lines = fs.readFileSync(SAMPLE, 'utf8').split('\n').filter(Boolean);
  const msgs = lines.map((l) => JSON.parse(l) as Json);
  const shift = now - (msgs[0].ts as number);
  for (const m of msgs) {
    m.ts = (m.ts as number) + shift;
    if (typeof m.cts === 'number') m.cts += shift;
    if (Array.isArray(m.data)) for (const t of m.data as Json[]) t.T = (t.T as number) + shift;
  }
  return msgs;
}

const WRONG: unknown[] = [null, true, {}, [], 'x', -1, 1.5, 2 ** 60, '123', [[]], { b: 1 }, '', 0];
const NUMBERS: unknown[] = [
  '1e300',
  '1e-28',
  '-5',
  '0',
  'NaN',
  'Infinity',
  '9'.repeat(39),
  1e300,
  '0x10',
  '',
  '1e308',
  5e-324,
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** One mutation of a real message (as text, so byte-level damage is possible too). */
function mutate(r: () => number, m: Json, now: number): string {
  const c = structuredClone(m);
  const data = c.data as Json | Json[];
  const isBook = !Array.isArray(data);
  const levels = () => (isBook ? ((r() < 0.5 ? (data as Json).b : (data as Json).a) as unknown[][]) : []);
  switch (Math.floor(r() * 12)) {
    case 0: {
      const buf = Buffer.from(JSON.stringify(c));
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--)
        buf[Math.floor(r() * buf.length)] ^= 1 << Math.floor(r() * 8);
      return buf.toString('latin1');
    }
    case 1: {
      const s = JSON.stringify(c);
      return s.slice(0, Math.floor(r() * s.length));
    }
    case 2: {
      const lv = levels();
      if (lv.length > 0) lv[Math.floor(r() * lv.length)][r() < 0.5 ? 0 : 1] = pick(r, NUMBERS);
      else if (!isBook) (data as Json[])[0][r() < 0.5 ? 'p' : 'v'] = pick(r, NUMBERS);
      break;
    }
    case 3: {
      const depth = pick(r, [50, 5_000, 50_000]);
      return JSON.stringify(c)
        .replace('"data":', `"data":${'['.repeat(depth)}`)
        .replace(/}$/, `${']'.repeat(depth)}}`);
    }
    case 4: {
      const target = isBook ? pick(r, [c, data as Json]) : pick(r, [c, (data as Json[])[0]]);
      const keys = Object.keys(target);
      target[pick(r, keys)] = pick(r, WRONG);
      break;
    }
    case 5: {
      const year = 365.25 * 24 * 3_600_000;
      const t = pick(r, [now + 100 * year, 8.64e15, now - 2 * 3_600_000, 1, now + 2 * 3_600_000]);
      if (isBook) c[r() < 0.5 ? 'ts' : 'cts'] = t;
      else (data as Json[])[0].T = t;
      break;
    }
    case 6: {
      const lv = levels();
      if (lv.length > 0) {
        const n = pick(r, [201, 401, 2_000, 8_000]);
        const copy = lv.slice();
        while (lv.length < n) lv.push(...copy.slice(0, n - lv.length));
      }
      break;
    }
    case 7:
      // A crossing price, or an off-grid one.
      if (isBook) {
        const lv = levels();
        if (lv.length > 0) lv[0][0] = pick(r, ['70000.0', '60000.0', '65114.25', '65114.3']);
      }
      break;
    case 8:
      if (isBook) (data as Json).u = ((data as Json).u as number) + pick(r, [-1, 2, 1000, -15_000_000]);
      break;
    case 9:
      if (isBook) c.type = c.type === 'snapshot' ? 'delta' : 'snapshot';
      break;
    case 10:
      return JSON.stringify(c).replace(
        '{',
        '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},',
      );
    default:
      c.topic = `${String(c.topic)}\u001b[2J\u0000`;
  }
  return JSON.stringify(c);
}

/** Valid or gapped: a valid book is uncrossed, with finite positive prices and sizes, bids descending, asks ascending. */
function assertSane(book: SequencedBook | null): void {
  if (!book?.valid) return;
  const b = book.book;
  const bids = b.levels('bid', 250);
  const asks = b.levels('ask', 250);
  for (const side of [bids, asks])
    for (const [p, s] of side) {
      if (!(Number.isFinite(p) && p > 0 && Number.isFinite(s) && s > 0 && s <= DEFAULT_PLAUSIBILITY.maxSize))
        throw new Error(`bad level ${p} x ${s}`);
    }
  for (let i = 1; i < bids.length; i++)
    if (!(bids[i][0] < bids[i - 1][0])) throw new Error('bids out of order');
  for (let i = 1; i < asks.length; i++)
    if (!(asks[i][0] > asks[i - 1][0])) throw new Error('asks out of order');
  if (bids.length > 0 && asks.length > 0 && !(bids[0][0] < asks[0][0])) throw new Error('crossed book');
}

describe('BybitSource under fuzzed real v5 messages', () => {
  it('survives 10,000+ mutated messages: no crash, no stall, book valid or gapped, store sane', async () => {
    const r = rng(20261202);
    const sample = loadSample(Date.now());
    const truth = new SequencedBook(new TickScale('0.1'));
    let pos = 0;
    let cycle = 0;
    let mutated = 0;
    let oversized = 0;
    let sent = 0;

    /** The next real message, its u moved on per cycle so the stream stays consecutive across loops. */
    const next = (): Json => {
      if (pos === sample.length) {
        pos = 0;
        cycle++;
      }
      const m = structuredClone(sample[pos++]);
      m.ts = Date.now();
      if (!Array.isArray(m.data)) {
        (m.data as Json).u = ((m.data as Json).u as number) + cycle * 1000;
        m.cts = m.ts;
        const f = parseFrame(JSON.stringify(m), Date.now());
        if (f.type === 'book') truth.apply(f.msg);
      } else for (const t of m.data as Json[]) t.T = m.ts;
      return m;
    };
    const snapshotNow = (): string => {
      const b = truth.book;
      const fmt = (side: 'bid' | 'ask') => b.levels(side, 200).map(([p, s]) => [p.toFixed(1), String(s)]);
      const ts = Date.now();
      return JSON.stringify({
        topic: 'orderbook.200.BTCUSDT',
        type: 'snapshot',
        ts,
        data: { s: 'BTCUSDT', b: fmt('bid'), a: fmt('ask'), u: truth.lastU, seq: 1 },
        cts: ts,
      });
    };

    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((res) => wss.once('listening', res));
    cleanups.push(() => new Promise<void>((res) => wss.close(() => res())));
    let sock = null as WebSocket | null; // (set in callbacks: no narrowing to null)
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('close', () => sock === ws && (sock = null));
      ws.on('message', (d) => {
        const req = JSON.parse(d.toString()) as { op: string; args?: string[] };
        if (req.op === 'ping') return ws.send('{"success":true,"ret_msg":"pong","op":"ping"}');
        ws.send(JSON.stringify({ success: true, ret_msg: '', op: req.op }));
        if (req.op === 'subscribe' && req.args?.some((a) => a.startsWith('orderbook.'))) {
          ws.send(snapshotNow());
          sock = ws;
        }
      });
    });

    // A timer-lag probe: how late a 10 ms interval fires is how long the loop was blocked.
    let maxLag = 0;
    let lastCpu = process.cpuUsage();
    let last = performance.now();
    const probe = setInterval(() => {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const busyMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      // On a shared, loaded machine the process can be starved without being blocked: a stall is lag the
      // process spent running (CPU time), so starvation by other processes does not count as ours.
      maxLag = Math.max(maxLag, Math.min(t - last - 10, busyMs));
      last = t;
      lastCpu = cpu;
    }, 10);
    cleanups.push(() => clearInterval(probe));

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-fuzz-'));
    const db = openDb(path.join(dir, 'fuzz.db'));
    cleanups.push(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const c = new BybitSource({
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 200,
      tickSize: '0.1',
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      pingIntervalMs: 500,
      staleTimeoutMs: 3000,
      reconnect: { initialMs: 10, maxMs: 50, jitter: 0 },
      maxFrameBytes: MAX_FRAME,
    });
    cleanups.push(() => c.stop());
    const rec = new SessionRecorder(db, c, {
      durationMs: Infinity,
      clock: 'wall',
      depth: 200,
      batchIntervalMs: 250,
    });
    let passedOn = 0;
    let insane: Error | null = null;
    c.on('message', (m: MarketMessage) => {
      passedOn++;
      try {
        // The whole book every 4th message (and at the end): cheap enough, and a broken book persists.
        if (m.kind === 'book') {
          if (passedOn % 4 === 0) assertSane(c.book());
        } else
          for (const t of m.trades)
            if (!(t.price > 0 && t.size <= DEFAULT_PLAUSIBILITY.maxSize))
              throw new Error(`bad trade ${t.id}`);
      } catch (e) {
        insane ??= e as Error;
      }
    });
    c.on('warning', () => {});
    await rec.start();

    // Pump: small bursts, yielding between them, so the probe measures the client and not one huge send.
    while (mutated < MUTATED_TARGET) {
      if (!sock || sock.readyState !== sock.OPEN || sock.bufferedAmount > 1 << 20) {
        await new Promise((res) => setTimeout(res, 5));
        continue;
      }
      for (let i = 0; i < 10 && sock; i++) {
        const m = next();
        sent++;
        if (sent % 3000 === 0) {
          oversized++;
          mutated++;
          sock.send(`{"topic":"orderbook.200.BTCUSDT","data":"${'y'.repeat(MAX_FRAME + 10)}"}`);
        } else if (r() < 0.9) {
          mutated++;
          sock.send(mutate(r, m, Date.now()));
        } else sock.send(JSON.stringify(m));
      }
      await new Promise((res) => setImmediate(res));
    }
    // A clean tail: the client must resync to the true book.
    for (let i = 0; i < 5 && sock; i++) sock.send(JSON.stringify(next()));
    await waitFor('a valid book after the storm', () => c.book()?.valid === true, 10_000);
    assertSane(c.book());
    const result = await rec.stop();

    expect(insane).toBeNull();
    expect(mutated).toBeGreaterThanOrEqual(MUTATED_TARGET);
    expect(maxLag, `longest blocked interval ${Math.round(maxLag)} ms`).toBeLessThan(500);
    const h = c.health();
    expect(h.malformed).toBeGreaterThan(500);
    expect(oversized).toBeGreaterThanOrEqual(3);
    expect(h.reconnects).toBeGreaterThanOrEqual(oversized);
    expect(passedOn).toBeGreaterThan(500);
    const stored = { book: 0, trades: 0, gaps: new Map<string, number>() };
    for (const ev of readSession(db, rec.sessionId)) {
      if (ev.kind === 'gap') stored.gaps.set(ev.gap.reason, (stored.gaps.get(ev.gap.reason) ?? 0) + 1);
      else if (ev.kind === 'book') {
        stored.book++;
        assertLevels(ev);
      } else stored.trades += ev.trades.length;
    }
    expect(stored.book).toBe(result.bookMessages);
    expect(stored.gaps.get('implausible') ?? 0).toBeGreaterThan(50);
    expect(stored.gaps.get('oversize') ?? 0).toBeGreaterThan(50);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 120_000); // about 10 s of CPU; the margin is for a loaded shared machine
});

function assertLevels(m: BookMessage): void {
  for (const side of [m.bids, m.asks])
    for (const [p, s] of side)
      if (!(Number.isFinite(p) && p > 0 && Number.isFinite(s) && s >= 0 && s <= DEFAULT_PLAUSIBILITY.maxSize))
        throw new Error(`stored level ${p} x ${s} in u=${m.u}`);
}
