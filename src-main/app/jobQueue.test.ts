// The heavy-job queue: never more than `concurrency` running, arrival order, positions told while waiting, and
// cancellation of queued (never started) and running (aborted, slot freed once it stopped) jobs.
import { describe, expect, it } from 'vitest';
import { JobCancelled, JobQueue, queuedMessage } from './jobQueue.ts';

/** A job that runs until released (or aborted), recording when it started. */
function gate() {
  let release!: (v: string) => void;
  const started: string[] = [];
  const make = (id: string) => (signal: AbortSignal) => {
    started.push(id);
    return new Promise<string>((resolve, reject) => {
      release = resolve;
      signal.addEventListener('abort', () => reject(new Error('stopped by abort')), { once: true });
    });
  };
  return { started, make, release: (v: string) => release(v) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('JobQueue', () => {
  it('runs at most `concurrency` jobs, in arrival order, telling the waiting ones how many are ahead', async () => {
    const q = new JobQueue(2);
    const releases = new Map<string, (v: string) => void>();
    const started: string[] = [];
    const positions = new Map<string, number[]>();
    let maxRunning = 0;
    const results = Array.from({ length: 6 }, (_, i) => {
      const id = `j${i}`;
      return q.submit({
        id,
        kind: 'test',
        onQueued: (ahead) => positions.set(id, [...(positions.get(id) ?? []), ahead]),
        run: () => {
          started.push(id);
          maxRunning = Math.max(maxRunning, q.stats().running);
          return new Promise<string>((resolve) => releases.set(id, resolve));
        },
      });
    });
    await tick();
    expect(started).toEqual(['j0', 'j1']);
    expect(q.stats()).toEqual({ running: 2, queued: 4, concurrency: 2 });
    expect(positions.get('j5')).toEqual([5]);
    for (let i = 0; i < 6; i++) {
      releases.get(`j${i}`)?.(`r${i}`);
      await tick();
      await tick();
    }
    expect(await Promise.all(results)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(started).toEqual(['j0', 'j1', 'j2', 'j3', 'j4', 'j5']);
    expect(maxRunning).toBe(2);
    // j5 moved up one place each time a job ahead of it started.
    expect(positions.get('j5')).toEqual([5, 4, 3, 2]);
    expect(positions.get('j0')).toBeUndefined();
    expect(q.stats()).toEqual({ running: 0, queued: 0, concurrency: 2 });
  });

  it('a cancelled queued job never starts, and the ones behind it move up', async () => {
    const q = new JobQueue(1);
    const g = gate();
    const a = q.submit({ id: 'a', kind: 'backtest', run: g.make('a') });
    const seenC: number[] = [];
    const b = q.submit({ id: 'b', kind: 'backtest', run: g.make('b') });
    const c = q.submit({ id: 'c', kind: 'backtest', run: g.make('c'), onQueued: (n) => seenC.push(n) });
    await tick();
    expect(q.cancel('b')).toBe('queued');
    await expect(b).rejects.toThrow(new JobCancelled('b', 'backtest'));
    await expect(b).rejects.toThrow('backtest b cancelled');
    expect(seenC).toEqual([2, 1]);
    g.release('A');
    expect(await a).toBe('A');
    await tick();
    expect(g.started).toEqual(['a', 'c']);
    g.release('C');
    expect(await c).toBe('C');
    expect(g.started).not.toContain('b');
    expect(q.cancel('b')).toBeNull();
  });

  it('a cancelled running job is aborted, ends as cancelled, and frees its slot once it stopped', async () => {
    const q = new JobQueue(1);
    const g = gate();
    const a = q.submit({ id: 'a', kind: 'retrain', run: g.make('a') });
    const b = q.submit({ id: 'b', kind: 'retrain', run: g.make('b') });
    await tick();
    expect(q.cancel('a')).toBe('running');
    await expect(a).rejects.toBeInstanceOf(JobCancelled);
    await tick();
    expect(g.started).toEqual(['a', 'b']);
    g.release('B');
    expect(await b).toBe('B');
  });

  it('a failing job (even a synchronous throw) frees its slot; cancelAll drops the rest', async () => {
    const q = new JobQueue(1);
    const bad = q.submit({
      id: 'bad',
      kind: 'backtest',
      run: () => {
        throw new Error('boom');
      },
    });
    const g = gate();
    const next = q.submit({ id: 'next', kind: 'backtest', run: g.make('next') });
    const last = q.submit({ id: 'last', kind: 'backtest', run: g.make('last') });
    await expect(bad).rejects.toThrow('boom');
    await tick();
    expect(g.started).toEqual(['next']);
    q.cancelAll();
    await expect(next).rejects.toBeInstanceOf(JobCancelled);
    await expect(last).rejects.toBeInstanceOf(JobCancelled);
    expect(g.started).toEqual(['next']);
  });

  it('refuses a bad concurrency and a duplicate id', async () => {
    expect(() => new JobQueue(0)).toThrow(/concurrency/);
    const q = new JobQueue(1);
    const g = gate();
    const first = q.submit({ id: 'x', kind: 'k', run: g.make('x') });
    await expect(q.submit({ id: 'x', kind: 'k', run: g.make('x') })).rejects.toThrow(/already/);
    q.cancelAll();
    await expect(first).rejects.toBeInstanceOf(JobCancelled);
  });

  it('says where a waiting job is', () => {
    expect(queuedMessage(0)).toBe('queued, starting next');
    expect(queuedMessage(2)).toBe('queued, 2 ahead');
  });
});
