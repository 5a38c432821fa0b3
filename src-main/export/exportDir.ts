// An export directory appears whole or not at all: files are written into a hidden sibling directory that is
// renamed into place at the end (same file system, so the rename is atomic) and removed on any failure.
// An existing non-empty directory is refused, and --force replaces only a previous export, never other files.
import fs from 'node:fs';
import path from 'node:path';

export class ExportDirError extends Error {
  override name = 'ExportDirError';
}

/** True when `dir` holds a manifest written by an export of ours. */
function isPreviousExport(dir: string, format: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { format?: unknown };
    return m.format === format;
  } catch {
    return false;
  }
}

/** Checks that `out` may be written; returns whether an existing directory will be replaced. */
export function checkOut(out: string, force: boolean, format: string): 'new' | 'empty' | 'replace' {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const parent = path.dirname(path.resolve(out));
    if (!fs.existsSync(parent))
      throw new ExportDirError(`the parent directory of --out ${out} does not exist: create ${parent} first`);
    return 'new';
  }
  if (!st.isDirectory()) throw new ExportDirError(`--out ${out} is a file, not a directory`);
  if (fs.readdirSync(out).length === 0) return 'empty';
  if (!force)
    throw new ExportDirError(
      `--out ${out} is not empty; choose a new directory, or add --force to replace a previous export there`,
    );
  if (!isPreviousExport(out, format))
    throw new ExportDirError(
      `--out ${out} is not empty and holds no previous export (no manifest.json of ours): --force replaces only an export, never other files`,
    );
  return 'replace';
}

/**
 * Runs `write(tmp)` on a fresh hidden directory beside `out`, then moves it to `out` (replacing an empty directory
 * or, when checkOut allowed it, a previous export). Any failure removes the temporary directory and rethrows.
 */
export async function writeAtomically<T>(
  out: string,
  force: boolean,
  format: string,
  write: (tmp: string) => Promise<T>,
): Promise<T> {
  checkOut(out, force, format);
  const abs = path.resolve(out);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.partial-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  let old: string | null = null;
  try {
    const result = await write(tmp);
    // Checked again: another process may have filled `out` meanwhile.
    const now = checkOut(out, force, format);
    if (now === 'empty') fs.rmdirSync(abs);
    else if (now === 'replace') {
      old = path.join(path.dirname(abs), `.${path.basename(abs)}.old-${process.pid}`);
      fs.rmSync(old, { recursive: true, force: true });
      fs.renameSync(abs, old);
    }
    fs.renameSync(tmp, abs);
    if (old) fs.rmSync(old, { recursive: true, force: true });
    return result;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // A previous export moved aside but not replaced goes back where it was.
    if (old && fs.existsSync(old) && !fs.existsSync(abs)) fs.renameSync(old, abs);
    throw e;
  }
}
