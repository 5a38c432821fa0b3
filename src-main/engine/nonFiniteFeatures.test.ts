// A session stored before the plausibility checks, with trades of size 1e300 (what an unchecked recorder kept),
// replayed with the size cap lifted (data that got through): the features overflow, and those decisions are
// skipped and counted, never handed to the model. Real components: SQLite file, SessionWriter, ReplaySource, Engine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { DEFAULT_PLAUSIBILITY } from '../book/plausibility.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { parseRawMessage } from '../market/bybit/protocol.ts';
import { ReplaySource } from '../market/replay/replaySource.ts';
import { openDb } from '../store/db.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { createSession } from '../store/sessions.ts';
import { BYBIT_RECORDING } from '../testing/bybitRecording.ts';
import { ReplayClock } from './clock.ts';
import type { DecisionModel } from './decisionModel.ts';
import { Engine, engineOptionsFromConfig } from './engine.ts';
import type { HealthEvent } from './events.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-nonfinite-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function storePoisoned(file: string, poison: boolean): number {
  const db = openDb(file);
  const msgs: MarketMessage[] = [];
  let trades = 0;
  for (const line of fs.readFileSync(BYBIT_RECORDING, 'utf8').split('\n').filter(Boolean)) {
    const obj = JSON.parse(line) as { ts: number };
    const f = parseRawMessage(obj, obj.ts + 40);
    if (f.type !== 'book' && f.type !== 'trades') continue;
    const m = f.msg;
    // The last trades get size 1e300: the traded-volume feature overflows a float32.
    if (poison && m.kind === 'trades' && ++trades > 12)
      m.trades = m.trades.map((t) => ({ ...t, size: 1e300 }));
    msgs.push(m);
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
  db.close();
  return id;
}

async function replay(file: string, id: number) {
  const db = openDb(file);
  const config = loadConfig({ ignoreUserFile: true, overrides: { 'features.decision_interval': '500ms' } });
  const plausibility = { ...DEFAULT_PLAUSIBILITY, maxSize: Infinity };
  const source = new ReplaySource({ db, sessionId: id, speed: 'max', plausibility });
  let rows = 0;
  let nonFiniteRows = 0;
  const model: DecisionModel = {
    needsFeatures: true,
    predict(row: Float32Array) {
      rows++;
      if (row.some((x) => !Number.isFinite(x))) nonFiniteRows++;
      return 0;
    },
  };
  const engine = new Engine(engineOptionsFromConfig(config, source.instrument, 1000), {
    source,
    clock: new ReplayClock(),
    model,
  });
  let lastHealth: HealthEvent | null = null;
  engine.on('health', (h) => (lastHealth = h));
  await engine.start();
  await source.done();
  await engine.stop();
  db.close();
  return { rows, nonFiniteRows, health: engine.health(), lastHealth: lastHealth as HealthEvent | null };
}

describe('non-finite features never reach the model', () => {
  it('skips and counts the decisions whose feature row is not finite', async () => {
    const file = path.join(dir, 'poisoned.db');
    const r = await replay(file, storePoisoned(file, true));
    expect(r.nonFiniteRows).toBe(0);
    expect(r.health.nonFiniteSkips).toBeGreaterThan(0);
    expect(r.rows).toBeGreaterThan(0); // decisions before the poison still predicted
    expect(r.lastHealth?.nonFiniteSkips).toBe(r.health.nonFiniteSkips);
  });

  it('the same session unpoisoned skips nothing', async () => {
    const file = path.join(dir, 'clean.db');
    const r = await replay(file, storePoisoned(file, false));
    expect(r.health.nonFiniteSkips).toBe(0);
    expect(r.rows).toBeGreaterThan(0);
  });
});
