// ClickHouse's RowBinary format, the subset the store uses: it carries Float64 bit for bit (text formats do not:
// 18.16 parses some 17-digit doubles one ulp off), and it is the most compact thing both 18.16 and current servers
// accept over HTTP. Integers are little-endian, strings and arrays are prefixed by a LEB128 length.

/** Appends RowBinary values to a growable buffer. */
export class RowBinaryWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** UInt64 or Int64 from a safe integer. */
  int64(v: number): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(BigInt(v), this.pos);
    this.pos += 8;
  }

  uint64(v: number): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.pos);
    this.pos += 8;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  varint(v: number): void {
    this.ensure(10);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.pos++] = (x & 0x7f) | 0x80;
      x = Math.floor(x / 128);
    }
    this.buf[this.pos++] = x;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos);
  }

  /** A String column holding raw bytes (SQLite BLOBs). */
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  nullableInt64(v: number | null): void {
    if (v === null) this.uint8(1);
    else {
      this.uint8(0);
      this.int64(v);
    }
  }

  /** Array(Float64) of one column of [a, b] pairs (column 0: prices, 1: sizes). */
  float64Column(pairs: readonly (readonly [number, number])[], column: 0 | 1): void {
    this.varint(pairs.length);
    this.ensure(pairs.length * 8);
    for (const p of pairs) {
      this.buf.writeDoubleLE(p[column], this.pos);
      this.pos += 8;
    }
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of what was written (the writer can be reused after reset()). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  reset(): void {
    this.pos = 0;
  }
}

/** Reads RowBinary values in order from one complete response. */
export class RowBinaryReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length)
      throw new Error(`ClickHouse RowBinary response ended early (offset ${this.pos}, needed ${n} bytes)`);
  }

  uint8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  /**
   * Int64 as a number; values past 2^53 would lose precision, so they are refused. Read as two 32-bit halves: a
   * BigInt per value was a measurable part of a replay's decoding (six per book row).
   */
  int64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    if (hi > 0x1fffff || hi < -0x200000 || (hi === -0x200000 && lo === 0))
      return safe(this.buf.readBigInt64LE(this.pos));
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  uint64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    if (hi > 0x1fffff) return safe(this.buf.readBigUInt64LE(this.pos));
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.uint8();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }

  string(): string {
    const n = this.varint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  nullableInt64(): number | null {
    return this.uint8() === 1 ? null : this.int64();
  }

  /** A String column's raw bytes (a copy). */
  bytes(): Buffer {
    const n = this.varint();
    this.need(n);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  /**
   * A side of a book row: an Array(Float64) of prices then one of sizes, as [price, size] levels (no intermediate
   * arrays). Arrays of different lengths are a damaged row, refused.
   */
  levels(): [number, number][] {
    const n = this.varint();
    this.need(n * 8);
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++, this.pos += 8) out[i] = [this.buf.readDoubleLE(this.pos), 0];
    const m = this.varint();
    if (m !== n) throw new Error(`ClickHouse row with ${n} prices and ${m} sizes on one side of the book`);
    this.need(m * 8);
    for (let i = 0; i < m; i++, this.pos += 8) out[i][1] = this.buf.readDoubleLE(this.pos);
    return out;
  }
}

function safe(v: bigint): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`ClickHouse returned an integer (${v}) beyond 2^53`);
  return n;
}
