// `db prune --whole-days` on a real clickhouse-server: a session recorded over the last three days with a single
// snapshot, pruned to one day: whole day partitions go, no delete mutation runs, and the session starts at a snapshot of
// its book at its first message of the day kept. Without the flag the same prune cuts at the exact time, through a
// mutation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';
import { eachEvent, openSessionStore } from '../store/sessionStore.ts';
import { mutationCount, steadyBooks, writeClickHouseSession } from '../store/testing/clickhouseSession.ts';
import { l2desk } from './testing/runCli.ts';

const skip = clickhouseSkipReason();
if (skip) console.warn(skip);

const DAY = 86_400_000;

describe.skipIf(skip !== null)('db prune --whole-days (real clickhouse-server)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  async function firstEvent(url: string): Promise<string> {
    const store = await openSessionStore(url);
    try {
      let first = '';
      await eachEvent(store.read(1), (ev) => {
        first = ev.kind === 'book' ? `${ev.type} ${ev.recvTs}` : ev.kind;
        return false;
      });
      return first;
    } finally {
      await store.close();
    }
  }

  it('drops whole days without a mutation; without the flag it cuts exactly, with one', async () => {
    const now = Date.now();
    for (const [name, flags] of [
      ['whole', ['--whole-days']],
      ['exact', []],
    ] as const) {
      const url = server.url(name);
      // Three days to now, a book message a minute.
      await writeClickHouseSession(url, steadyBooks(now - 3 * DAY, 3 * 24 * 60, 60_000));
      const r = await l2desk('db', 'prune', '--db', url, '--days', '1', ...flags);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/1 session\(s\) spanning the cutoff now start at a snapshot of their book there/);
      const [type, at] = (await firstEvent(url)).split(' ');
      expect(type).toBe('snapshot');
      if (name === 'whole') {
        expect(r.out).toMatch(/\d+ day partition\(s\) dropped whole/);
        expect(await mutationCount(url)).toBe(0);
        // The first message of the server's day holding now - 1 day: at or after that day's start.
        expect(Number(at)).toBeLessThanOrEqual(now - DAY);
        expect(Number(at)).toBeGreaterThan(now - 2 * DAY);
      } else {
        expect(await mutationCount(url)).toBeGreaterThan(0);
        // The last book message before the command's now - 1 day (they come a minute apart).
        expect(Number(at)).toBeLessThanOrEqual(now - DAY + 10_000);
        expect(Number(at)).toBeGreaterThanOrEqual(now - DAY - 60_000);
      }
    }
  }, 120_000);
});
