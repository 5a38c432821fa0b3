// Fuzz: ≥ 10,000 random and mutated request lines, headers and WebSocket frames (with the token and without) against
// a real bridge on 127.0.0.1. The process must stay up and keep serving the page and commands throughout.
// Reproduce a failure with L2DESK_FUZZ_SEED=<the seed in the test name>.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppContext } from '../app/createApp.ts';
import { loadConfig } from '../config/loadConfig.ts';
import {
  FuzzRng,
  fuzzRawHttp,
  fuzzWsFrames,
  mutate,
  randomJson,
  type HttpFuzzTarget,
} from '../testing/protocolFuzz.ts';
import { rawExchange, statusCodes } from '../testing/rawHttp.ts';
import { connectBridge } from './wsClient.ts';
import { MAX_FRAME, startWsBridge, type WsBridge } from './wsBridge.ts';

const SEED = Number(process.env.L2DESK_FUZZ_SEED ?? 20261202);
const ROUNDS = 10;

// Commands that start jobs (collect, retrain, backtest, feed start) are left out: the fuzz is about the transport,
// and a job's cost belongs to the engine's job limits, not to this test's run time.
const COMMANDS = [
  'app/hello',
  'trading/getThreshold',
  'trading/setThreshold',
  'trading/whatIf',
  'sessions/list',
  'sessions/quality',
  'model/list',
  'model/use',
  'model/accept',
  'model/reject',
  'backtest/cancel',
  'nope/nothing',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
];

function commandText(rng: FuzzRng): string {
  const k = rng.int(4);
  if (k === 0) return JSON.stringify(randomJson(rng));
  if (k === 1)
    return JSON.stringify({
      id: rng.pick([1, -1, 1e308, 'x', null, 2 ** 53 + 1]),
      cmd: rng.pick(COMMANDS),
      args: randomJson(rng),
    });
  if (k === 2)
    return mutate(rng, Buffer.from(JSON.stringify({ id: 1, cmd: rng.pick(COMMANDS), args: {} }))).toString(
      'latin1',
    );
  return rng.text(rng.int(80));
}

describe(`bridge fuzz (seed ${SEED})`, () => {
  let dir: string;
  let app: AppContext;
  let bridge: WsBridge;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-bridge-fuzz-'));
    const staticDir = path.join(dir, 'web');
    fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>L2 Desk</title>');
    fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    const config = loadConfig({
      ignoreUserFile: true,
      overrides: { source: 'sim', db: path.join(dir, 't.db') },
    });
    app = await createApp({ config, modelsDir: path.join(dir, 'models') });
    bridge = await startWsBridge({ port: 0, dispatch: app.dispatch, bus: app.bus, staticDir });
  });

  afterAll(async () => {
    await bridge?.close();
    await app?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const stillServing = async () => {
    const page = await rawExchange(
      bridge.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${bridge.port}\r\nConnection: close\r\n\r\n`,
    );
    expect(statusCodes(page)).toEqual([200]);
    expect(page).toContain('L2 Desk');
    const c = await connectBridge(bridge.wsUrl);
    try {
      await expect(c.invoke('trading/getThreshold', {})).resolves.toHaveProperty('threshold');
    } finally {
      c.close();
    }
  };

  it('stays up and keeps serving through ≥ 10,000 random and mutated requests and frames', async () => {
    const rng = new FuzzRng(SEED);
    const target: HttpFuzzTarget = {
      port: bridge.port,
      paths: ['/', '/index.html', '/assets/app.js', '/ws?token={token}', '/favicon.ico'],
      wsPaths: ['/ws?token={token}', '/ws', '/ws?token={token}&x=1', '/other?token={token}'],
      token: bridge.token,
      frameText: commandText,
    };
    const statuses = new Map<number, number>();
    let cases = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const raw = await fuzzRawHttp(rng, target, 1500);
      cases += raw.cases;
      for (const [s, n] of raw.statuses) statuses.set(s, (statuses.get(s) ?? 0) + n);
      cases += await fuzzWsFrames(
        rng,
        {
          url: bridge.wsUrl,
          probe: {
            text: '{"id":777000,"cmd":"trading/getThreshold"}',
            isAnswer: (f) => f.startsWith('{"id":777000,'),
          },
          frameText: commandText,
          maxPayload: MAX_FRAME,
        },
        400,
      );
      await stillServing();
    }
    expect(cases).toBeGreaterThanOrEqual(10_000);
    const seen = [...statuses.entries()].sort((a, b) => a[0] - b[0]);
    console.log(`bridge fuzz: ${cases} cases, statuses ${JSON.stringify(seen)}`);
    // Every answer is a success, an upgrade or a 4xx: nothing from outside is a server error.
    expect(
      seen.filter(([s]) => s >= 500),
      `statuses seen: ${JSON.stringify(seen)}`,
    ).toEqual([]);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(101) ?? 0).toBeGreaterThan(10);
  });
});
