// A live paper run and the backtest of its own recording make the same decisions and the same fills (issue 8), on
// two clocks: the real Bybit client (BybitSource) against the local exchange-sim on 127.0.0.1, whose frames go out
// 40 ms after their exchange stamps (a feed latency), the engine on the wall clock with its decision timer; the feed
// recorded as a session in a real SQLite file by the app's SessionRecorder, then replayed through the same engine on
// a replay clock. Compute time is configured (not measured) so that the live run is reproducible at all.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { BybitSource } from '../market/bybit/bybitSource.ts';
import { startSimExchange } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import type { MarketSource } from '../market/source.ts';
import { openDb } from '../store/db.ts';
import { readSession } from '../store/sessionReader.ts';
import { SessionRecorder } from '../store/sessionRecorder.ts';
import type { Fill, Order } from '../trading/types.ts';
import { RealClock, ReplayClock, type Clock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import { Engine, engineOptionsFromConfig, type EngineOptions } from './engine.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-live-replay-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const config = loadConfig({ ignoreUserFile: true });

/** Long in even seconds, short in odd ones: trades both ways every second, whatever the data. */
const flipping: DecisionModel = {
  needsFeatures: false,
  predict: (_row, ts) => (Math.floor(ts / 1000) % 2 === 0 ? 5 : -5),
};

interface Outcome {
  decisions: number[];
  fills: Fill[];
  orders: Map<number, Order>;
}

async function runEngine(
  source: MarketSource,
  clock: Clock,
  options: EngineOptions,
  during: (sofar: Outcome) => Promise<void>,
): Promise<Outcome> {
  const engine = new Engine(options, { source, clock, model: flipping });
  const out: Outcome = { decisions: [], fills: [], orders: new Map() };
  engine.on('prediction', (p) => out.decisions.push(p.ts));
  engine.on('fill', (f) => out.fills.push(f));
  engine.on('order', (o) => out.orders.set(o.id, o));
  await engine.start();
  await during(out);
  await engine.stop();
  return out;
}

describe('live paper run ≡ backtest of its recording (two clocks, feed latency 40 ms)', () => {
  for (const executor of ['market', 'passive'] as const) {
    it(`identical decisions and fills (${executor} executor)`, async () => {
      const server = await startSimExchange({ seed: 21 }, { speed: 1, feedDelayMs: 40 });
      const db = openDb(path.join(dir, `${executor}.db`));
      try {
        const source = new BybitSource({
          symbol: 'BTCUSDT',
          category: 'linear',
          depth: 50,
          tickSize: '0.1',
          url: server.url,
          pingIntervalMs: 1000,
          staleTimeoutMs: 10_000,
          reconnect: { initialMs: 30, maxMs: 200, jitter: 0.3 },
        });
        const base = engineOptionsFromConfig(config, source.instrument, 1000);
        const options: EngineOptions = {
          ...base,
          decisionIntervalMs: 200,
          executor,
          passiveTimeoutMs: 600,
          computeMs: 3,
          measureCompute: false,
          latencyMs: 30,
          responseLatencyMs: 20,
          risk: { ...base.risk, stopLossBps: 0, takeProfitBps: 0, cooldownMs: 0, maxDailyLoss: 0 },
        };
        const recorder = new SessionRecorder(db, source, { durationMs: Infinity, clock: 'wall', depth: 50 });
        // At least 5 s of live trading, and on (up to 20 s) until there is enough to compare: a few fills, a few dozen
        // decisions and, for the passive executor, a resting order filled as a maker. A loaded machine may give fewer
        // in the first seconds (or only takers), and the comparison would test less than it says.
        const live = await runEngine(source, new RealClock(), options, async (sofar) => {
          const started = Date.now();
          const enough = () =>
            sofar.fills.length > 3 &&
            sofar.decisions.length > 20 &&
            (executor !== 'passive' || sofar.fills.some((f) => f.liquidity === 'maker'));
          while (Date.now() - started < 5000 || (!enough() && Date.now() - started < 20_000))
            await new Promise((r) => setTimeout(r, 100));
        });
        await recorder.stop();
        const sessionId = recorder.sessionId;

        // The feed really lagged: receive stamps trail exchange stamps by the 40 ms delay (and the loopback hop).
        const lags: number[] = [];
        let lastRecv = -Infinity;
        for (const e of readSession(db, sessionId))
          if (e.kind === 'book') {
            lags.push(e.recvTs - e.ts);
            lastRecv = Math.max(lastRecv, e.recvTs);
          }
        lags.sort((a, b) => a - b);
        // (less one book step at most: the server anchors its market clock at the step after the first snapshot)
        expect(lags[Math.floor(lags.length / 2)]).toBeGreaterThanOrEqual(20);

        const replaySource = new ReplaySource({ db, sessionId, speed: 'max' });
        const replay = await runEngine(replaySource, new ReplayClock(), options, () => replaySource.done());

        // Live decided on its timer at every grid time, also after the last message it received; the replay can
        // only know the grid times before its last message.
        const liveDecisions = live.decisions.filter((d) => d < lastRecv);
        expect(liveDecisions.length).toBeGreaterThan(15);
        expect(replay.decisions).toEqual(liveDecisions);
        expect(live.fills.length).toBeGreaterThan(2);
        if (executor === 'passive') expect(live.fills.some((f) => f.liquidity === 'maker')).toBe(true);
        expect(replay.fills).toEqual(live.fills);
        // Orders sent before the data ended: same requests, same outcome.
        const before = (m: Map<number, Order>) =>
          [...m.values()].filter((o) => o.sentTs < lastRecv).map((o) => ({ ...o, note: o.note }));
        expect(before(replay.orders)).toEqual(before(live.orders));
      } finally {
        db.close();
        await server.close();
      }
    }, 45_000);
  }
});
