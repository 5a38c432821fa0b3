// The read-ahead worker (sessionPrefetch.ts): for each job it is sent, reads one session with readSession on its own
// connection and sends its events in packed chunks, waiting while the consumer is maxAhead chunks behind, and
// stopping when it is told to; then it waits for the next job. A failure is sent as its message (the consumer reads
// the session itself when nothing was delivered yet).
import { parentPort } from 'node:worker_threads';
import { openDb } from './db.ts';
import {
  CHUNK_MAX_VALUES,
  ChunkPacker,
  type PrefetchJob,
  type PrefetchWorkerMessage,
} from './sessionPrefetch.ts';
import { readSession } from './sessionReader.ts';

function send(m: PrefetchWorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(m, transfer);
}

/** Waits until the consumer is less than maxAhead chunks behind; false when it stopped. */
function mayGoOn(job: PrefetchJob): boolean {
  const c = job.control;
  for (;;) {
    if (Atomics.load(c, 1) === 1) return false;
    const ahead = Atomics.load(c, 0);
    if (ahead < job.maxAhead) return true;
    Atomics.wait(c, 0, ahead, 1000);
  }
}

function ship(job: PrefetchJob, packer: ChunkPacker): boolean {
  if (!mayGoOn(job)) return false;
  const chunk = packer.take();
  Atomics.add(job.control, 0, 1);
  send({ type: 'chunk', ...chunk }, [chunk.nums.buffer as ArrayBuffer]);
  return true;
}

function run(job: PrefetchJob): void {
  try {
    // The consumer's connection has migrated the file already: this one only reads.
    const db = openDb(job.file, { mustExist: true, migrate: false });
    try {
      const packer = new ChunkPacker();
      let going = true;
      let limit = job.firstChunkEvents;
      for (const e of readSession(db, job.sessionId, {
        fromTs: job.fromTs,
        toTs: job.toTs,
        reuseLevels: true,
      })) {
        packer.add(e);
        if (packer.events >= limit || packer.size >= CHUNK_MAX_VALUES) {
          if (!(going = ship(job, packer))) break;
          limit = job.chunkEvents;
        }
      }
      if (going && (packer.events === 0 || ship(job, packer))) send({ type: 'end' });
    } finally {
      db.close();
    }
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
  }
}

parentPort?.on('message', (job: PrefetchJob) => run(job));
