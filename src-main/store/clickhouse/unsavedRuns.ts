// Paper-trading runs on a ClickHouse store that never reached it. `trade --paper --db clickhouse://…` records its run
// in a working file and saves it into the store when the run ends; a run killed with `kill -9` (or whose save failed)
// leaves that file behind. Working files live in one known folder, each beside an owner file naming its store and
// process, so the next `trade` or `runs` on the same store saves what a dead run left: its runs, and the traded feed
// live retraining recorded. Saving is claimed by renaming the folder (two commands never save the same file), and
// what was saved is written down after each step, so a save cut short resumes without storing anything twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseStore } from './connection.ts';
import { copySessionToClickHouse } from './mirror.ts';
import { saveRegistry } from './modelStore.ts';
import { saveRuns } from './runStore.ts';
import { openDb } from '../db.ts';

const OWNER = 'owner.json';
const SAVED = 'saved.json';
const CLAIMED = /\.saving-(\d+)$/;

interface Owner {
  pid: number;
  /** The store's redacted address (ClickHouseStore.name): never a password. */
  store: string;
  startedAt: number;
}

interface Saved {
  runs: Record<string, number>;
  sessions: Record<string, number>;
  /** The working file's traded feed sessions (the others are the store's own, copied in to be replayed). */
  feeds?: number[];
}

/** Where working files are kept: L2DESK_UNSAVED_DIR, else the user's state folder (XDG_STATE_HOME). */
export function unsavedRunsDir(): string {
  if (process.env.L2DESK_UNSAVED_DIR) return path.resolve(process.env.L2DESK_UNSAVED_DIR);
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'l2desk', 'unsaved-runs');
}

/** A new working folder for a run of this process on `store`; returns the working file's path. */
export function newWorkingFile(store: string, now: number): { dir: string; file: string } {
  const root = unsavedRunsDir();
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, 'trade-'));
  const owner: Owner = { pid: process.pid, store, startedAt: now };
  fs.writeFileSync(path.join(dir, OWNER), JSON.stringify(owner));
  return { dir, file: path.join(dir, 'run.db') };
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function readSaved(dir: string): Saved {
  return readJson<Saved>(path.join(dir, SAVED)) ?? { runs: {}, sessions: {} };
}

function writeSaved(dir: string, saved: Saved): void {
  fs.writeFileSync(path.join(dir, SAVED), JSON.stringify(saved));
}

/** Writes down that session `id` of a working file is the traded feed (saved into the store with the run). */
export function markFeed(dir: string, id: number): void {
  const saved = readSaved(dir);
  saved.feeds = [...(saved.feeds ?? []), id];
  writeSaved(dir, saved);
}

/**
 * Writes down that a working file's run or feed session is now in the store (as `remote`), so that a process killed
 * before it deletes the file does not have it saved a second time.
 */
export function markSaved(dir: string, kind: 'runs' | 'sessions', local: number, remote: number): void {
  const saved = readSaved(dir);
  saved[kind][local] = remote;
  writeSaved(dir, saved);
}

/** Folders left by dead runs on `store` (a folder another live command is saving is skipped). */
function leftBehind(store: string): string[] {
  const root = unsavedRunsDir();
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    if (!name.startsWith('trade-')) continue;
    const dir = path.join(root, name);
    const owner = readJson<Owner>(path.join(dir, OWNER));
    if (!owner || owner.store !== store) continue;
    const claim = CLAIMED.exec(name);
    if (alive(claim ? Number(claim[1]) : owner.pid)) continue;
    out.push(dir);
  }
  return out.sort();
}

export interface UnsavedReport {
  /** Runs saved now (store ids). */
  runs: number[];
  /** Feed sessions saved now (store ids). */
  sessions: number[];
  /** Working files that could not be saved (left in place for the next try), each with why. */
  failed: { file: string; error: string }[];
}

/**
 * Saves into `store` what dead `trade` runs on it left in their working files, then deletes those files. A file
 * that cannot be read or saved is left where it is and reported; nothing here throws for one bad file.
 */
export async function saveUnsavedRuns(
  store: ClickHouseStore,
  log: (line: string) => void = () => undefined,
): Promise<UnsavedReport> {
  const report: UnsavedReport = { runs: [], sessions: [], failed: [] };
  for (const found of leftBehind(store.name)) {
    const home = found.replace(CLAIMED, '');
    const dir = `${home}.saving-${process.pid}`;
    try {
      fs.renameSync(found, dir);
    } catch {
      continue; // another command claimed it first
    }
    const file = path.join(dir, 'run.db');
    const saved = readSaved(dir);
    const note = () => writeSaved(dir, saved);
    try {
      if (fs.existsSync(file)) {
        const db = openDb(file, { mustExist: true });
        try {
          const runIds = db.prepare('SELECT id FROM runs ORDER BY id').pluck().all() as number[];
          for (const id of runIds) {
            if (saved.runs[id] !== undefined) continue;
            const remote = (await saveRuns(store, db, [id])).get(id) as number;
            saved.runs[id] = remote;
            note();
            report.runs.push(remote);
            log(
              `saved run ${remote} into ${store.name}: a paper-trading run that stopped before it was saved ` +
                '(killed, or the store did not answer)',
            );
          }
          for (const id of saved.feeds ?? []) {
            if (saved.sessions[id] !== undefined) continue;
            const remote = await copySessionToClickHouse(db, id, store);
            saved.sessions[id] = remote;
            note();
            report.sessions.push(remote);
            log(`saved session ${remote} into ${store.name}: the feed a paper-trading run recorded`);
          }
          // Its live retraining's registry (idempotent: what an earlier try stored is not stored again).
          const models = await saveRegistry(store, db);
          if (models.size > 0)
            log(`registered ${models.size} model(s) of that run's live retraining in ${store.name}`);
        } finally {
          db.close();
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      const error = (e as Error).message;
      const kept = path.join(home, 'run.db');
      report.failed.push({ file: kept, error });
      log(
        `warning: could not save ${kept} into ${store.name} (${error}); it is kept and tried again next time`,
      );
      // Unclaimed again (this process's claim dies with it anyway).
      try {
        fs.renameSync(dir, home);
      } catch {
        // left claimed by a process that is about to exit: the next command takes it
      }
    }
  }
  return report;
}
