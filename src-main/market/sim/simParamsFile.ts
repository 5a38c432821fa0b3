// Reads and writes simulator parameter files (YAML or JSON: `l2desk sim calibrate --write FILE`, read back through
// config `sim.params_file` or `--sim-params FILE`). A file holds some or all of SimParams; every value is checked
// against SIM_PARAM_BOUNDS and an unknown key is refused, so a typo never silently falls back to a default.
import fs from 'node:fs';
import YAML from 'yaml';
import { SIM_PARAM_BOUNDS, type SimParams } from './simGenerator.ts';

export class SimParamsError extends Error {
  override name = 'SimParamsError';
}

/** Checks a parsed params object; `where` names the file in messages. */
export function validateSimParams(raw: unknown, where: string): Partial<SimParams> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new SimParamsError(`${where}: expected a mapping of simulator parameters (e.g. sigmaBps: 0.8)`);
  // A file written by `sim calibrate --write` keeps the parameters under `params` beside its provenance.
  const obj = 'params' in raw ? (raw as { params: unknown }).params : raw;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    throw new SimParamsError(`${where}: "params" must be a mapping of simulator parameters`);
  const out: Partial<SimParams> = {};
  for (const [k, v] of Object.entries(obj)) {
    const bounds = SIM_PARAM_BOUNDS[k as keyof SimParams];
    if (!bounds)
      throw new SimParamsError(
        `${where}: unknown simulator parameter "${k}" (known: ${Object.keys(SIM_PARAM_BOUNDS).join(', ')})`,
      );
    if (typeof v !== 'number' || !Number.isFinite(v) || v < bounds[0] || v > bounds[1])
      throw new SimParamsError(
        `${where}: ${k} must be a number between ${bounds[0]} and ${bounds[1]}, got ${JSON.stringify(v)}`,
      );
    out[k as keyof SimParams] = v;
  }
  return out;
}

/** Reads a params file (YAML, of which JSON is a subset). */
export function readSimParamsFile(file: string): Partial<SimParams> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SimParamsError(`cannot read simulator parameters ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (e) {
    throw new SimParamsError(`${file} is not valid YAML or JSON: ${(e as Error).message}`);
  }
  return validateSimParams(raw, file);
}

/** Writes `params` (with `about`, a provenance mapping) as JSON, or YAML when the name ends in .yaml/.yml. */
export function writeSimParamsFile(file: string, params: SimParams, about: Record<string, unknown>): void {
  const doc = { ...about, params };
  const text = /\.ya?ml$/i.test(file) ? YAML.stringify(doc) : JSON.stringify(doc, null, 2) + '\n';
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
