// The hostile-data limits are configuration: defaults as documented, and bad values refused naming the key.
import { describe, expect, it } from 'vitest';
import { limitsFromConfig } from '../book/plausibility.ts';
import { loadConfig } from './loadConfig.ts';

describe('bybit.max_frame_bytes and plausibility.*', () => {
  it('defaults: a 4 MiB frame cap, a 50% price band, a 1e12 size cap, 1 h of clock skew', () => {
    const c = loadConfig({ ignoreUserFile: true });
    expect(c.bybit.max_frame_bytes).toBe(4 * 1024 * 1024);
    expect(limitsFromConfig(c.plausibility)).toEqual({
      maxPriceDeviation: 0.5,
      maxSize: 1e12,
      maxClockSkewMs: 3_600_000,
    });
  });

  it('takes overrides and refuses values that would disable the checks', () => {
    const c = loadConfig({ ignoreUserFile: true, overrides: { 'plausibility.max_clock_skew': '10m' } });
    expect(c.plausibility.max_clock_skew).toBe(600_000);
    expect(() => loadConfig({ ignoreUserFile: true, overrides: { 'bybit.max_frame_bytes': 1000 } })).toThrow(
      /bybit\.max_frame_bytes/,
    );
    expect(() => loadConfig({ ignoreUserFile: true, overrides: { 'plausibility.max_size': 0 } })).toThrow(
      /plausibility\.max_size/,
    );
    expect(() =>
      loadConfig({ ignoreUserFile: true, overrides: { 'plausibility.max_clock_skew': '0s' } }),
    ).toThrow(/plausibility\.max_clock_skew: at least 1s/);
  });
});
