// Talks HTTP at the byte level for tests: what a browser or `http.get` refuses to send (a NUL in the path, a
// request line no URL parser takes, pipelined garbage) goes out exactly as written.
import net from 'node:net';

export interface RawExchangeOptions {
  /** Give up (destroy the socket) after this long; what arrived so far is the answer. */
  timeoutMs?: number;
  /** Half-close after writing. Node's HTTP server then drops responses it had not written yet. */
  end?: boolean;
  /** Stop as soon as what arrived satisfies this (e.g. a 101 head: the server keeps that socket open). */
  until?: (text: string) => boolean;
}

/**
 * Sends `bytes` on a fresh connection to 127.0.0.1:`port` and resolves with everything the server wrote before
 * closing (or before the timeout, or once `until` holds). Never rejects: a reset is an answer too.
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  opts: RawExchangeOptions = {},
): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ port, host: '127.0.0.1' });
    const text = () => Buffer.concat(chunks).toString('latin1');
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(text());
    };
    const timer = setTimeout(done, opts.timeoutMs ?? 5000);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.until?.(text())) done();
    });
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => {
      sock.write(bytes);
      if (opts.end) sock.end();
    });
  });
}

/** The status codes of every response in `text` (pipelined responses come back in order). */
export function statusCodes(text: string): number[] {
  return [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}
