// The identity of an imported file: the SHA-256 of its bytes (and of the merged trade file's), stored in the
// sessions' meta, so that importing the same data twice is refused instead of silently duplicating sessions.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Db } from '../store/db.ts';

/** SHA-256 (hex) of a file's bytes, streamed. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The content key of one import: the book file's hash, joined with the trade file's when one is merged in. */
export async function importContentKey(file: string, trades?: string): Promise<string> {
  const book = await fileSha256(file);
  return trades ? `${book}+${await fileSha256(trades)}` : book;
}

/** Ids of the sessions an earlier import of the same content made (empty when none). */
export function sessionsWithContent(db: Db, key: string): number[] {
  const rows = db
    .prepare(
      `SELECT id FROM sessions WHERE json_valid(meta) AND json_extract(meta, '$.contentSha256') = ? ORDER BY id`,
    )
    .all(key) as { id: number }[];
  return rows.map((r) => r.id);
}
