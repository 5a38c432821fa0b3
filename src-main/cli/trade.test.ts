import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { run } from './trade.ts';

describe('l2desk trade', () => {
  it('refuses to run without --paper: there is no real-order path', async () => {
    await expect(run(['--source', 'sim', '--threshold', '1'])).rejects.toThrow(UsageError);
    await expect(run(['--source', 'sim'])).rejects.toThrow(/--paper/);
  });
  it('a replay needs a database', async () => {
    await expect(run(['--paper', '--source', 'replay'])).rejects.toThrow(/--db/);
  });
  it('rejects unknown options and a bad speed', async () => {
    await expect(run(['--paper', '--live'])).rejects.toThrow(/unknown option --live/);
    await expect(run(['--paper', '--speed', '0'])).rejects.toThrow(/--speed/);
  });
});
