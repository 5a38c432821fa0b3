// One Parquet file written a row group at a time: rows are buffered per column and flushed every `rowGroupSize`
// rows, so memory stays bounded on any session size. Column kinds map to the plain Parquet types every reader
// (DuckDB, Polars, Spark, pyarrow) knows; times are INT64 milliseconds annotated TIMESTAMP(MILLIS, UTC).
import type { SchemaElement } from 'hyparquet-writer';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';

export type ColumnKind = 'timestamp' | 'int64' | 'int32' | 'double' | 'bool' | 'string';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** May hold null (default: required, and a null is refused). */
  nullable?: boolean;
}

export type Cell = number | string | boolean | null;

export interface ParquetTableOptions {
  /** Rows per row group (default 100 000). */
  rowGroupSize?: number;
  /** Key-value pairs stored in the file footer (e.g. the session, the feature set). */
  metadata?: Record<string, string>;
}

const DEFAULT_ROW_GROUP = 100_000;

function schemaElement(c: ColumnSpec): SchemaElement {
  const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (c.kind) {
    case 'timestamp':
      // Both annotations: the converted type for older readers (Spark 2, parquet-mr), the logical type for the rest.
      return {
        name: c.name,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
        repetition_type,
      };
    case 'int64':
      return { name: c.name, type: 'INT64', repetition_type };
    case 'int32':
      return { name: c.name, type: 'INT32', repetition_type };
    case 'double':
      return { name: c.name, type: 'DOUBLE', repetition_type };
    case 'bool':
      return { name: c.name, type: 'BOOLEAN', repetition_type };
    case 'string':
      return {
        name: c.name,
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
        repetition_type,
      };
  }
}

function checkCell(c: ColumnSpec, v: Cell): void {
  if (v === null) {
    if (!c.nullable) throw new TypeError(`column ${c.name} may not be null`);
    return;
  }
  const ok =
    c.kind === 'string'
      ? typeof v === 'string'
      : c.kind === 'bool'
        ? typeof v === 'boolean'
        : c.kind === 'double'
          ? typeof v === 'number'
          : Number.isSafeInteger(v);
  if (!ok) throw new TypeError(`column ${c.name} (${c.kind}) cannot hold ${String(v)}`);
}

export class ParquetTable {
  private readonly writer: ParquetWriter;
  private readonly buffers: Cell[][];
  private readonly rowGroupSize: number;
  private buffered = 0;
  private total = 0;
  private finished = false;

  constructor(
    readonly file: string,
    readonly columns: readonly ColumnSpec[],
    opts: ParquetTableOptions = {},
  ) {
    this.rowGroupSize = Math.max(1, Math.floor(opts.rowGroupSize ?? DEFAULT_ROW_GROUP));
    this.buffers = columns.map(() => []);
    const schema: SchemaElement[] = [
      { name: 'root', num_children: columns.length },
      ...columns.map(schemaElement),
    ];
    const kv = Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value }));
    this.writer = new ParquetWriter({
      writer: fileWriter(file),
      schema,
      kvMetadata: kv.length > 0 ? kv : undefined,
      createdBy: 'l2desk',
    });
  }

  /** Rows written so far, buffered ones included. */
  get rows(): number {
    return this.total;
  }

  /** Appends one row, cells in column order (the array is copied: a caller may reuse it). */
  push(row: readonly Cell[]): void {
    if (this.finished) throw new Error(`${this.file} is already finished`);
    if (row.length !== this.columns.length)
      throw new TypeError(`a row of ${this.file} has ${row.length} cells, expected ${this.columns.length}`);
    for (let i = 0; i < row.length; i++) {
      checkCell(this.columns[i], row[i]);
      this.buffers[i].push(row[i]);
    }
    this.buffered++;
    this.total++;
    if (this.buffered >= this.rowGroupSize) this.flush();
  }

  /** Writes the buffered rows as one row group. */
  private flush(): void {
    if (this.buffered === 0) return;
    const columnData = this.columns.map((c, i) => {
      const values = this.buffers[i];
      // INT64 plain values must be bigints; timestamps are converted by the writer itself.
      const data = c.kind === 'int64' ? values.map((v) => (v === null ? null : BigInt(v as number))) : values;
      // Booleans PLAIN, not RLE: Spark's vectorized reader before 3.3 reads no RLE booleans in v2 pages.
      return { name: c.name, data, ...(c.kind === 'bool' ? { encoding: 'PLAIN' as const } : {}) };
    });
    void this.writer.write({ columnData, rowGroupSize: this.buffered });
    for (const b of this.buffers) b.length = 0;
    this.buffered = 0;
  }

  /** Flushes the last row group and writes the footer; the file is complete after this. */
  finish(): void {
    if (this.finished) return;
    this.flush();
    this.finished = true;
    void this.writer.finish();
  }
}
