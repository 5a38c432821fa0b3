// Model files are read only when they are regular files under the size cap: a device, a FIFO or a huge (sparse)
// file is refused before reading, by the reader, by Predictor.load and by the CLI (in a child process, so a
// regression that blocks on a FIFO fails on its timeout instead of hanging the test run).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_SET } from '../features/featureSet.ts';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import {
  DEFAULT_MODEL_FILE_LIMITS,
  ModelFileError,
  modelFileLimits,
  readModelFileBytes,
} from './modelFileReader.ts';
import { Predictor } from './predictor.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-modelfile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const BUNDLED_ONNX = path.join(PROJECT_ROOT, 'models', 'default.onnx');
const BUNDLED_JSON = path.join(PROJECT_ROOT, 'models', 'default.json');
const hasDevZero = fs.existsSync('/dev/zero');
const canFifo = process.platform !== 'win32';

function fifo(file: string): string {
  execFileSync('mkfifo', [file]);
  return file;
}

/** A sparse file of `bytes` (no disk used): the size a 1 GB model would report. */
function sparse(file: string, bytes: number): string {
  const fd = fs.openSync(file, 'w');
  fs.ftruncateSync(fd, bytes);
  fs.closeSync(fd);
  return file;
}

/** A model pair in its own folder, with either file replaced by `onnx` / `json` when given. */
function pair(name: string, opts: { onnx?: (f: string) => void; json?: (f: string) => void }): string {
  const d = fs.mkdtempSync(path.join(dir, `${name}-`));
  const onnx = path.join(d, 'm.onnx');
  const json = path.join(d, 'm.json');
  if (opts.onnx) opts.onnx(onnx);
  else fs.copyFileSync(BUNDLED_ONNX, onnx);
  if (opts.json) opts.json(json);
  else fs.copyFileSync(BUNDLED_JSON, json);
  return onnx;
}

function refusal(fn: () => unknown): ModelFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return e as ModelFileError;
  }
  throw new Error('expected a ModelFileError');
}

describe('readModelFileBytes', () => {
  it('reads a regular file whole, empty files included', () => {
    const f = path.join(dir, 'small.json');
    fs.writeFileSync(f, '{"a":1}');
    expect(readModelFileBytes(f, 'meta', 100).toString()).toBe('{"a":1}');
    const empty = path.join(dir, 'empty.json');
    fs.writeFileSync(empty, '');
    expect(readModelFileBytes(empty, 'meta', 100).length).toBe(0);
    const exact = path.join(dir, 'exact.onnx');
    fs.writeFileSync(exact, Buffer.alloc(100, 7));
    expect(readModelFileBytes(exact, 'onnx', 100).length).toBe(100);
  });

  it.each([
    {
      what: 'a sparse 1 GiB .onnx',
      kind: 'onnx' as const,
      make: (f: string) => sparse(f, 1024 ** 3),
      re: /1024\.0 MiB, over the limit of 256\.0 MiB \(model\.max_onnx_mb\)/,
    },
    {
      what: 'a sparse 5 MiB .json',
      kind: 'meta' as const,
      make: (f: string) => sparse(f, 5 * 1024 ** 2),
      re: /5\.0 MiB, over the limit of 4\.0 MiB \(model\.max_meta_mb\)/,
    },
    {
      what: 'a directory',
      kind: 'meta' as const,
      make: (f: string) => fs.mkdirSync(f),
      re: /is a directory, not a regular file/,
    },
    { what: 'a missing file', kind: 'onnx' as const, make: () => undefined, re: /cannot be read \(ENOENT\)/ },
  ])('refuses $what naming the file and the limit', ({ what, kind, make, re }) => {
    const f = path.join(dir, what.replace(/\W+/g, '_'));
    make(f);
    const limit = kind === 'onnx' ? DEFAULT_MODEL_FILE_LIMITS.onnxBytes : DEFAULT_MODEL_FILE_LIMITS.metaBytes;
    const err = refusal(() => readModelFileBytes(f, kind, limit));
    expect(err.message).toContain(f);
    expect(err.message).toMatch(re);
    expect(err.file).toBe(f);
  });

  it.runIf(hasDevZero)('refuses /dev/zero, directly and through a symlink, as a character device', () => {
    expect(refusal(() => readModelFileBytes('/dev/zero', 'onnx', 1024)).message).toMatch(
      /\/dev\/zero is a character device, not a regular file/,
    );
    const link = path.join(dir, 'zero.onnx');
    fs.symlinkSync('/dev/zero', link);
    expect(refusal(() => readModelFileBytes(link, 'onnx', 1024)).message).toMatch(/is a character device/);
  });

  it.runIf(canFifo)('refuses a FIFO without waiting for a writer', () => {
    const f = fifo(path.join(dir, 'pipe.json'));
    expect(refusal(() => readModelFileBytes(f, 'meta', 1024)).message).toMatch(
      /is a FIFO \(named pipe\), not a regular file/,
    );
  });

  it('takes the limits from the config in MiB', () => {
    expect(modelFileLimits({ max_onnx_mb: 1, max_meta_mb: 0.5 })).toEqual({
      onnxBytes: 1048576,
      metaBytes: 524288,
    });
  });
});

describe('Predictor.load on files that are not model files', () => {
  it.each([
    {
      what: 'an oversized sparse .onnx',
      opts: { onnx: (f: string) => sparse(f, 300 * 1024 ** 2) },
      re: /m\.onnx is 300\.0 MiB, over the limit of 256\.0 MiB/,
    },
    {
      what: 'an oversized sparse .json',
      opts: { json: (f: string) => sparse(f, 64 * 1024 ** 2) },
      re: /m\.json is 64\.0 MiB, over the limit of 4\.0 MiB/,
    },
  ])('refuses $what before reading it', async ({ what, opts, re }) => {
    const onnx = pair(what.replace(/\W+/g, '_'), opts);
    const err = await Predictor.load(onnx, FEATURE_SET).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(re);
  });

  it('applies a configured cap', async () => {
    const onnx = pair('capped', {});
    const err = await Predictor.load(onnx, FEATURE_SET, { onnxBytes: 1024, metaBytes: 1024 ** 2 }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/over the limit of 1024 bytes \(model\.max_onnx_mb\)/);
    const p = await Predictor.load(onnx, FEATURE_SET);
    await p.close();
  });

  it.runIf(hasDevZero)('refuses an .onnx that is a symlink to /dev/zero', async () => {
    const onnx = pair('zero', { onnx: (f) => fs.symlinkSync('/dev/zero', f) });
    const err = await Predictor.load(onnx, FEATURE_SET).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(/is a character device, not a regular file/);
  });
});

// The CLI in a child process with a timeout: the old code blocked forever opening a FIFO and read /dev/zero until
// memory ran out, which in-process would hang the whole test run instead of failing this test.
describe.runIf(canFifo && hasDevZero)('l2desk diagnose --model on a device or FIFO', () => {
  it.each([
    { what: 'fifo_onnx', opts: { onnx: fifo }, re: /m\.onnx is a FIFO \(named pipe\), not a regular file/ },
    { what: 'fifo_json', opts: { json: fifo }, re: /m\.json is a FIFO \(named pipe\), not a regular file/ },
    {
      what: 'zero_json',
      opts: { json: (f: string) => fs.symlinkSync('/dev/zero', f) },
      re: /m\.json is a character device/,
    },
  ])(
    'refuses $what and exits',
    ({ what, opts, re }) => {
      const onnx = pair(what, opts);
      const r = spawnSync(
        process.execPath,
        [
          path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'),
          'diagnose',
          '--model',
          onnx,
          '--db',
          path.join(dir, 'none.db'),
        ],
        {
          encoding: 'utf8',
          timeout: 60_000,
          cwd: dir,
          env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' },
        },
      );
      expect(r.error).toBeUndefined();
      expect(r.signal).toBeNull();
      expect(r.stdout + r.stderr).toMatch(re);
    },
    90_000,
  );
});
