// The model registry of a ClickHouse store against a real clickhouse-server: a file's registry is saved with the
// store's own ids and its decisions remapped onto them, a second save of the same file adds nothing (a killed trade's
// working file saved again), a champion saved from another file retires the store's champion of the same feature set
// and horizon, and a store without the tables lists nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision, registerModel, setChampion, setStatus } from '../../model/modelRegistry.ts';
import { openDb, type Db } from '../db.ts';
import { openClickHouse, type ClickHouseStore } from './connection.ts';
import { listDecisionsIn, listModelsIn, registerModelIn, saveRegistry } from './modelStore.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from './testServer.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

const model = (dir: string, name: string, createdAt: number) => ({
  path: path.join(dir, `${name}.onnx`),
  name,
  createdAt,
  featureSetVersion: 'l2f-1',
  horizonMs: 10_000,
  metrics: { r2: 0.01, ic: 0.1 },
  params: { rounds: 20 },
});

describe.skipIf(skip !== null)('the model registry of a ClickHouse store (real clickhouse-server)', () => {
  let server: TestServer;
  let dir: string;
  let ch: ClickHouseStore;
  let a: Db;
  beforeAll(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chreg-'));
    ch = await openClickHouse(server.url('registry'));
    a = openDb(path.join(dir, 'a.db'));
    // Made first so that the file's ids are not the store's.
    await registerModelIn(ch, model(dir, 'trained', 1000));
  }, 90_000);
  afterAll(async () => {
    a?.close();
    await ch?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  }, 30_000);

  it('saves a file’s models and decisions under the store’s ids, and a second save adds nothing', async () => {
    const champ = registerModel(a, model(dir, 'start', 2000));
    setChampion(a, champ);
    const chall = registerModel(a, model(dir, 'retrained-1', 3000));
    setStatus(a, chall, 'rejected');
    recordDecision(a, {
      decidedAt: 3500,
      championId: champ,
      challengerId: chall,
      promoted: false,
      reason: 'challenger IC 0.01 not above champion 0.10',
      championMetrics: { ic: 0.1 },
      challengerMetrics: { ic: 0.01 },
      evalFrom: 3000,
      evalTo: 3400,
    });
    const ids = await saveRegistry(ch, a);
    expect([...ids.entries()]).toEqual([
      [champ, 2],
      [chall, 3],
    ]);
    const again = await saveRegistry(ch, a);
    expect([...again.entries()]).toEqual([...ids.entries()]);
    const models = await listModelsIn(ch);
    expect(models.map((m) => [m.id, m.name, m.status])).toEqual([
      [1, 'trained', 'challenger'],
      [2, 'start', 'champion'],
      [3, 'retrained-1', 'rejected'],
    ]);
    expect(models[1].metrics).toEqual({ r2: 0.01, ic: 0.1 });
    const decisions = await listDecisionsIn(ch);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      championId: 2,
      challengerId: 3,
      promoted: false,
      evalFrom: 3000,
      evalTo: 3400,
      championMetrics: { ic: 0.1 },
    });
  });

  it('a champion saved from another file retires the store’s champion of the same feature set and horizon', async () => {
    const b = openDb(path.join(dir, 'b.db'));
    try {
      setChampion(b, registerModel(b, model(dir, 'other-start', 4000)));
      await saveRegistry(ch, b);
    } finally {
      b.close();
    }
    const models = await listModelsIn(ch);
    expect(models.map((m) => [m.name, m.status])).toEqual([
      ['trained', 'challenger'],
      ['start', 'retired'],
      ['retrained-1', 'rejected'],
      ['other-start', 'champion'],
    ]);
  });

  it('a store without the registry tables lists nothing', async () => {
    await ch.client.command({ query: `DROP TABLE ${ch.table('models')}` });
    await ch.client.command({ query: `DROP TABLE ${ch.table('model_decisions')}` });
    expect(await listModelsIn(ch)).toEqual([]);
    expect(await listDecisionsIn(ch)).toEqual([]);
    // Registering creates them again; the ids claimed before are not handed out twice (idClaims.ts).
    const id = await registerModelIn(ch, model(dir, 'fresh', 6000));
    expect(id).toBe(5);
    expect((await listModelsIn(ch)).map((m) => [m.id, m.name])).toEqual([[5, 'fresh']]);
  });
});
