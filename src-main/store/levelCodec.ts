// Packs price levels into BLOBs of little-endian Float64 pairs and back: the parsed doubles round-trip
// bit for bit (prices stay exact) and neither side parses or formats text.
import type { Level } from '../../src-shared/market.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reusable scratch space: better-sqlite3 copies a bound BLOB (SQLITE_TRANSIENT), so one buffer serves every row. */
export class LevelEncoder {
  private scratch = new Float64Array(1024);

  /** Encodes levels into a Buffer view over the scratch space, valid until the next call. */
  encode(levels: readonly Level[]): Buffer {
    const n = levels.length * 2;
    if (n > this.scratch.length) this.scratch = new Float64Array(Math.max(n, this.scratch.length * 2));
    const f = this.scratch;
    for (let i = 0, j = 0; i < levels.length; i++, j += 2) {
      const l = levels[i];
      f[j] = l[0];
      f[j + 1] = l[1];
    }
    if (!LITTLE_ENDIAN) return encodeLE(levels);
    return Buffer.from(f.buffer, 0, n * 8);
  }
}

function encodeLE(levels: readonly Level[]): Buffer {
  const b = Buffer.allocUnsafe(levels.length * 16);
  levels.forEach((l, i) => {
    b.writeDoubleLE(l[0], i * 16);
    b.writeDoubleLE(l[1], i * 16 + 8);
  });
  return b;
}

/** Encodes into a fresh Buffer (one-off use, tests, benchmarks). */
export function encodeLevels(levels: readonly Level[]): Buffer {
  return Buffer.from(new LevelEncoder().encode(levels));
}

export function decodeLevels(buf: Uint8Array): Level[] {
  const n = buf.byteLength >>> 4;
  const out: Level[] = new Array(n);
  if (LITTLE_ENDIAN && (buf.byteOffset & 7) === 0) {
    const f = new Float64Array(buf.buffer, buf.byteOffset, n * 2);
    for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = [f[j], f[j + 1]];
    return out;
  }
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < n; i++) out[i] = [v.getFloat64(i * 16, true), v.getFloat64(i * 16 + 8, true)];
  return out;
}
