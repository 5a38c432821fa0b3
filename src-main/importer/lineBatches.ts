// Splits a text stream into lines, one batch per chunk read: the consumer awaits once per chunk, not per line.
// A line longer than MAX_LINE (or binary input without newlines) is skipped, in linear time.
import type { Readable } from 'node:stream';

/** Longest line accepted (a 1000-level snapshot is ~60 KB). */
export const MAX_LINE = 64 * 1048576;

/** Stands in a batch for a line that was longer than MAX_LINE and skipped. */
export const TOO_LONG = null;

export type LineItem = string | typeof TOO_LONG;

/**
 * The lines of `stream` in batches (without their '\n'; a final line without one is included). A read error
 * (a truncated .gz, a damaged zip entry) is thrown after the batches read so far; the cut line is dropped.
 */
export async function* lineBatches(stream: Readable): AsyncGenerator<LineItem[]> {
  stream.setEncoding('utf8');
  // The unfinished line, as chunk pieces: a newline is searched for in each new chunk only, so a very long
  // line costs linear time, not a rescan of everything held per chunk.
  let rest: string[] = [];
  let restLen = 0;
  let skipping = false;
  for await (const chunk of stream as AsyncIterable<string>) {
    const batch: LineItem[] = [];
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      if (skipping) skipping = false;
      else if (rest.length > 0) {
        rest.push(chunk.slice(start, nl));
        batch.push(rest.join(''));
        rest = [];
        restLen = 0;
      } else batch.push(chunk.slice(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      rest.push(start === 0 ? chunk : chunk.slice(start));
      restLen += chunk.length - start;
      if (restLen > MAX_LINE) {
        batch.push(TOO_LONG);
        skipping = true;
        rest = [];
        restLen = 0;
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (rest.length > 0 && !skipping) yield [rest.join('')];
}

/** Pulls batches from `lineBatches`, telling a read error apart from an error thrown by the caller's code. */
export class LineSource {
  private readonly it: AsyncGenerator<LineItem[]>;
  /** The read error that ended the stream early, if any. */
  error: Error | undefined;

  constructor(stream: Readable) {
    this.it = lineBatches(stream);
  }

  /** The next batch, or null at the end (or after a read error, kept in `error`). */
  async next(): Promise<LineItem[] | null> {
    if (this.error) return null;
    try {
      const r = await this.it.next();
      return r.done ? null : r.value;
    } catch (e) {
      this.error = e as Error;
      return null;
    }
  }

  /** Stops reading (the underlying stream is destroyed). */
  async close(): Promise<void> {
    await this.it.return(undefined);
  }
}
