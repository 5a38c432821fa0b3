// Reads a model's files (X.onnx, X.json) with a size cap: only regular files, checked on the opened descriptor
// before any byte is read, so /dev/zero, a FIFO or a 1 GB file is refused at once instead of filling memory or hanging.
import fs from 'node:fs';

export class ModelFileError extends Error {
  override name = 'ModelFileError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

const MiB = 1024 * 1024;

/** Largest files a model may have; the config's model.max_onnx_mb / model.max_meta_mb set them. */
export interface ModelFileLimits {
  onnxBytes: number;
  metaBytes: number;
}

export const DEFAULT_MODEL_FILE_LIMITS: Readonly<ModelFileLimits> = {
  onnxBytes: 256 * MiB,
  metaBytes: 4 * MiB,
};

/** The limits from the config's model section (sizes in MiB). */
export function modelFileLimits(model: { max_onnx_mb: number; max_meta_mb: number }): ModelFileLimits {
  return { onnxBytes: Math.floor(model.max_onnx_mb * MiB), metaBytes: Math.floor(model.max_meta_mb * MiB) };
}

export type ModelFileKind = 'onnx' | 'meta';

const WHAT: Record<ModelFileKind, { noun: string; key: string }> = {
  onnx: { noun: 'model file', key: 'model.max_onnx_mb' },
  meta: { noun: 'model metadata', key: 'model.max_meta_mb' },
};

function typeOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function formatBytes(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${n} bytes`;
}

/**
 * Reads one model file whole. Opens without blocking (a FIFO with no writer would otherwise hang the open), then
 * judges the descriptor, not the path, so the file checked is the file read. Reads at most `maxBytes` + 1 bytes,
 * so a file that grows after the check is still refused without reading it all.
 */
export function readModelFileBytes(file: string, kind: ModelFileKind, maxBytes: number): Buffer {
  const { noun, key } = WHAT[kind];
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new ModelFileError(
      `${noun} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      file,
    );
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory() && kind === 'onnx')
      throw new ModelFileError(`model path ${file} is a directory, not a model file: give its X.onnx`, file);
    if (!st.isFile())
      throw new ModelFileError(`${noun} ${file} is ${typeOf(st)}, not a regular file: give a file`, file);
    if (st.size > maxBytes) throw tooLarge(noun, file, formatBytes(st.size), maxBytes, key);
    let buf = Buffer.allocUnsafe(st.size + 1);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > maxBytes) throw tooLarge(noun, file, `more than ${formatBytes(maxBytes)}`, maxBytes, key);
        // The file grew after fstat but is still under the cap: read on into a larger buffer.
        const more = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(more);
        buf = more;
      }
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) return buf.subarray(0, got);
      got += n;
    }
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(
      `${noun} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      file,
    );
  } finally {
    fs.closeSync(fd);
  }
}

function tooLarge(noun: string, file: string, size: string, maxBytes: number, key: string): ModelFileError {
  return new ModelFileError(
    `${noun} ${file} is ${size}, over the limit of ${formatBytes(maxBytes)} (${key}); ` +
      `give the right file or raise ${key}`,
    file,
  );
}
