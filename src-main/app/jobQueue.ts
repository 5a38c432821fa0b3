// One queue for the app's heavy jobs (backtests, walk-forward runs, retraining): at most `concurrency` run at once,
// the others wait in arrival order and hear how many jobs are ahead of them; any job can be cancelled, queued (it
// then never starts) or running (its AbortSignal fires and its slot is freed once it has actually stopped).

/** A job ended by cancel() (queued or running); `message` is "<kind> <id> cancelled". */
export class JobCancelled extends Error {
  constructor(
    readonly jobId: string,
    readonly kind: string,
  ) {
    super(`${kind} ${jobId} cancelled`);
    this.name = 'JobCancelled';
  }
}

export interface JobSpec<T> {
  id: string;
  /** What it is, for messages: "backtest", "retrain", ... */
  kind: string;
  /** Runs once a slot is free. It should settle soon after `signal` aborts: the slot stays taken until it does. */
  run: (signal: AbortSignal) => Promise<T>;
  /** While it waits, and again each time the queue moves: how many jobs (running or queued) are ahead of it. */
  onQueued?: (ahead: number) => void;
}

interface Entry {
  id: string;
  kind: string;
  abort: AbortController;
  start: () => void;
  cancelQueued: () => void;
  onQueued?: (ahead: number) => void;
}

export type CancelOutcome = 'queued' | 'running' | null;

export class JobQueue {
  private readonly waiting: Entry[] = [];
  private readonly running = new Map<string, Entry>();

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`job concurrency must be a whole number ≥ 1, got ${concurrency}`);
  }

  /** Resolves or rejects with the job's outcome; a cancelled job rejects with JobCancelled. */
  submit<T>(spec: JobSpec<T>): Promise<T> {
    if (this.has(spec.id)) return Promise.reject(new Error(`job ${spec.id} is already queued or running`));
    return new Promise<T>((resolve, reject) => {
      const abort = new AbortController();
      const entry: Entry = {
        id: spec.id,
        kind: spec.kind,
        abort,
        onQueued: spec.onQueued,
        cancelQueued: () => reject(new JobCancelled(spec.id, spec.kind)),
        start: () => {
          this.running.set(spec.id, entry);
          // A synchronous throw in run() is a failed job like any other.
          Promise.resolve()
            .then(() => spec.run(abort.signal))
            .then(resolve, (e: unknown) =>
              reject(abort.signal.aborted ? new JobCancelled(spec.id, spec.kind) : e),
            )
            .finally(() => {
              this.running.delete(spec.id);
              this.pump();
            });
        },
      };
      if (this.running.size < this.concurrency && this.waiting.length === 0) entry.start();
      else {
        this.waiting.push(entry);
        entry.onQueued?.(this.running.size + this.waiting.length - 1);
      }
    });
  }

  /** Cancels a job: a queued one is dropped at once, a running one is aborted. null: no such job (it ended). */
  cancel(id: string): CancelOutcome {
    const i = this.waiting.findIndex((e) => e.id === id);
    if (i >= 0) {
      const [e] = this.waiting.splice(i, 1);
      e.cancelQueued();
      this.announce(i);
      return 'queued';
    }
    const r = this.running.get(id);
    if (!r) return null;
    r.abort.abort();
    return 'running';
  }

  /** Cancels everything (closing the app): queued jobs never start, running ones are aborted. */
  cancelAll(): void {
    for (const e of this.waiting.splice(0)) e.cancelQueued();
    for (const r of this.running.values()) r.abort.abort();
  }

  has(id: string): boolean {
    return this.running.has(id) || this.waiting.some((e) => e.id === id);
  }

  stats(): { running: number; queued: number; concurrency: number } {
    return { running: this.running.size, queued: this.waiting.length, concurrency: this.concurrency };
  }

  private pump(): void {
    let moved = false;
    while (this.running.size < this.concurrency && this.waiting.length > 0) {
      (this.waiting.shift() as Entry).start();
      moved = true;
    }
    if (moved) this.announce(0);
  }

  /** Tells the waiting jobs from index `from` on their new place (the ones before it did not move). */
  private announce(from: number): void {
    for (let k = from; k < this.waiting.length; k++) this.waiting[k].onQueued?.(this.running.size + k);
  }
}

/** The progress line of a waiting job. */
export function queuedMessage(ahead: number): string {
  return ahead === 0 ? 'queued, starting next' : `queued, ${ahead} ahead`;
}
