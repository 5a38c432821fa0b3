// store.ingest: messages/s stored through SessionWriter (batched transactions, shared id counter, session
// counters), beside its ceiling: a bare prepared-statement INSERT loop of the same rows, already encoded
// (BLOBs built before the clock starts), in ONE transaction into the same schema.
// Messages: the real orderbook.200 + publicTrade recording in ../shared/data, repeated with fresh u/times.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRawMessage } from '../src-main/market/bybit/protocol.ts';
import { openDb, type Db } from '../src-main/store/db.ts';
import { decodeLevels, encodeLevels } from '../src-main/store/levelCodec.ts';
import { readSession } from '../src-main/store/sessionReader.ts';
import { INSERT_BOOK_SQL, INSERT_TRADE_SQL, SessionWriter } from '../src-main/store/sessionWriter.ts';
import { createSession } from '../src-main/store/sessions.ts';
import type { MarketMessage } from '../src-shared/market.ts';
import { fullGc } from './lib/report.ts';
import { BYBIT_RECORDING as REC } from '../src-main/testing/bybitRecording.ts';

const N = Number(process.env.BENCH_N ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function loadMessages(): MarketMessage[] {
  const base: MarketMessage[] = [];
  for (const line of fs.readFileSync(REC, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const obj = JSON.parse(line) as { ts: number };
    const f = parseRawMessage(obj, obj.ts);
    if (f.type === 'book' || f.type === 'trades') base.push(f.msg);
  }
  const span = base[base.length - 1].recvTs - base[0].recvTs + 100;
  const out: MarketMessage[] = [];
  for (let rep = 0; out.length < N; rep++) {
    for (const m of base) {
      if (out.length >= N) break;
      const dt = rep * span;
      out.push(
        m.kind === 'book'
          ? { ...m, u: m.u + rep * 1_000_000, ts: m.ts + dt, recvTs: m.recvTs + dt }
          : { ...m, ts: m.ts + dt, recvTs: m.recvTs + dt },
      );
    }
  }
  return out;
}

function freshDb(dir: string, name: string) {
  const db = openDb(path.join(dir, name));
  const sid = createSession(db, {
    source: 'bench',
    symbol: 'BTCUSDT',
    category: 'linear',
    depth: 200,
    tickSize: '0.1',
    startedAt: 0,
  });
  return { db, sid };
}

/** CPU seconds (user + system) this process spent since c0: steadier than wall time on a shared machine. */
function cpuSeconds(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

function viaWriter(dir: string, msgs: MarketMessage[], i: number): [number, number] {
  const { db, sid } = freshDb(dir, `w${i}.db`);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const w = new SessionWriter(db, sid);
  for (const m of msgs) w.writeMessage(m);
  w.close(1);
  const dt = performance.now() - t0;
  const cpu = cpuSeconds(c0);
  db.close();
  return [msgs.length / (dt / 1000), msgs.length / cpu];
}

type Row = { book: boolean; args: unknown[] };

/** The peer's rows, encoded before its clock starts: the same columns SessionWriter binds, in statement order. */
function encodeRows(msgs: MarketMessage[]): Row[] {
  const rows: Row[] = [];
  let id = 1;
  for (const m of msgs) {
    if (m.kind === 'book') {
      const head = [id++, 1, m.recvTs, m.ts, m.cts, m.u, m.seq, m.type === 'snapshot' ? 1 : 0];
      rows.push({ book: true, args: [...head, encodeLevels(m.bids), encodeLevels(m.asks)] });
    } else {
      const msgId = id;
      for (const t of m.trades) {
        const trade = [t.ts, t.side, t.price, t.size, t.id, t.blockTrade ? 1 : 0, t.seq];
        rows.push({ book: false, args: [id++, 1, msgId, m.recvTs, m.ts, ...trade] });
      }
    }
  }
  return rows;
}

function bare(dir: string, msgs: MarketMessage[], rows: Row[], i: number): [number, number] {
  const { db } = freshDb(dir, `b${i}.db`);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const book = db.prepare(INSERT_BOOK_SQL);
  const trade = db.prepare(INSERT_TRADE_SQL);
  db.transaction(() => {
    for (const r of rows) (r.book ? book : trade).run(...r.args);
  })();
  const dt = performance.now() - t0;
  const cpu = cpuSeconds(c0);
  db.close();
  return [msgs.length / (dt / 1000), msgs.length / cpu];
}

/** store.replay: readSession (paged, 3-way merge, full message objects) over the file viaWriter made. */
function replayOurs(file: string): [number, number, number, number] {
  const db = openDb(file);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  let levels = 0;
  for (const e of readSession(db, 1)) {
    n++;
    if (e.kind === 'book') levels += e.bids.length + e.asks.length;
  }
  const dt = performance.now() - t0;
  const cpu = cpuSeconds(c0);
  db.close();
  if (levels === 0) throw new Error('replay read no levels');
  return [n / (dt / 1000), n / cpu, n, levels];
}

/**
 * The ceiling's statements: the rows readSession reads (the session's id span, every column it reads), in the
 * same order (id), each table in one raw iterate() (no paging, no merge, no message objects). NOT INDEXED walks
 * the rowid range; an index scan on (session_id, ...) would need a temp B-tree to sort by id: a slower query that
 * ours would beat without meaning anything, so planCheck refuses it.
 */
const CEILING_SQL = [
  `SELECT id, recv_ts, ts, cts, u, seq, is_snapshot, bids, asks FROM l2_updates NOT INDEXED
   WHERE id >= ? AND id <= ? AND session_id = ? ORDER BY id`,
  `SELECT id, msg_id, recv_ts, msg_ts, ts, side, price, size, trade_id, block_trade, seq FROM trades NOT INDEXED
   WHERE id >= ? AND id <= ? AND session_id = ? ORDER BY id`,
  `SELECT id, reason, start_ts, end_ts, detail FROM gaps NOT INDEXED
   WHERE id >= ? AND id <= ? AND session_id = ? ORDER BY id`,
] as const;

/** Fails loudly when a ceiling query would sort through a temp B-tree (it would not do the same work as ours). */
function planCheck(db: Db): void {
  for (const sql of CEILING_SQL) {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(0, 0, 1) as { detail: string }[]).map(
      (r) => r.detail,
    );
    if (plan.some((d) => /TEMP B-TREE/i.test(d)))
      throw new Error(`store.replay ceiling sorts through a temp B-tree: ${plan.join('; ')} for ${sql}`);
  }
}

/** Its ceiling: the same rows and columns in the same order, decoding the same BLOBs, nothing else. */
function replayBare(file: string): [number, number, number, number] {
  const db = openDb(file);
  planCheck(db);
  const [lo, hi] = db.prepare('SELECT first_id, last_id FROM sessions WHERE id = 1').raw(true).get() as [
    number,
    number,
  ];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  let levels = 0;
  const [bookSql, tradeSql, gapSql] = CEILING_SQL;
  for (const r of db.prepare(bookSql).raw(true).iterate(lo, hi, 1) as Iterable<unknown[]>) {
    levels += decodeLevels(r[7] as Buffer).length + decodeLevels(r[8] as Buffer).length;
    n++;
  }
  let lastMsg = -1;
  for (const r of db.prepare(tradeSql).raw(true).iterate(lo, hi, 1) as Iterable<unknown[]>) {
    if (r[1] !== lastMsg) n++;
    lastMsg = r[1] as number;
  }
  for (const _ of db.prepare(gapSql).raw(true).iterate(lo, hi, 1)) n++;
  const dt = performance.now() - t0;
  const cpu = cpuSeconds(c0);
  db.close();
  if (levels === 0) throw new Error('replay read no levels');
  return [n / (dt / 1000), n / cpu, n, levels];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const msgs = loadMessages();
const rows = encodeRows(msgs);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2bench-store-'));
try {
  const ours: number[] = [];
  const peer: number[] = [];
  const oursCpu: number[] = [];
  const peerCpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    fullGc();
    const [pw, pc] = bare(dir, msgs, rows, i);
    fullGc();
    const [ow, oc] = viaWriter(dir, msgs, i);
    peer.push(pw);
    peerCpu.push(pc);
    ours.push(ow);
    oursCpu.push(oc);
  }
  const rOurs: number[] = [];
  const rPeer: number[] = [];
  const rOursCpu: number[] = [];
  const rPeerCpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate who goes first (page cache, a noisy neighbour), a full GC before each.
    const order = i % 2 === 0 ? [replayBare, replayOurs] : [replayOurs, replayBare];
    const got = order.map((f) => {
      fullGc();
      return f(path.join(dir, 'w0.db'));
    });
    const [pw, pc, pn, pl] = got[order.indexOf(replayBare)];
    const [ow, oc, on, ol] = got[order.indexOf(replayOurs)];
    if (pn !== on || pl !== ol)
      throw new Error(`store.replay: the ceiling read ${pn} messages/${pl} levels, ours ${on}/${ol}`);
    rPeer.push(pw);
    rPeerCpu.push(pc);
    rOurs.push(ow);
    rOursCpu.push(oc);
  }
  const value = median(ours);
  const peerValue = median(peer);
  console.log(
    JSON.stringify({
      bench: 'store.ingest',
      value: Math.round(value),
      unit: 'messages/s',
      peer: 'bare_insert',
      peer_value: Math.round(peerValue),
      ceiling_ratio: Number((value / peerValue).toFixed(3)),
      // per CPU-second of this process: what one uncontended core would do (the machine is shared)
      value_cpu: Math.round(median(oursCpu)),
      peer_value_cpu: Math.round(median(peerCpu)),
      n: msgs.length,
      runs: RUNS,
      levels_per_message: Number(
        (
          msgs.reduce((s, m) => s + (m.kind === 'book' ? m.bids.length + m.asks.length : 0), 0) / msgs.length
        ).toFixed(1),
      ),
    }),
  );
  console.log(
    JSON.stringify({
      bench: 'store.replay',
      value: Math.round(median(rOurs)),
      unit: 'messages/s',
      peer: 'bare_select (same rows, columns, order and BLOB decoding; no temp B-tree)',
      peer_value: Math.round(median(rPeer)),
      ceiling_ratio: Number((median(rOurs) / median(rPeer)).toFixed(3)),
      value_cpu: Math.round(median(rOursCpu)),
      peer_value_cpu: Math.round(median(rPeerCpu)),
      n: msgs.length,
      runs: RUNS,
    }),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
