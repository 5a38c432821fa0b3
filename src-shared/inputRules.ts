// What the app's input fields and the CLI's flags accept, written once: the Sweep box and `backtest --sweep`, the
// Collect fields and `collect --symbol/--duration`, the walk-forward minutes and `--train-window/--retrain-every`
// refuse the same things in the same words (each names its own field or flag). No zod: the renderer imports it.
import { parseDuration } from './duration.ts';

/** The input breaks its field's rule; the message names the field (`name`) and says what it takes. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Thresholds are in the label's units (bps of the predicted return): the engine takes 0..1000. */
export const MAX_THRESHOLD = 1000;

/** "0.5,1,2" or "0.5 1 2": one threshold per pass; every entry must be a non-negative number. */
export function parseSweep(text: string, name = '--sweep'): number[] {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((s) => {
    const x = Number(s);
    return !Number.isFinite(x) || x < 0 || x > MAX_THRESHOLD;
  });
  if (parts.length === 0 || bad.length > 0)
    throw new InputError(
      `${name} takes non-negative numbers (at most ${MAX_THRESHOLD}) separated by commas, got "${text.trim()}"` +
        (bad.length > 0 && parts.length > 0
          ? `: ${bad.map((s) => `"${s}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not`
          : ''),
    );
  return parts.map(Number);
}

/** One threshold: a non-negative number of bps. */
export function parseThreshold(text: string, name = '--threshold'): number {
  const x = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(x) || x < 0 || x > MAX_THRESHOLD)
    throw new InputError(
      `${name} takes a non-negative number (at most ${MAX_THRESHOLD}), got "${text.trim()}"`,
    );
  return x;
}

/** Bybit symbols: upper-case letters and digits (BTCUSDT, 1000PEPEUSDT). */
export const SYMBOL_PATTERN = /^[A-Z0-9]{2,30}$/;
export const SYMBOL_RULE = 'an upper-case symbol such as BTCUSDT';

export function parseSymbol(text: string, name = '--symbol'): string {
  const s = text.trim();
  if (!SYMBOL_PATTERN.test(s)) throw new InputError(`${name} takes ${SYMBOL_RULE}, got "${s}"`);
  return s;
}

/** Most symbols one collection records over one connection (the app's Collect; the CLI takes the same list). */
export const MAX_COLLECT_SYMBOLS = 20;

/**
 * "BTCUSDT,ETHUSDT,SOLUSDT": upper-case symbols separated by commas, each once (`collect --symbol`, the app's
 * Collect field).
 */
export function parseSymbolList(text: string, name = '--symbol'): string[] {
  const list = text.split(',').map((s) => s.trim());
  for (const s of list)
    if (!SYMBOL_PATTERN.test(s))
      throw new InputError(
        `${name}: ${JSON.stringify(s)} is not a symbol: use upper-case letters and digits, several separated by commas (BTCUSDT,ETHUSDT)`,
      );
  const dup = list.find((s, i) => list.indexOf(s) !== i);
  if (dup) throw new InputError(`${name}: ${dup} is listed twice`);
  if (list.length > MAX_COLLECT_SYMBOLS)
    throw new InputError(`${name}: at most ${MAX_COLLECT_SYMBOLS} symbols at once, got ${list.length}`);
  return list;
}

/**
 * A duration as the CLI writes them ("90s", "60m", "2h"; a bare number in `bareUnit`), positive and at most
 * `maxMs`: `collect --duration`, `--train-window`, `--retrain-every`, and the app's fields for the same.
 */
export function parseDurationInput(
  text: string,
  name: string,
  bareUnit: 'ms' | 's' | 'm' | 'h' | 'd',
  limits: { minMs?: number; maxMs?: number } = {},
): number {
  let ms: number;
  try {
    ms = parseDuration(text, bareUnit);
  } catch (e) {
    throw new InputError(`${name}: ${(e as Error).message}`);
  }
  if (!(ms > 0)) throw new InputError(`${name} must be positive`);
  const min = limits.minMs ?? 0;
  if (ms < min) throw new InputError(`${name} must be at least ${min / 1000} s`);
  if (limits.maxMs !== undefined && ms > limits.maxMs)
    throw new InputError(`${name} must be at most ${limits.maxMs / 86_400_000} days`);
  return ms;
}

/** The error's message when `fn` refuses the input, else null: for fields that show it inline. */
export function inputProblem(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}
