// Child process of the kill -9 test: opens a v1 file and converts it to store layout v2 in small batches, printing
// one line per batch and pausing after it, so the parent can kill it part way through.
import { openDb, migrate } from '../db.ts';
import { MIGRATIONS } from '../migrations/index.ts';
import { convertToV2, storeV2Conversion } from '../storeV2Conversion.ts';

const [file, batch] = process.argv.slice(2);
const pause = new Int32Array(new SharedArrayBuffer(4));
const migrations = MIGRATIONS.map((m) =>
  m.version === 260
    ? {
        ...m,
        convert: {
          pending: storeV2Conversion.pending,
          run: (d: Parameters<typeof convertToV2>[0], p?: Parameters<typeof convertToV2>[1]) =>
            convertToV2(d, p, Number(batch)),
        },
      }
    : m,
);
const db = openDb(file, { migrate: false });
migrate(db, file, migrations, (p) => {
  process.stdout.write(`${p.done} ${p.total} ${p.finished}\n`);
  Atomics.wait(pause, 0, 0, 15);
});
db.close();
process.stdout.write('finished\n');
