// Opens the L2 Desk SQLite database (better-sqlite3, WAL) and brings its schema up to date through the
// numbered migrations of ./migrations/index.ts. Every open failure becomes a DbError naming the file.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isClickHouseUrl } from './clickhouse/url.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import type { ConversionProgress } from './migrations/types.ts';

export type Db = Database.Database;

export class DbError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'DbError';
  }
}

export interface OpenOptions {
  /** Fail instead of creating a new database (commands that only read: book, db check). */
  mustExist?: boolean;
  /** Apply pending migrations (default true). `db check` opens without migrating. */
  migrate?: boolean;
  /** How long a write waits for another process's lock before failing (ms). */
  busyTimeoutMs?: number;
  /** Migration list (tests); defaults to MIGRATIONS. */
  migrations?: readonly Migration[];
  /**
   * Progress of a data conversion a migration runs on open (store layout v2 on a file written by an older
   * version); by default a line on stderr at most once a second, null for silence.
   */
  onProgress?: ((p: ConversionProgress) => void) | null;
  /** better-sqlite3 binary built for Electron's ABI (packaged desktop app); undefined under Node uses the default. */
  nativeBinding?: string;
}

/** Turns a SQLite error into a message that says what is wrong with which file and what to do. */
export function describeDbError(file: string, e: unknown): DbError {
  if (e instanceof DbError) return e;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const msg = err.message ?? String(e);
  if (code === 'SQLITE_NOTADB' || /not a database/i.test(msg))
    return new DbError(`${file} is not an SQLite database (or it is encrypted or corrupt): ${msg}`, file);
  if (code.startsWith('SQLITE_CORRUPT'))
    return new DbError(`database ${file} is corrupt: ${msg}; run \`l2desk db check --db ${file}\``, file);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new DbError(
      `database ${file} is locked by another process (${msg}); stop the other writer or use another file`,
      file,
    );
  if (code.startsWith('SQLITE_READONLY'))
    return new DbError(
      `database ${file} is read-only (${msg}); L2 Desk needs write access to the file and its directory (WAL)`,
      file,
    );
  if (code.startsWith('SQLITE_CANTOPEN')) return new DbError(`cannot open database ${file}: ${msg}`, file);
  if (code === 'SQLITE_FULL') return new DbError(`disk full while writing ${file}`, file);
  return new DbError(`database ${file}: ${msg}`, file);
}

/**
 * Under Electron, the Electron-ABI build the shell announced in L2DESK_SQLITE_BINDING: worker threads (trainer,
 * backtests) open their own connections and inherit the environment, not the shell's options. Never under plain
 * Node, whose ABI the default build matches (a stray variable must not break the CLI).
 */
function electronBinding(): string | undefined {
  return process.versions.electron ? process.env.L2DESK_SQLITE_BINDING || undefined : undefined;
}

/** Opens (creating if allowed) and migrates the database; the caller closes it with db.close(). */
export function openDb(file: string, opts: OpenOptions = {}): Db {
  // Commands that support a ClickHouse store branch before opening; the rest must not create a file named 'clickhouse:'.
  if (isClickHouseUrl(file))
    throw new DbError(
      `--db ${file}: a ClickHouse store is not supported yet for this command; use an SQLite file`,
      file,
    );
  const exists = fs.existsSync(file);
  if (!exists && opts.mustExist) throw new DbError(`no database at ${file}`, file);
  if (exists && fs.statSync(file).isDirectory())
    throw new DbError(`${file} is a directory, not a database file`, file);
  if (!exists && file !== ':memory:') {
    const dir = path.dirname(path.resolve(file));
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new DbError(`cannot create directory ${dir} for database ${file}: ${(e as Error).message}`, file);
    }
  }
  let db: Db | undefined;
  try {
    db = new Database(file, {
      fileMustExist: Boolean(opts.mustExist),
      nativeBinding: opts.nativeBinding ?? electronBinding(),
    });
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    // Reading the header here surfaces "not a database" before anything else runs.
    db.pragma('schema_version');
    // New files get 16 KiB pages: L2 rows are BLOB-heavy and append-only, and bigger pages cut the
    // syscalls per committed batch (measured ~20% more messages/s per CPU-second than 4 KiB).
    if (!exists) db.pragma('page_size = 16384');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal' && file !== ':memory:')
      throw new DbError(`database ${file} could not be switched to WAL mode (got ${String(mode)})`, file);
    // NORMAL in WAL: a process crash (kill -9) never loses a committed transaction; only an OS crash may
    // lose the last few, and the file is never corrupted either way.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    if (opts.migrate !== false)
      migrate(
        db,
        file,
        opts.migrations ?? MIGRATIONS,
        opts.onProgress === undefined ? progressLine(file) : (opts.onProgress ?? undefined),
      );
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // the original error is the one worth reporting
    }
    throw describeDbError(file, e);
  }
}

export function appliedVersions(db: Db): number[] {
  const has = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!has) return [];
  return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[]).map(
    Number,
  );
}

/** The default conversion progress: one stderr line per second at most, and one when done. */
export function progressLine(
  file: string,
  write = (s: string) => process.stderr.write(s),
): (p: ConversionProgress) => void {
  let last = 0;
  const started = Date.now();
  return (p) => {
    const now = Date.now();
    if (!p.finished && now - last < 1000) return;
    last = now;
    const pct = p.total > 0 ? ` (${Math.min(100, Math.floor((100 * p.done) / p.total))}%)` : '';
    const tail = p.finished
      ? `, done in ${((now - started) / 1000).toFixed(1)} s`
      : '; safe to interrupt, it resumes';
    write(
      `${file}: converting ${p.what}: ${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')}${pct}${tail}\n`,
    );
  };
}

/**
 * Applies the migrations the database lacks, each in its own transaction, and finishes any data conversion a
 * migration left (one killed mid-way resumes here), in version order; returns the versions applied.
 */
export function migrate(
  db: Db,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
  onProgress?: (p: ConversionProgress) => void,
): number[] {
  const known = new Map<number, Migration>();
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= 0)
      throw new DbError(`migration ${m.name}: version must be a positive integer`, file);
    if (known.has(m.version))
      throw new DbError(
        `migrations ${known.get(m.version)?.name} and ${m.name} share version ${m.version}`,
        file,
      );
    known.set(m.version, m);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(appliedVersions(db));
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    const newest = Math.max(...known.keys(), 0);
    throw new DbError(
      `database ${file} has schema migration(s) ${unknown.join(', ')} that this version of L2 Desk does not know ` +
        `(it knows up to ${newest}): it was written by a newer L2 Desk; upgrade, or use another --db file`,
      file,
    );
  }
  const ordered = [...known.values()].sort((a, b) => a.version - b.version);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const done: number[] = [];
  for (const m of ordered) {
    if (applied.has(m.version)) {
      // A conversion interrupted by a crash (or another process's open) continues before later migrations run.
      if (m.convert?.pending(db)) m.convert.run(db, onProgress);
      continue;
    }
    // IMMEDIATE: two processes opening a fresh file at once serialize here; the loser re-checks.
    db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version);
      if (again) return;
      db.exec(m.up);
      record.run(m.version, m.name, Date.now());
      done.push(m.version);
    }).immediate();
    if (m.convert?.pending(db)) m.convert.run(db, onProgress);
  }
  if (done.length > 0) db.pragma(`user_version = ${Math.max(...appliedVersions(db))}`);
  return done;
}
