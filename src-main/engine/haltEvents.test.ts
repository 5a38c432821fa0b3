// The engine's `halt` event: a book that cannot be trusted halts trading with its time and reason, and the fresh
// snapshot that resyncs it resumes trading (the same halt, with when and why); the run recorder stores both in one row.
// A real simulated session replayed through the engine, with a live-style gap (open → resync snapshot) in it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { SequencedBook } from '../book/sequencedBook.ts';
import { TickScale } from '../book/tickScale.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb, type Db } from '../store/db.ts';
import { readSession, type StoredEvent } from '../store/sessionReader.ts';
import { ReplayClock } from './clock.ts';
import { Engine, engineOptionsFromConfig } from './engine.ts';
import { readRunHalts, RunRecorder } from './runRecorder.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-halt-'));
let db: Db;
let sessionId: number;
const config = loadConfig({ ignoreUserFile: true });

beforeAll(() => {
  db = openDb(path.join(dir, 'halt.db'));
  sessionId = writeSimSession(db, { seed: 11, durationMs: 120_000 }).sessionId;
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('engine halt event', () => {
  it('an invalid book halts trading at the gap and resumes at the resync snapshot; both are recorded', async () => {
    const events = [...readSession(db, sessionId)] as StoredEvent[];
    const t0 = (events[0] as MarketMessage).ts;
    const ref = new SequencedBook(new TickScale('0.1'));
    const source = new ReplaySource({ db, sessionId, speed: 'max' });
    const options = engineOptionsFromConfig(config, source.instrument, 1000);
    const sink = new RunRecorder(db, {
      kind: 'backtest',
      source: 'replay',
      sessionId,
      symbol: 'BTCUSDT',
      model: null,
      threshold: options.threshold,
      params: {},
      startedAt: 0,
    });
    const engine = new Engine(options, { source, clock: new ReplayClock(), model: null, sink });
    const halts: RiskHalt[] = [];
    engine.on('halt', (h) => halts.push(h));
    let lastBefore = NaN;
    let snapAt = NaN;
    let opened = false;
    for (const e of events) {
      if (e.kind === 'gap') continue;
      if (e.kind === 'book') ref.apply(e);
      const dt = e.ts - t0;
      if (dt > 40_000 && !opened) {
        opened = true;
        void engine.enqueue({
          kind: 'gap',
          gap: {
            symbol: 'BTCUSDT',
            reason: 'disconnect',
            startTs: e.ts,
            endTs: null,
            detail: 'socket closed',
          },
        });
      }
      if (!opened) lastBefore = e.recvTs;
      if (dt > 40_000 && dt < 45_000) continue; // disconnected: nothing arrives
      if (dt >= 45_000 && snapAt !== snapAt && e.kind === 'book') {
        snapAt = e.recvTs;
        void engine.enqueue({
          ...e,
          type: 'snapshot',
          bids: ref.book.levels('bid', 50),
          asks: ref.book.levels('ask', 50),
        });
        continue;
      }
      void engine.enqueue(e);
    }
    await engine.idle();
    await engine.stop();
    const want: RiskHalt = {
      // Halted as of the last message received before the gap opened, resumed when the snapshot was received.
      ts: lastBefore,
      rule: 'book_invalid',
      reason: 'book invalid (disconnect)',
      resumedTs: null,
      resumeReason: null,
    };
    expect(halts).toEqual([want, { ...want, resumedTs: snapAt, resumeReason: 'a fresh snapshot' }]);
    expect(readRunHalts(db, sink.runId)).toEqual([halts[1]]);
  });
});
