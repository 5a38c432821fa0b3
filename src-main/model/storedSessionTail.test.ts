// A session followed while it is recorded into a real SQLite file: after each stretch of recording, the follower's
// rows are bit for bit those a build of the whole stored session gives, while it reads only the new events; an open
// gap stops it until the gap has ended; pruned data or a new tick size start it over; an ended session is let go.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../src-shared/market.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { openDb } from '../store/db.ts';
import { pruneRawData } from '../store/retention.ts';
import { SessionWriter } from '../store/sessionWriter.ts';
import { sessionRows } from './featureCache.ts';
import { createSimSession, simMessages } from './simData.ts';
import { StoredSessionTail } from './storedSessionTail.ts';
import { expectSameRows } from './testing/sameRows.ts';

const OPTS = { decisionIntervalMs: 1000, horizonMs: 10_000 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2tail-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('StoredSessionTail', () => {
  it('follows a session being recorded: the rows of the whole stored session, reading only what is new', () => {
    const db = openDb(path.join(dir, 'follow.db'));
    try {
      const config = loadConfig({ ignoreUserFile: true, overrides: { source: 'sim' } });
      const id = createSimSession(db, config);
      // Another session written in between: the follower's reads skip its rows.
      const other = createSimSession(db, config);
      const writer = new SessionWriter(db, id, { maxRows: 5000 });
      const otherWriter = new SessionWriter(db, other, { maxRows: 5000 });
      const msgs: MarketMessage[] = [...simMessages({ config, durationMs: 40 * 60_000 })];
      const tail = new StoredSessionTail(id, OPTS);
      const whole = () => sessionRows(db, id, OPTS, { write: false }).rows;
      const stretch = (from: number, to: number) => {
        for (const m of msgs.slice(from, to)) {
          writer.writeMessage(m);
          otherWriter.writeMessage(m);
        }
        writer.flush();
        otherWriter.flush();
      };
      const q = Math.floor(msgs.length / 8);
      let read = 0;
      for (let k = 0; k < 3; k++) {
        stretch(k * q, (k + 1) * q);
        const r = tail.advance(db);
        if (r.rows === null) throw new Error(r.why);
        expect(r.restarted).toBeNull();
        // Only the stretch just stored is read.
        expect(r.events).toBe(q);
        read += r.events;
        expectSameRows(whole(), r.rows);
      }
      expect(tail.advance(db)).toMatchObject({ events: 0 });

      // An open gap: reading stops before it, and the rows are not given while it is open.
      const gap = {
        symbol: 'BTCUSDT',
        reason: 'sequence' as const,
        startTs: msgs[3 * q].recvTs,
        endTs: null,
        detail: 'u jumped',
      };
      writer.writeGap(gap);
      stretch(3 * q, 4 * q);
      const held = tail.advance(db);
      expect(held).toMatchObject({ rows: null, events: 0 });
      expect(held.rows === null && held.why).toMatch(/gap in it is still open/);
      // Once it has ended, the follower goes on from where it stopped, and agrees with a whole build again.
      writer.writeGap({ ...gap, endTs: msgs[4 * q].recvTs });
      stretch(4 * q, 5 * q);
      const after = tail.advance(db);
      if (after.rows === null) throw new Error(after.why);
      expect(after.restarted).toBeNull();
      expect(after.events).toBe(2 * q + 1);
      expectSameRows(whole(), after.rows);

      // The session's oldest data pruned (retention rewrites its last book row before the cut as a snapshot of the
      // book there, then deletes what came before): the follower starts over from it, and agrees again.
      const cut = msgs[Math.floor(1.5 * q)].recvTs;
      const pruned = pruneRawData(db, { days: 1, now: cut + 86_400_000 });
      expect(pruned.sessionsTouched).toContain(id);
      expect(pruned.checkpoints).toBeGreaterThanOrEqual(1);
      expect(pruned.l2Deleted).toBeGreaterThan(0);
      stretch(5 * q, 6 * q);
      const again = tail.advance(db);
      if (again.rows === null) throw new Error(again.why);
      expect(again.restarted).toBe('its older data was deleted (pruned)');
      expectSameRows(whole(), again.rows);

      // A new tick size: a build starts with the session's current one, so does the follower.
      writer.writeTickSize('0.01');
      stretch(6 * q, 7 * q);
      const ticked = tail.advance(db);
      if (ticked.rows === null) throw new Error(ticked.why);
      expect(ticked.restarted).toBe('its tick size changed from 0.1 to 0.01');
      expectSameRows(whole(), ticked.rows);
      expect(ticked.rows.nRows).toBeGreaterThan(500);

      // An ended session is the feature cache's.
      writer.close(msgs[7 * q].recvTs);
      expect(tail.advance(db)).toMatchObject({ rows: null, why: expect.stringMatching(/has ended/) });
      expect(read).toBe(3 * q);
      otherWriter.close();
    } finally {
      db.close();
    }
  });
});
