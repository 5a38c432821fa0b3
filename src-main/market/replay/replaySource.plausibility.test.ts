// A session stored before the plausibility checks holds a trade at 1e-28, one of size 1e300 and one in the year
// 275760: replaying it (real SQLite file) drops those trades, reports each message's refusal as a gap that opens
// and closes at once, and passes every other message on unchanged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Gap, MarketMessage, Trade } from '../../../src-shared/market.ts';
import { parseRawMessage } from '../../market/bybit/protocol.ts';
import { openDb } from '../../store/db.ts';
import { SessionWriter } from '../../store/sessionWriter.ts';
import { createSession } from '../../store/sessions.ts';
import { BYBIT_RECORDING } from '../../testing/bybitRecording.ts';
import { ReplaySource } from './replaySource.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-replay-plaus-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ReplaySource re-checks stored trades', () => {
  it('drops implausible stored trades and reports them as gaps', async () => {
    const db = openDb(path.join(dir, 'old.db'));
    const msgs: MarketMessage[] = [];
    const poison: Array<(t: Trade) => Trade> = [
      (t) => ({ ...t, price: 1e-28 }),
      (t) => ({ ...t, size: 1e300 }),
      (t) => ({ ...t, ts: 8.64e15 }),
    ];
    let n = 0;
    for (const line of fs.readFileSync(BYBIT_RECORDING, 'utf8').split('\n').filter(Boolean)) {
      const obj = JSON.parse(line) as { ts: number };
      const f = parseRawMessage(obj, obj.ts + 40);
      if (f.type !== 'book' && f.type !== 'trades') continue;
      if (f.msg.kind === 'trades' && ++n >= 4 && n < 4 + poison.length)
        f.msg.trades = [poison[n - 4](f.msg.trades[0]), ...f.msg.trades.slice(1)];
      msgs.push(f.msg);
    }
    const id = createSession(db, {
      source: 'bybit',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 200,
      tickSize: '0.1',
      startedAt: msgs[0].recvTs,
    });
    const w = new SessionWriter(db, id);
    for (const m of msgs) w.writeMessage(m);
    w.close(msgs[msgs.length - 1].recvTs);

    const src = new ReplaySource({ db, sessionId: id, speed: 'max' });
    const trades: Trade[] = [];
    const gaps: Gap[] = [];
    let books = 0;
    src.on('message', (m) => (m.kind === 'trades' ? trades.push(...m.trades) : books++));
    src.on('gap', (g) => gaps.push(g));
    await src.start();
    await src.done();
    db.close();

    const stored = msgs.flatMap((m) => (m.kind === 'trades' ? m.trades : []));
    expect(books).toBe(msgs.length - msgs.filter((m) => m.kind === 'trades').length);
    expect(trades).toHaveLength(stored.length - 3);
    expect(trades.every((t) => t.price > 60_000 && t.size < 1e12 && t.ts < 2e12)).toBe(true);
    expect(gaps.map((g) => [g.reason, g.endTs === g.startTs])).toEqual([
      ['implausible', true],
      ['implausible', true],
      ['implausible', true],
    ]);
    expect(gaps.map((g) => g.detail.match(/implausible (\w+)/)?.[1])).toEqual(['price', 'size', 'time']);
    expect(src.health().gaps).toBe(3);
  });

  it('holds trades to the session exchange clock (a simulator 30 days behind the receive clock)', async () => {
    const db = openDb(path.join(dir, 'sim-clock.db'));
    const msgs: MarketMessage[] = [];
    for (const line of fs.readFileSync(BYBIT_RECORDING, 'utf8').split('\n').filter(Boolean)) {
      const obj = JSON.parse(line) as { ts: number };
      const f = parseRawMessage(obj, obj.ts + 30 * 24 * 3_600_000);
      if (f.type === 'book' || f.type === 'trades') msgs.push(f.msg);
    }
    const id = createSession(db, {
      source: 'bybit',
      symbol: 'BTCUSDT',
      category: 'linear',
      depth: 200,
      tickSize: '0.1',
      startedAt: msgs[0].recvTs,
    });
    const w = new SessionWriter(db, id);
    for (const m of msgs) w.writeMessage(m);
    w.close(msgs[msgs.length - 1].recvTs);
    const src = new ReplaySource({ db, sessionId: id, speed: 'max' });
    let trades = 0;
    const gaps: Gap[] = [];
    src.on('message', (m) => m.kind === 'trades' && (trades += m.trades.length));
    src.on('gap', (g) => gaps.push(g));
    await src.start();
    await src.done();
    db.close();
    expect(gaps).toEqual([]);
    expect(trades).toBe(msgs.reduce((n, m) => n + (m.kind === 'trades' ? m.trades.length : 0), 0));
  });
});
