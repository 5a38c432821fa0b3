// kill -9 of `l2desk collect --db clickhouse://…` (a real process, a real clickhouse-server started here): what the
// server holds is whole batches, readable in order with no hole, and the catalogue's counts equal what the reader
// yields; the session is left not ended, as with SQLite.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookMessage } from '../../src-shared/market.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { checkClickHouse } from '../store/clickhouse/check.ts';
import { listSessions } from '../store/clickhouse/catalogue.ts';
import { openClickHouse } from '../store/clickhouse/connection.ts';
import { readSession } from '../store/clickhouse/reader.ts';
import { clickhouseSkipReason, startTestServer, type TestServer } from '../store/clickhouse/testServer.ts';

const skip = clickhouseSkipReason();
const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');

describe.skipIf(skip !== null)('kill -9 while collecting into ClickHouse', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  it('leaves every accepted batch readable, in order, with counts that agree', async () => {
    const url = server.url('killed');
    const child = spawn(
      process.execPath,
      [CLI, 'collect', '--source', 'sim', '--speed', '1', '--duration', '5m', '--db', url, '--quiet'],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout?.on('data', (d) => (out += String(d)));
    child.stderr?.on('data', (d) => (out += String(d)));
    const exited = new Promise<string | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    try {
      const store = await openClickHouse(url);
      try {
        // Wait (polling the server) until several batches are stored, then kill while it keeps inserting.
        // Committed batches only (what a reader sees): rows of a batch in flight do not count yet.
        const rows = async () => (await listSessions(store))[0]?.bookMessages ?? 0;
        const t0 = Date.now();
        let seen = 0;
        while ((seen = await rows()) < 80 && Date.now() - t0 < 60_000)
          await new Promise((r) => setTimeout(r, 100));
        expect(seen, out).toBeGreaterThanOrEqual(80);
        child.kill('SIGKILL');
        expect(await exited).toBe('SIGKILL');

        const report = await checkClickHouse(store);
        expect(report.ok).toBe(true);
        expect(report.sessions).toHaveLength(1);
        const s = report.sessions[0];
        expect(s.endedAt).toBeNull(); // never closed: the process died
        expect(s.bookMessages).toBeGreaterThanOrEqual(seen);
        const events = [];
        for await (const e of readSession(store, s.id)) events.push(e);
        expect(events.filter((e) => e.kind === 'book')).toHaveLength(s.bookMessages);
        expect(events.filter((e) => e.kind === 'trades')).toHaveLength(s.tradeMessages);
        const books = events.filter((e): e is BookMessage => e.kind === 'book');
        expect(books[0].type).toBe('snapshot');
        for (let i = 1; i < books.length; i++) expect(books[i].u).toBe(books[i - 1].u + 1);
      } finally {
        await store.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
