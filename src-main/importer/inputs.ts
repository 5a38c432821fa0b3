// The byte streams of one input file: itself, its gunzipped content, or each entry of a zip (through its
// central directory; a zip cut short, which has none, through its local headers: zipLocalEntries.ts).
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { localEntries, type LocalWalk } from './zipLocalEntries.ts';

export interface Input {
  /** `file`, or `file:entry` for a zip entry. */
  name: string;
  stream: Readable;
  /** Something to report about this input before reading it (line 0). */
  warning?: string;
}

/** A zip that had no central directory: what could be read of it. */
export interface TruncatedZip extends LocalWalk {
  file: string;
}

/** A gunzip stream that forwards read errors of its source (pipe() does not). */
export function gunzip(src: Readable): zlib.Gunzip {
  const z = zlib.createGunzip();
  src.on('error', (e) => z.destroy(e));
  return src.pipe(z);
}

const maybeGunzip = (name: string, s: Readable): Readable =>
  name.toLowerCase().endsWith('.gz') ? gunzip(s) : s;

/**
 * The streams of `file`, each to be read to its end before the next is asked for. A zip cut short is read
 * entry by entry from its local headers and reported through `onTruncated` once its walk ends.
 */
export async function* openInputs(
  file: string,
  onTruncated?: (t: TruncatedZip) => void,
): AsyncGenerator<Input> {
  if (file.toLowerCase().endsWith('.zip')) {
    yield* zipEntries(file, onTruncated);
    return;
  }
  yield { name: file, stream: maybeGunzip(file, fs.createReadStream(file)) };
}

async function* zipEntries(file: string, onTruncated?: (t: TruncatedZip) => void): AsyncGenerator<Input> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))),
    );
  } catch (e) {
    yield* truncatedZip(file, (e as Error).message, onTruncated);
    return;
  }
  try {
    while (true) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => done(() => resolve(e));
        const onEnd = () => done(() => resolve(null));
        const onError = (e: Error) => done(() => reject(e));
        const done = (f: () => void) => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
          f();
        };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
      if (!entry) return;
      if (entry.fileName.endsWith('/')) continue;
      const stream = await new Promise<Readable>((resolve, reject) =>
        zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
      );
      yield { name: `${file}:${entry.fileName}`, stream: maybeGunzip(entry.fileName, stream) };
    }
  } finally {
    zip.close();
  }
}

/** A zip without a (readable) central directory: every entry from its local header, up to the cut. */
async function* truncatedZip(
  file: string,
  why: string,
  onTruncated?: (t: TruncatedZip) => void,
): AsyncGenerator<Input> {
  const walk: TruncatedZip = { file, complete: [] };
  let first = true;
  for await (const e of localEntries(file, walk)) {
    const warnings: string[] = [];
    // The first notice names the archive's problem, so a report opening with it explains the rest.
    if (first) warnings.push(`${why}: a truncated zip? reading its entries from their local headers`);
    if (e.cut) warnings.push(e.cut);
    first = false;
    yield {
      name: `${file}:${e.entry}`,
      stream: maybeGunzip(e.entry, e.stream),
      warning: warnings.length > 0 ? warnings.join('; ') : undefined,
    };
  }
  if (first && walk.complete.length === 0 && !walk.cutEntry) throw new Error(why); // not a zip at all
  onTruncated?.(walk);
}
