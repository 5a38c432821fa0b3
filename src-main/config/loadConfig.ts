// Loads the layered configuration: bundled defaults, then the user's file, then CLI overrides.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ConfigError, validateConfig, type Config } from '../../src-shared/config.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_CONFIG_PATH = path.join(PROJECT_ROOT, 'resources', 'config.yaml');

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`, '');
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(e as Error).message}`, '');
  }
  if (doc === null || doc === undefined) return {};
  if (!isTree(doc)) throw new ConfigError(`config file ${file} must hold a mapping of keys`, '');
  return doc;
}

export function mergeDeep(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isTree(v) && isTree(base[k]) ? mergeDeep(base[k] as Tree, v) : v;
  }
  return out;
}

/** Parses a CLI override value as YAML so that `--set trading.threshold=2` is a number. */
export function setPath(tree: Tree, dotted: string, value: unknown): Tree {
  const keys = dotted.split('.');
  const patch: Tree = {};
  let cur = patch;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) cur[k] = value;
    else cur = cur[k] = {} as Tree;
  });
  return mergeDeep(tree, patch);
}

export interface LoadOptions {
  /** Explicit user config file; when absent, ~/.config/l2desk/config.yaml is used if it exists. */
  configFile?: string;
  /** Dotted-key overrides from CLI flags, applied last. */
  overrides?: Record<string, unknown>;
  /** Skip the per-user file (tests). */
  ignoreUserFile?: boolean;
}

export function userConfigPath(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'l2desk', 'config.yaml');
}

export function loadConfig(opts: LoadOptions = {}): Config {
  let tree = readYaml(DEFAULT_CONFIG_PATH);
  validateConfig(tree, `defaults ${DEFAULT_CONFIG_PATH}`);
  const userFile = opts.configFile ?? (opts.ignoreUserFile ? undefined : userConfigPath());
  if (userFile && (opts.configFile || fs.existsSync(userFile))) {
    tree = mergeDeep(tree, readYaml(userFile));
    validateConfig(tree, `config file ${userFile}`);
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) tree = setPath(tree, k, v);
  return validateConfig(tree, 'command-line options');
}

export function parseOverrideValue(text: string): unknown {
  try {
    return YAML.parse(text);
  } catch {
    return text;
  }
}
