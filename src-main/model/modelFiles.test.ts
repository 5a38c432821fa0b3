// Model files are written as a pair or not at all: failures are real file-system conditions, not mocks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeModel, ModelWriteError } from './modelFiles.ts';
import { constantEnsemble, placeholderMeta } from './testing/constantModel.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2mf-'));
afterAll(() => {
  fs.chmodSync(dir, 0o755);
  for (const d of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, d), 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
});

function fresh(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  return d;
}

describe('writeModel', () => {
  it('writes X.onnx and X.json and leaves no temporary file', () => {
    const d = fresh('ok');
    const json = writeModel(path.join(d, 'm.onnx'), constantEnsemble(0.5), placeholderMeta('m', 10_000));
    expect(json).toBe(path.join(d, 'm.json'));
    expect(fs.readdirSync(d).sort()).toEqual(['m.json', 'm.onnx']);
  });

  it('a directory where X.json goes: neither file is written, nothing is left behind', () => {
    const d = fresh('json-is-dir');
    fs.mkdirSync(path.join(d, 'm.json'));
    fs.writeFileSync(path.join(d, 'm.json', 'keep'), 'x'); // not empty: the rename cannot replace it
    expect(() =>
      writeModel(path.join(d, 'm.onnx'), constantEnsemble(0.5), placeholderMeta('m', 10_000)),
    ).toThrow(ModelWriteError);
    expect(fs.readdirSync(d)).toEqual(['m.json']);
    expect(fs.statSync(path.join(d, 'm.json')).isDirectory()).toBe(true);
  });

  it('a failure after X.json is in place (a directory where X.onnx goes) takes X.json back out', () => {
    const d = fresh('onnx-is-dir');
    fs.mkdirSync(path.join(d, 'm.onnx'));
    fs.writeFileSync(path.join(d, 'm.onnx', 'keep'), 'x');
    expect(() =>
      writeModel(path.join(d, 'm.onnx'), constantEnsemble(0.5), placeholderMeta('m', 10_000)),
    ).toThrow(/could not write the model m\.onnx .*nothing was written/);
    expect(fs.readdirSync(d)).toEqual(['m.onnx']);
  });

  it('replacing a pair that fails half-way keeps the old metadata', () => {
    const d = fresh('replace');
    fs.writeFileSync(path.join(d, 'm.json'), '{"old":true}\n');
    fs.mkdirSync(path.join(d, 'm.onnx'));
    fs.writeFileSync(path.join(d, 'm.onnx', 'keep'), 'x');
    expect(() =>
      writeModel(path.join(d, 'm.onnx'), constantEnsemble(0.5), placeholderMeta('m', 10_000)),
    ).toThrow(ModelWriteError);
    expect(fs.readFileSync(path.join(d, 'm.json'), 'utf8')).toBe('{"old":true}\n');
    expect(fs.readdirSync(d).sort()).toEqual(['m.json', 'm.onnx']);
  });

  it.skipIf(process.getuid?.() === 0)('a read-only folder: a clear error and no file', () => {
    const d = fresh('ro');
    fs.chmodSync(d, 0o555);
    expect(() =>
      writeModel(path.join(d, 'm.onnx'), constantEnsemble(0.5), placeholderMeta('m', 10_000)),
    ).toThrow(/could not write the model m\.onnx to .*ro \(EACCES/);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('metadata the schema refuses (a NaN metric) is named and nothing is written', () => {
    const d = fresh('bad-meta');
    const meta = placeholderMeta('m', 10_000);
    meta.metrics.ic = NaN;
    expect(() => writeModel(path.join(d, 'm.onnx'), constantEnsemble(0.5), meta)).toThrow(
      /metadata is invalid \(metrics\.ic: .*\); nothing was written/,
    );
    expect(fs.readdirSync(d)).toEqual([]);
  });
});
