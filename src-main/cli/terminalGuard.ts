// Every byte the CLI writes to stdout/stderr passes through safeText (newlines and tabs kept), so text from outside
// that reaches any printer, present or future, cannot drive the terminal. Our own control sequences (the progress
// line's carriage return and clear-line) are written with writeControl, which bypasses the guard.
import { safeText } from './safeText.ts';

/** Carriage return + erase line: the progress line rewrites itself in place. */
export const CLEAR_LINE = '\r\x1b[K';

type Write = NodeJS.WriteStream['write'];
const rawWrites = new WeakMap<NodeJS.WriteStream, Write>();

/** Installs the guard on the process's stdout and stderr (once; the CLI entry point calls it). */
export function installTerminalGuard(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    if (rawWrites.has(stream)) continue;
    const raw = stream.write.bind(stream) as Write;
    rawWrites.set(stream, raw);
    const guarded = (chunk: unknown, ...rest: unknown[]): boolean => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8')
            : String(chunk);
      return (raw as (c: string, ...r: unknown[]) => boolean)(
        safeText(text, { keepNewlines: true }),
        ...rest,
      );
    };
    stream.write = guarded as Write;
  }
}

/** Writes our own terminal control text (progress line) unescaped, around the guard if it is installed. */
export function writeControl(stream: NodeJS.WriteStream, text: string): void {
  const raw = rawWrites.get(stream);
  if (raw) (raw as (c: string) => boolean)(text);
  else stream.write(text);
}
