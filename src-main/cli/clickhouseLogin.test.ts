// Logging in to a ClickHouse store that has users with passwords (a real clickhouse-server started here, whose second
// user `trader` has one): the user named in the address or in L2DESK_CLICKHOUSE_USER, the password only from
// L2DESK_CLICKHOUSE_PASSWORD. A refused login says so, naming the user and where the password came from; a password
// put in the address is refused; no output ever shows the password.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clickhouseSkipReason,
  startTestServer,
  TEST_LOGIN,
  type TestServer,
} from '../store/clickhouse/testServer.ts';
import { l2desk } from './testing/runCli.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

const ENV_USER = 'L2DESK_CLICKHOUSE_USER';
const ENV_PASSWORD = 'L2DESK_CLICKHOUSE_PASSWORD';

function setEnv(user: string | undefined, password: string | undefined): void {
  if (user === undefined) delete process.env[ENV_USER];
  else process.env[ENV_USER] = user;
  if (password === undefined) delete process.env[ENV_PASSWORD];
  else process.env[ENV_PASSWORD] = password;
}

describe.skipIf(skip !== null)('a ClickHouse store behind a login (real clickhouse-server)', () => {
  let server: TestServer;
  let hostPort: string;
  let dir: string;
  const saved = { user: process.env[ENV_USER], password: process.env[ENV_PASSWORD] };
  const db = (user?: string) => `clickhouse://${user ? `${user}@` : ''}${hostPort}/logins`;
  /** Every run's output, checked at the end for the password. */
  const outputs: string[] = [];
  const run = async (...argv: string[]) => {
    const r = await l2desk(...argv);
    outputs.push(r.out, r.err);
    return r;
  };

  beforeAll(async () => {
    server = await startTestServer();
    hostPort = new URL(server.httpUrl).host;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chlogin-'));
  }, 90_000);
  afterEach(() => setEnv(saved.user, saved.password));
  afterAll(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  }, 30_000);

  it('works as the user named in the address or in the environment, with the password from the environment', async () => {
    setEnv(undefined, TEST_LOGIN.password);
    const c = await run(
      'collect',
      '--source',
      'sim',
      '--seed',
      '5',
      '--speed',
      'max',
      '--duration',
      '20s',
      '--db',
      db(TEST_LOGIN.user),
      '--quiet',
    );
    expect(c.code, c.err).toBe(0);
    const check = async () => {
      const r = await run('db', 'check', '--db', db(TEST_LOGIN.user), '--json');
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as { ok: boolean; sessions: { id: number; bookMessages: number }[] };
    };
    const a = await check();
    expect(a.ok).toBe(true);
    expect(a.sessions).toHaveLength(1);
    expect(a.sessions[0].bookMessages).toBeGreaterThan(100);

    // The user from the environment instead of the address: the same store.
    setEnv(TEST_LOGIN.user, TEST_LOGIN.password);
    const b = await run('db', 'check', '--db', db(), '--json');
    expect(b.code, b.err).toBe(0);
    expect((JSON.parse(b.out) as { sessions: unknown[] }).sessions).toEqual(a.sessions);

    // A backtest reads the session and saves its run into the store, as that user.
    const report = path.join(dir, 'bt.json');
    const bt = await run(
      'backtest',
      '--db',
      db(TEST_LOGIN.user),
      '--session',
      '1',
      '--threshold',
      '0.2',
      '--report',
      report,
    );
    expect(bt.code, bt.err).toBe(0);
    expect((JSON.parse(fs.readFileSync(report, 'utf8')) as { rows: unknown[] }).rows).toHaveLength(1);
    const runs = await run('runs', '--db', db(TEST_LOGIN.user));
    expect(runs.code, runs.err).toBe(0);
    expect(runs.out).toContain('0.2');
  });

  it('says the login was refused, naming the user and where the password came from', async () => {
    setEnv(undefined, 'not-the-password');
    const wrong = await run('db', 'check', '--db', db(TEST_LOGIN.user));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(
      `refused the login of user ${TEST_LOGIN.user} with the password in ${ENV_PASSWORD}`,
    );
    expect(wrong.err).not.toContain('not-the-password');

    setEnv(undefined, undefined);
    const none = await run('db', 'check', '--db', db(TEST_LOGIN.user));
    expect(none.code).toBe(1);
    expect(none.err).toContain(`user ${TEST_LOGIN.user} with no password (${ENV_PASSWORD} is not set)`);

    setEnv(undefined, TEST_LOGIN.password);
    const unknown = await run('book', '--db', db('nobody'));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('refused the login of user nobody');
  });

  it('refuses a password in the address without showing it', async () => {
    const secret = 'hunter2/with@signs';
    const r = await run(
      'db',
      'check',
      '--db',
      `clickhouse://${TEST_LOGIN.user}:${secret}@${hostPort}/logins`,
    );
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`a password does not go in the address`);
    expect(r.err).toContain(`set ${ENV_PASSWORD}`);
    expect(r.err).toContain(`clickhouse://${TEST_LOGIN.user}:***@`);
    expect(r.err).not.toContain('hunter2');
    // Also where a command that takes no ClickHouse store refuses the address.
    const sim = await run(
      'sim',
      'calibrate',
      '--db',
      `clickhouse://${TEST_LOGIN.user}:${secret}@${hostPort}/logins`,
    );
    expect(sim.code).not.toBe(0);
    expect(sim.err).not.toContain('hunter2');
  });

  afterAll(() => {
    for (const o of outputs) expect(o).not.toContain(TEST_LOGIN.password);
  });
});
