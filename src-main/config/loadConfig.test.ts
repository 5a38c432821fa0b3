import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src-shared/config.ts';
import { Args } from '../cli/args.ts';
import { loadConfig } from './loadConfig.ts';

function tmpYaml(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-cfg-'));
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('loads the bundled defaults with durations in milliseconds', () => {
    const c = loadConfig({ ignoreUserFile: true });
    expect(c.source).toBe('bybit');
    expect(c.symbol).toBe('BTCUSDT');
    expect(c.bybit.ping_interval).toBe(20_000);
    expect(c.store.batch_interval).toBe(250);
    expect(c.model.horizon).toBe(10_000);
    expect(c.trading.taker_fee).toBeCloseTo(0.00055);
  });

  it('layers the user file over defaults and flags over both', () => {
    const file = tmpYaml('symbol: XRPUSDT\ntrading:\n  threshold: 3\n');
    const c = loadConfig({ configFile: file, overrides: { 'trading.threshold': 0.7, depth: 200 } });
    expect(c.symbol).toBe('XRPUSDT');
    expect(c.trading.threshold).toBe(0.7);
    expect(c.depth).toBe(200);
    expect(c.trading.maker_fee).toBeCloseTo(0.0002);
  });

  it.each([
    [{ depth: 500 }, 'depth', '1, 50, 200, 1000'],
    [{ source: 'binance' }, 'source', '"bybit", "sim", "replay"'],
    [{ 'bybit.ping_interval': 'soon' }, 'bybit.ping_interval', 'not a duration'],
    [{ 'bybit.ping_interval': 0 }, 'bybit.ping_interval', 'must be > 0'],
    [{ 'bybit.stale_timeout': '0s' }, 'bybit.stale_timeout', 'at least 100ms'],
    [{ 'store.batch_interval': '2s' }, 'store.batch_interval', 'between 1ms and 250ms'],
    [{ 'trading.threshold': -1 }, 'trading.threshold', '>=0'],
    [{ 'risk.typo_key': 1 }, 'risk', 'typo_key'],
    // The old coin-denominated cap (0.5 meant 0.5 DOGE on DOGEUSDT) points to its quote-currency successor.
    [{ 'risk.max_position': 0.5 }, 'risk', 'risk.max_position_notional'],
    [{ 'risk.rebalance_band': 1.5 }, 'risk.rebalance_band', '<=1'],
    [{ 'trading.latency_model': 'random' }, 'trading.latency_model', '"constant", "feed", "jitter"'],
    [{ 'trading.latency_jitter': 'a bit' }, 'trading.latency_jitter', 'not a duration'],
    [{ 'trading.latency_feed_factor': -2 }, 'trading.latency_feed_factor', '>=0'],
    [{ 'trading.latency_seed': 1.5 }, 'trading.latency_seed', 'int'],
    [{ 'trading.queue_model': 'fifo' }, 'trading.queue_model', '"pro_rata", "risk_averse", "power"'],
    [{ 'trading.queue_power': 0 }, 'trading.queue_power', '>0'],
  ])('rejects %j naming the key and what is allowed', (overrides, key, allowed) => {
    let err: unknown;
    try {
      loadConfig({ ignoreUserFile: true, overrides });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe(key);
    expect((err as Error).message).toContain(key);
    expect((err as Error).message).toContain(allowed);
  });

  it('names the file when the user config is not YAML or not a mapping', () => {
    const bad = tmpYaml('source: [unclosed');
    expect(() => loadConfig({ configFile: bad })).toThrow(bad);
    const list = tmpYaml('- a\n- b\n');
    expect(() => loadConfig({ configFile: list })).toThrow(/must hold a mapping/);
  });

  // Keys are looked up as own properties only: an inherited name (toString, constructor) or __proto__ is an unknown
  // key, never a function body in the message and never a silently dropped or prototype-changing override.
  it.each([
    ['toString=1', '', 'toString'],
    ['constructor=1', '', 'constructor'],
    ['__proto__=1', '', '__proto__'],
    ['__proto__.x=1', '', '__proto__'],
    ['risk.toString=1', 'risk', 'toString'],
    ['risk.__proto__.x=1', 'risk', '__proto__'],
    ['hasOwnProperty=1', '', 'hasOwnProperty'],
  ])('--set %s is an unknown config key', (kv, key, name) => {
    let err: unknown;
    try {
      loadConfig({ ignoreUserFile: true, overrides: Args.of(['--set', kv]).sets() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe(key);
    expect((err as Error).message).toContain(`unknown config key ${name}`);
    expect((err as Error).message).not.toMatch(/function|native code/);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  // YAML and --set read an unquoted 0.0000001 as a number, which String() writes as 1e-7: a fine tick (PEPE-like
  // coins) must still be the decimal the user typed, from either.
  it.each(['0.0000001', '0.00000012', '5', '0.5'])('tick size %s unquoted is that decimal', (tick) => {
    const fromSet = loadConfig({
      ignoreUserFile: true,
      overrides: Args.of(['--set', `tick_size=${tick}`, '--set', `sim.tick_size=${tick}`]).sets(),
    });
    expect(fromSet.tick_size).toBe(tick);
    expect(fromSet.sim.tick_size).toBe(tick);
    const fromFile = loadConfig({ configFile: tmpYaml(`tick_size: ${tick}\nsim:\n  tick_size: ${tick}\n`) });
    expect(fromFile.tick_size).toBe(tick);
    expect(fromFile.sim.tick_size).toBe(tick);
  });

  it('names __proto__ and toString in a config file as unknown keys', () => {
    const file = tmpYaml('__proto__:\n  x: 1\ntoString: 2\n');
    expect(() => loadConfig({ configFile: file })).toThrow(/unknown config keys __proto__, toString/);
  });

  it.runIf(process.platform !== 'win32')(
    'refuses a config file that is a device, a FIFO or too large, before reading it',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-cfg-'));
      const fifo = path.join(dir, 'fifo.yaml');
      execFileSync('mkfifo', [fifo]);
      const big = path.join(dir, 'big.yaml');
      fs.writeFileSync(big, '');
      fs.truncateSync(big, 64 * 1024 * 1024);
      expect(() => loadConfig({ configFile: '/dev/zero' })).toThrow(/\/dev\/zero is not a regular file/);
      expect(() => loadConfig({ configFile: fifo })).toThrow(/fifo\.yaml is not a regular file/);
      expect(() => loadConfig({ configFile: big })).toThrow(/67108864 bytes, over the limit of 1 MiB/);
      expect(() => loadConfig({ configFile: dir })).toThrow(/is not a regular file/);
    },
  );
});
