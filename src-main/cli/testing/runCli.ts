// `l2desk ARGS` run in-process for tests: the exit code and what went to stdout (console.log) and stderr
// (console.error and direct writes, e.g. progress lines), each joined by newlines.
import { expect, vi } from 'vitest';
import { main } from '../../cli.ts';

export async function l2desk(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err.push(String(c));
    return true;
  });
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

/** The JSON of the last line `l2desk ARGS` printed; fails the test (with its stderr) when it did not exit 0. */
export async function json<T>(...argv: string[]): Promise<T> {
  const r = await l2desk(...argv);
  expect(r.code, `${argv.join(' ')}\n${r.err}`).toBe(0);
  return JSON.parse(r.out.trim().split('\n').at(-1) as string) as T;
}
