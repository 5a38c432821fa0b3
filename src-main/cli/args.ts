// Minimal typed flag parsing for the headless commands: `--key value`, `--key=value`, `--flag`.
import { parseOverrideValue } from '../config/loadConfig.ts';

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const push = (k: string, v: string) => flags.set(k, [...(flags.get(k) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      push(a.slice(2, eq), a.slice(eq + 1));
      continue;
    }
    const key = a.slice(2);
    const next = argv[i + 1];
    if (booleanFlags.includes(key) || next === undefined || next.startsWith('--')) push(key, 'true');
    else {
      push(key, next);
      i++;
    }
  }
  return { positionals, flags };
}

export class Args {
  constructor(private readonly parsed: ParsedArgs) {}
  static of(argv: string[], booleanFlags: readonly string[] = []): Args {
    return new Args(parseArgs(argv, booleanFlags));
  }
  get positionals(): string[] {
    return this.parsed.positionals;
  }
  has(key: string): boolean {
    return this.parsed.flags.has(key);
  }
  str(key: string): string | undefined {
    const v = this.parsed.flags.get(key);
    return v ? v[v.length - 1] : undefined;
  }
  all(key: string): string[] {
    return this.parsed.flags.get(key) ?? [];
  }
  req(key: string): string {
    const v = this.str(key);
    if (v === undefined || v === 'true') throw new UsageError(`--${key} is required`);
    return v;
  }
  num(key: string): number | undefined {
    const v = this.str(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number, got "${v}"`);
    return n;
  }
  bool(key: string): boolean {
    const v = this.str(key);
    return v !== undefined && v !== 'false' && v !== '0';
  }
  /**
   * `--set key=value` (repeatable): any config key, e.g. `--set trading.queue_model=risk_averse`; the value is read
   * as YAML (numbers, booleans, durations stay strings). loadConfig validates keys and values and names a bad one.
   */
  sets(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const kv of this.all('set')) {
      const eq = kv.indexOf('=');
      if (eq < 1)
        throw new UsageError(
          `--set takes key=value (a config key such as trading.latency=100ms), got "${kv}"`,
        );
      // defineProperty, not assignment: `--set __proto__=1` must stay a key that validation names as unknown.
      Object.defineProperty(out, kv.slice(0, eq).trim(), {
        value: parseOverrideValue(kv.slice(eq + 1)),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** Flags this command does not know are a usage error, not silently ignored. */
  rejectUnknown(known: readonly string[]): void {
    for (const k of this.parsed.flags.keys()) {
      if (!known.includes(k))
        throw new UsageError(`unknown option --${k}; known: ${known.map((x) => '--' + x).join(' ')}`);
    }
  }
}
