// The live pipeline over a real engine and a real replayed session whose tick size was unknown when stored:
// the book views the UI gets carry the tick the engine learnt from the first snapshot, not the source's '', and
// where that tick came from reaches the sink as a notice, not as an error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventName, Events } from '../../src-shared/ipc.ts';
import type { MarketMessage } from '../../src-shared/market.ts';
import { writeSimSession } from '../backtest/simSession.ts';
import { EventBus } from '../bridge/eventBus.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import { enginePipelineFactory } from './enginePipeline.ts';
import type { PipelineSink } from './ports.ts';
import { UiFeed } from './uiFeed.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-pipeline-'));
const db = openDb(path.join(dir, 'p.db'));
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A simulated market stored again as a session of a symbol whose tick nobody knew (''). */
function unknownTickSession(symbol: string, startPrice: number, tickSize: string): number {
  const simId = writeSimSession(db, { seed: 4, durationMs: 5_000, symbol, startPrice, tickSize }).sessionId;
  const id = createSession(db, {
    source: 'sim',
    symbol,
    category: 'linear',
    depth: 50,
    tickSize: '',
    startedAt: 0,
  });
  const w = new SessionWriter(db, id, { now: () => 0, maxRows: 100_000 });
  for (const e of readSession(db, simId)) if (e.kind !== 'gap') w.writeMessage(e as MarketMessage);
  w.close(0);
  return id;
}

describe('enginePipeline book views', () => {
  it.each([
    // symbol (not in the known-tick table), price, tick
    ['ADAUSDT', 0.15, '0.00001'],
    ['FOOUSDT', 3500, '0.01'],
  ])('%s at %s: the UI book carries the inferred tick %s', async (symbol, startPrice, tick) => {
    const sessionId = unknownTickSession(symbol, startPrice, tick);
    const config = loadConfig({ ignoreUserFile: true, overrides: { symbol } });
    const bus = new EventBus();
    const books: Events['market/book'][] = [];
    bus.onAny((event: EventName, payload) => {
      if (event === 'market/book') books.push(payload as Events['market/book']);
    });
    // The sink the app service gives a pipeline, over its real UI feed.
    const feed = new UiFeed(bus, { bookHz: 20, symbol: config.symbol, tickSize: '' });
    const errors: string[] = [];
    const notices: string[] = [];
    const sink: PipelineSink = {
      book: (b, ts, recvTs, valid, tickSize) => feed.onBook(b, ts, recvTs, valid, tickSize),
      prediction: (p) => feed.onPrediction(p),
      signal: (s) => feed.onSignal(s),
      fill: (f) => feed.onFill(f),
      portfolio: (p) => feed.onPortfolio(p),
      error: (where, message) => errors.push(`${where}: ${message}`),
      notice: (where, message) => notices.push(`${where}: ${message}`),
    };
    const sources: ReplaySource[] = [];
    const factory = enginePipelineFactory({
      config,
      makeSource: () => {
        sources.push(new ReplaySource({ db, sessionId, speed: 'max' }));
        return sources[0];
      },
      modelPath: () => path.join(dir, 'no-model.onnx'),
    });
    const p = await factory({ kind: 'replay', sessionId, speed: 1 }, sink, 0.3);
    // What the app service resets its feed with at start: the source knows no tick yet.
    expect(p.tickSize).toBe('');
    feed.reset(p.symbol, p.tickSize);
    await p.start();
    await sources[0].done();
    feed.flushBook();
    await p.stop();
    expect(p.tickSize).toBe(tick);
    expect(books.length).toBeGreaterThan(0);
    const last = books[books.length - 1];
    expect(last).toMatchObject({ symbol, tickSize: tick, valid: true });
    expect(last.mid).toBeCloseTo(startPrice, startPrice < 1 ? 1 : -2);
    // Learning the tick is a note for the screen, not an error toast (nor one of the 5 warnings a minute).
    expect(notices).toContain(`feed: tick size of ${symbol} inferred from its first snapshot: ${tick}`);
    expect(errors.filter((e) => /tick size|lot size/.test(e))).toEqual([]);
  });
});

describe('enginePipeline on a spot symbol', () => {
  it.each(['spot', 'linear'] as const)(
    '%s: long-only and said so on spot only, the what-if following (with its fee)',
    async (category) => {
      const sessionId = writeSimSession(db, { seed: 5, durationMs: 2_000 }).sessionId;
      db.prepare('UPDATE sessions SET category = ? WHERE id = ?').run(category, sessionId);
      const notices: string[] = [];
      const sink: PipelineSink = {
        book: () => {},
        prediction: () => {},
        signal: () => {},
        fill: () => {},
        portfolio: () => {},
        error: () => {},
        notice: (where, message) => notices.push(`${where}: ${message}`),
      };
      const source = new ReplaySource({ db, sessionId, speed: 'max' });
      const factory = enginePipelineFactory({
        config: loadConfig({ ignoreUserFile: true }),
        makeSource: () => source,
        modelPath: () => path.join(dir, 'no-model.onnx'),
      });
      const p = await factory({ kind: 'replay', sessionId, speed: 1 }, sink, 0.3);
      expect(p.longOnly).toBe(category === 'spot');
      // The threshold's what-if charges the category's taker fee.
      expect(p.takerFee).toBe(category === 'spot' ? 0.001 : 0.00055);
      await p.start();
      await source.done();
      await p.stop();
      const said = notices.filter((n) => /long-only/.test(n));
      expect(said).toEqual(
        category === 'spot'
          ? [
              'trading: BTCUSDT is spot: the paper account is long-only (a sell signal closes a long and stays flat; risk.spot_shorts: true allows shorts, as on margin)',
            ]
          : [],
      );
    },
  );
});
