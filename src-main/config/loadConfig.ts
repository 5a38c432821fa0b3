// Loads the layered configuration: bundled defaults, then the user's file, then CLI overrides.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ConfigError, validateConfig, type Config } from '../../src-shared/config.ts';

/**
 * The folder holding package.json and resources/: found by walking up from this module, so that it is the same
 * from the TypeScript sources (src-main/config/), the compiled CLI (out/cli/) and the Electron build (out/main/).
 */
export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  for (let dir = start; ;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'resources')))
      return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start, '..', '..');
    dir = up;
  }
}
export const DEFAULT_CONFIG_PATH = path.join(PROJECT_ROOT, 'resources', 'config.yaml');

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A config file is small text; anything larger is the wrong file. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Reads a config file only if it is a regular file under MAX_CONFIG_BYTES, judged on the opened descriptor before
 * reading: `--config /dev/zero` or a FIFO is refused at once instead of reading forever or blocking.
 */
function readConfigText(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`, '');
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`config file ${file} is not a regular file`, '');
    if (st.size > MAX_CONFIG_BYTES)
      throw new ConfigError(`config file ${file} is ${st.size} bytes, over the limit of 1 MiB`, '');
    return fs.readFileSync(fd, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`, '');
  } finally {
    fs.closeSync(fd);
  }
}

function readYaml(file: string): Tree {
  const text = readConfigText(file);
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

/**
 * Sets an own, enumerable property even when the key is `__proto__`: keys come from the user (YAML, `--set`), and a
 * plain assignment would change the object's prototype instead, so the key would vanish before validation names it.
 */
function defineOwn(tree: Tree, key: string, value: unknown): void {
  Object.defineProperty(tree, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep merge that reads only own properties, so a key such as `toString` or `constructor` is never inherited. */
export function mergeDeep(base: Tree, over: Tree): Tree {
  const out: Tree = {};
  for (const [k, v] of Object.entries(base)) defineOwn(out, k, v);
  for (const [k, v] of Object.entries(over)) {
    const below = Object.hasOwn(base, k) ? base[k] : undefined;
    defineOwn(out, k, isTree(v) && isTree(below) ? mergeDeep(below, v) : v);
  }
  return out;
}

/** Parses a CLI override value as YAML so that `--set trading.threshold=2` is a number. */
export function setPath(tree: Tree, dotted: string, value: unknown): Tree {
  const keys = dotted.split('.');
  if (keys.some((k) => k.trim() === ''))
    throw new ConfigError(
      `unknown config key "${dotted}": a key is dot-separated names such as trading.threshold`,
      dotted,
    );
  const patch: Tree = {};
  let cur = patch;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) defineOwn(cur, k, value);
    else {
      const next: Tree = {};
      defineOwn(cur, k, next);
      cur = next;
    }
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
