// Reads a zip without its central directory (a download cut short): walks the local file headers from the
// start of the file, inflating each entry until its data ends, so every complete entry before the cut and the
// readable part of the entry that was cut are recovered.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;

/** One entry found by the walk: its stream, and whether the file ends inside it. */
export interface LocalEntry {
  /** The entry's name inside the archive. */
  entry: string;
  stream: Readable;
  /** Set when the file ends inside this entry: what was lost, for the report. */
  cut?: string;
}

/** What the walk found, for the report. */
export interface LocalWalk {
  /** Entries read to their end. */
  complete: string[];
  /** The entry the file ends inside (its readable lines are still read), if any. */
  cutEntry?: string;
  /** Why the walk stopped before the file's end, when not because of the cut (a stored entry of unknown size...). */
  stopped?: string;
}

/** Compressed size from a zip64 extra field (id 1), when the header's 32-bit field says 0xffffffff. */
function zip64CompressedSize(extra: Buffer, uncompressed32: number): number | undefined {
  for (let p = 0; p + 4 <= extra.length;) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (id === 1) {
      // Fields appear only for the header values that are 0xffffffff: uncompressed first, then compressed.
      const at = p + 4 + (uncompressed32 === 0xffffffff ? 8 : 0);
      if (at + 8 <= p + 4 + len && at + 8 <= extra.length) return Number(extra.readBigUInt64LE(at));
      return undefined;
    }
    p += 4 + len;
  }
  return undefined;
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const n = fs.readSync(fd, b, 0, len, pos);
  return b.subarray(0, n);
}

/**
 * The entries of `file` from its local headers, in file order, each to be read to its end before the next is
 * asked for (an entry with a data descriptor ends where its deflate stream does). `walk` is filled as it goes.
 * Yields nothing when the file does not start with a local header.
 */
export async function* localEntries(file: string, walk: LocalWalk): AsyncGenerator<LocalEntry> {
  const size = fs.statSync(file).size;
  let off = 0;
  while (true) {
    const fd = fs.openSync(file, 'r');
    let h: Buffer;
    let nameBuf: Buffer;
    let extra: Buffer;
    try {
      h = readAt(fd, off, 30);
      if (h.length >= 4 && h.readUInt32LE(0) !== LOCAL_HEADER) return; // central directory (or junk): done
      if (h.length < 30) {
        if (h.length > 0) walk.cutEntry = '(the header of the next entry)';
        return;
      }
      nameBuf = readAt(fd, off + 30, h.readUInt16LE(26));
      extra = readAt(fd, off + 30 + nameBuf.length, h.readUInt16LE(28));
    } finally {
      fs.closeSync(fd);
    }
    if (nameBuf.length < h.readUInt16LE(26) || extra.length < h.readUInt16LE(28)) {
      walk.cutEntry = nameBuf.length > 0 ? nameBuf.toString('utf8') : '(the header of the next entry)';
      return;
    }
    const name = nameBuf.toString('utf8');
    const flags = h.readUInt16LE(6);
    const method = h.readUInt16LE(8);
    let comp: number | undefined = h.readUInt32LE(18);
    if (comp === 0xffffffff) comp = zip64CompressedSize(extra, h.readUInt32LE(22));
    // Bit 3: sizes follow the data in a descriptor; the header's are zero.
    const known = !(flags & 8) && comp !== undefined;
    const start = off + 30 + nameBuf.length + extra.length;
    const end = known ? start + (comp as number) : size;
    const cutHere = end > size;
    if (flags & 1 || (method !== 0 && method !== 8) || (method === 0 && !known)) {
      const why =
        flags & 1
          ? 'encrypted'
          : method === 0
            ? 'stored with a data descriptor'
            : `compression method ${method}`;
      if (!known || cutHere) {
        walk.stopped = `entry ${name} is ${why}: cannot find where it ends`;
        return;
      }
      walk.stopped = `entry ${name} skipped: ${why}`;
      off = end;
      continue;
    }
    const last = Math.min(end, size) - 1;
    const raw = last >= start ? fs.createReadStream(file, { start, end: last }) : Readable.from([]);
    let stream: Readable = raw;
    let inflater: zlib.InflateRaw | undefined;
    let ended = false;
    let failure: Error | undefined;
    if (method === 8) {
      const z = zlib.createInflateRaw();
      inflater = z;
      raw.on('error', (e: Error) => z.destroy(e));
      z.once('end', () => (ended = true));
      z.once('error', (e: Error) => (failure = e));
      stream = raw.pipe(z);
    }
    const cut = cutHere
      ? `truncated zip: the file ends inside this entry, after ${size - start} of ${comp} ` +
        'compressed bytes; its whole lines before the cut are imported'
      : undefined;
    yield { entry: name, stream, cut };
    // Here the consumer has read the entry to its end (or to a read error).
    raw.destroy();
    if (cutHere) {
      walk.cutEntry = name;
      return;
    }
    if (known) {
      walk.complete.push(name);
      off = end;
      continue;
    }
    // A data-descriptor entry ends where its deflate stream did.
    const z = inflater as zlib.InflateRaw;
    if (!ended) {
      if (failure && /unexpected end/i.test(failure.message)) walk.cutEntry = name;
      else walk.stopped = `entry ${name} is damaged (${failure?.message ?? 'not read to its end'})`;
      return;
    }
    walk.complete.push(name);
    off = start + z.bytesWritten;
    const fd2 = fs.openSync(file, 'r');
    try {
      const d = readAt(fd2, off, 4);
      // The descriptor: optional signature, crc, then 4- or (zip64) 8-byte sizes; find the next header after it.
      const base = d.length === 4 && d.readUInt32LE(0) === DATA_DESCRIPTOR ? off + 4 : off;
      const next = [base + 12, base + 20].find((p) => {
        const s = readAt(fd2, p, 4);
        return s.length < 4 || s.readUInt32LE(0) === LOCAL_HEADER || s.readUInt32LE(0) === 0x02014b50;
      });
      off = next ?? base + 12;
    } finally {
      fs.closeSync(fd2);
    }
  }
}
