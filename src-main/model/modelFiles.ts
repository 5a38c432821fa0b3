// A model on disk is a pair: X.onnx (the tree ensemble) and X.json (its metadata). This writes both or neither:
// each goes to a temporary file first (fsynced), then X.json and X.onnx are renamed into place in that order, so a
// listing of models (every X.onnx with its X.json) never sees half a pair; on any failure nothing new is left.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TreeEnsemble } from './gbdt/model.ts';
import { ensembleToOnnx } from './onnx/exportOnnx.ts';
import { metaPathFor, modelMetaSchema, type ModelMeta } from './modelMeta.ts';

/** The model could not be written; nothing of it was left behind. */
export class ModelWriteError extends Error {
  override name = 'ModelWriteError';
}

function writeSynced(file: string, data: Uint8Array | string): void {
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes the renames durable; some file systems cannot fsync a directory, which costs durability, not safety. */
function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // already gone, or not ours to remove
  }
}

/** Writes `onnxPath` and the JSON beside it, atomically as a pair; returns the JSON's path. */
export function writeModel(onnxPath: string, ensemble: TreeEnsemble, meta: ModelMeta): string {
  if (!/\.onnx$/i.test(onnxPath)) throw new RangeError(`model path must end in .onnx, got ${onnxPath}`);
  if (meta.feature_set.names.length !== ensemble.nFeatures) {
    throw new RangeError(
      `metadata lists ${meta.feature_set.names.length} features, the model has ${ensemble.nFeatures}`,
    );
  }
  // Everything that can be refused is refused before a byte is written.
  const checked = modelMetaSchema.safeParse(meta);
  if (!checked.success) {
    const what = checked.error.issues
      .map((i) => `${i.path.join('.') || 'metadata'}: ${i.message}`)
      .join('; ');
    throw new ModelWriteError(`the model's metadata is invalid (${what}); nothing was written`);
  }
  const json = JSON.stringify(checked.data, null, 2) + '\n';
  const bytes = ensembleToOnnx(ensemble, {
    featureNames: meta.feature_set.names,
    featureSetVersion: meta.feature_set.version,
    docString: `L2 Desk GBDT: ${meta.label.kind} over ${meta.label.horizon_ms} ms`,
  });
  const jsonPath = metaPathFor(onnxPath);
  const dir = path.dirname(onnxPath);
  const tag = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmpOnnx = onnxPath + tag;
  const tmpJson = jsonPath + tag;
  const backup = jsonPath + tag + '.old';
  let jsonPlaced = false;
  let hadJson = false;
  try {
    fs.mkdirSync(dir, { recursive: true });
    writeSynced(tmpOnnx, bytes);
    writeSynced(tmpJson, json);
    // A pair being replaced keeps its old metadata until the new model is in place.
    hadJson = fs.statSync(jsonPath, { throwIfNoEntry: false })?.isFile() === true;
    if (hadJson) fs.linkSync(jsonPath, backup);
    fs.renameSync(tmpJson, jsonPath);
    jsonPlaced = true;
    fs.renameSync(tmpOnnx, onnxPath);
    syncDir(dir);
  } catch (e) {
    removeQuietly(tmpOnnx);
    removeQuietly(tmpJson);
    let keepBackup = false;
    if (jsonPlaced) {
      try {
        if (hadJson) fs.renameSync(backup, jsonPath);
        else removeQuietly(jsonPath);
      } catch {
        keepBackup = true; // the old metadata survives in the backup file
      }
    }
    if (!keepBackup) removeQuietly(backup);
    const err = e as NodeJS.ErrnoException;
    throw new ModelWriteError(
      `could not write the model ${path.basename(onnxPath)} to ${dir} (${err.code ?? err.message}` +
        `${err.path ? `: ${err.path}` : ''}); nothing was written`,
    );
  }
  removeQuietly(backup);
  return jsonPath;
}
