// Reaching a ClickHouse store as a server elsewhere would be reached (a real clickhouse-server started here, whose
// second user `trader` has a password, also serving HTTPS with a self-signed certificate):
// - logins: the user named in the address or in L2DESK_CLICKHOUSE_USER, the password only from
//   L2DESK_CLICKHOUSE_PASSWORD; a refused login says so, naming the user and where the password came from; a password
//   put in the address is refused; no output ever shows the password;
// - HTTPS (`?secure=true`), the certificate checked against L2DESK_CLICKHOUSE_CA; each way of getting it wrong (an
//   untrusted certificate, HTTPS to the HTTP port and back, an unreadable CA file) says what to change.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clickhouseSkipReason,
  startTestServer,
  TEST_LOGIN,
  tlsSkipReason,
  type TestServer,
} from '../store/clickhouse/testServer.ts';
import { l2desk } from './testing/runCli.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);
const tlsSkip = skip ?? tlsSkipReason();
if (tlsSkip && !skip) console.warn(tlsSkip);

const ENV_USER = 'L2DESK_CLICKHOUSE_USER';
const ENV_PASSWORD = 'L2DESK_CLICKHOUSE_PASSWORD';
const ENV_CA = 'L2DESK_CLICKHOUSE_CA';

function setEnv(user: string | undefined, password: string | undefined, ca?: string): void {
  for (const [k, v] of [
    [ENV_USER, user],
    [ENV_PASSWORD, password],
    [ENV_CA, ca],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

describe.skipIf(skip !== null)('a ClickHouse store behind a login and HTTPS (real clickhouse-server)', () => {
  let server: TestServer;
  let hostPort: string;
  let dir: string;
  const saved = { user: process.env[ENV_USER], password: process.env[ENV_PASSWORD], ca: process.env[ENV_CA] };
  const db = (user?: string) => `clickhouse://${user ? `${user}@` : ''}${hostPort}/logins`;
  /** Every run's output, checked at the end for the password. */
  const outputs: string[] = [];
  const run = async (...argv: string[]) => {
    const r = await l2desk(...argv);
    outputs.push(r.out, r.err);
    return r;
  };

  beforeAll(async () => {
    server = await startTestServer({ tls: tlsSkip === null });
    hostPort = new URL(server.httpUrl).host;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2chlogin-'));
  }, 90_000);
  afterEach(() => setEnv(saved.user, saved.password, saved.ca));
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

  it.skipIf(tlsSkip !== null)(
    'reaches the server over HTTPS, its certificate checked against the CA in L2DESK_CLICKHOUSE_CA',
    async () => {
      const https = `clickhouse://${TEST_LOGIN.user}@127.0.0.1:${server.httpsPort}/logins?secure=true`;
      setEnv(undefined, TEST_LOGIN.password, server.caFile);
      const r = await run('db', 'check', '--db', https, '--json');
      expect(r.code, r.err).toBe(0);
      // The session collected over HTTP above.
      expect((JSON.parse(r.out) as { sessions: { id: number }[] }).sessions.map((x) => x.id)).toEqual([1]);
      const book = await run('book', '--db', https, '--json', '--depth', '3');
      expect(book.code, book.err).toBe(0);
      expect((JSON.parse(book.out) as { bids: unknown[] }).bids).toHaveLength(3);
    },
  );

  it.skipIf(tlsSkip !== null)('says what to change when HTTPS is set up wrong', async () => {
    const at = (port: number | undefined, secure: boolean) =>
      `clickhouse://${TEST_LOGIN.user}@127.0.0.1:${port}/logins${secure ? '?secure=true' : ''}`;
    setEnv(undefined, TEST_LOGIN.password);
    const untrusted = await run('db', 'check', '--db', at(server.httpsPort, true));
    expect(untrusted.code).toBe(1);
    expect(untrusted.err).toContain('its certificate is not trusted');
    expect(untrusted.err).toContain(`set ${ENV_CA} to that CA's PEM file`);

    setEnv(undefined, TEST_LOGIN.password, server.caFile);
    const httpsToHttp = await run('db', 'check', '--db', at(server.httpPort, true));
    expect(httpsToHttp.code).toBe(1);
    // Refused at once, or (as ClickHouse sometimes does) never answered: both name the port and the fix.
    expect(httpsToHttp.err).toMatch(
      new RegExp(`(does not speak|did not answer) HTTPS on port ${server.httpPort}.*give its HTTPS port`),
    );

    const httpToHttps = await run('db', 'check', '--db', at(server.httpsPort, false));
    expect(httpToHttps.code).toBe(1);
    expect(httpToHttps.err).toContain('add ?secure=true to the address');

    setEnv(undefined, TEST_LOGIN.password, path.join(dir, 'no-such-ca.pem'));
    const noCa = await run('db', 'check', '--db', at(server.httpsPort, true));
    expect(noCa.code).toBe(1);
    expect(noCa.err).toContain(
      `${ENV_CA}=${path.join(dir, 'no-such-ca.pem')}: cannot read the CA certificate`,
    );
  });

  afterAll(() => {
    for (const o of outputs) expect(o).not.toContain(TEST_LOGIN.password);
  });
});
