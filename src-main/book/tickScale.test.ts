import { describe, expect, it } from 'vitest';
import { inferTickSize, knownTickSize, OffTickError, TickScale } from './tickScale.ts';

describe('TickScale', () => {
  it.each([
    // tick, price, ticks
    ['0.1', 65114.2, 651142],
    ['0.1', 0.3, 3],
    ['0.10', 65114.3, 651143],
    ['0.01', 3456.78, 345678],
    ['0.0001', 0.5123, 5123],
    ['0.00001', 0.12345, 12345],
    ['0.5', 65114.5, 130229],
    ['0.5', 2, 4],
    ['0.05', 1.15, 23],
    ['0.025', 0.075, 3],
    ['1', 42, 42],
    ['10', 65110, 6511],
  ])('tick %s: %d is %d ticks and back exactly', (tick, price, ticks) => {
    const s = new TickScale(tick);
    expect(s.toTicks(price)).toBe(ticks);
    expect(s.toPrice(ticks)).toBe(price);
  });

  it('toPrice is the exact decimal, not accumulated float error', () => {
    const s = new TickScale('0.1');
    expect(s.toPrice(651142)).toBe(65114.2);
    expect(String(s.toPrice(651142))).toBe('65114.2');
    expect(String(new TickScale('0.00001').toPrice(12345))).toBe('0.12345');
    expect(String(new TickScale('0.05').toPrice(23))).toBe('1.15');
    // Every tick of 0.1 in a range round-trips through its decimal string.
    for (let t = 651000; t < 652000; t++) {
      const p = s.toPrice(t);
      expect(Number(p.toFixed(1))).toBe(p);
      expect(s.toTicks(Number(p.toFixed(1)))).toBe(t);
    }
  });

  it.each([
    ['0.1', 65114.25],
    ['0.1', 65114.21],
    ['0.5', 65114.2],
    ['0.0001', 0.51235],
    ['0.05', 1.12],
    ['1', 0.5],
  ])('tick %s rejects the off-grid price %d with an error naming both', (tick, price) => {
    const s = new TickScale(tick);
    expect(() => s.toTicks(price)).toThrow(OffTickError);
    expect(() => s.toTicks(price)).toThrow(new RegExp(`${String(price)}.*${s.tickSize}`));
    expect(s.tryToTicks(price)).toBeNaN();
  });

  it('rejects non-finite prices', () => {
    const s = new TickScale('0.1');
    expect(() => s.toTicks(NaN)).toThrow(OffTickError);
    expect(() => s.toTicks(Infinity)).toThrow(OffTickError);
  });

  it.each(['0', '', '-0.1', 'abc', '1e-5', '0.000'])('rejects the tick size %j', (tick) => {
    expect(() => new TickScale(tick)).toThrow(/tick size/);
  });

  it('normalises the tick string', () => {
    expect(new TickScale('0.10').tickSize).toBe('0.1');
    expect(new TickScale('0.0500').tickSize).toBe('0.05');
    expect(new TickScale('10').tickSize).toBe('10');
  });

  it('counts whole ticks in a distance', () => {
    const s = new TickScale('0.1');
    expect(s.ticksIn(0.3)).toBe(3);
    expect(s.ticksIn(0.25)).toBe(2);
    expect(s.ticksIn(0)).toBe(0);
    expect(new TickScale('0.5').ticksIn(1.4)).toBe(2);
  });
});

describe('inferTickSize', () => {
  it.each([
    [['65114.20', '65114.10', '65114.00'], '0.1'],
    [['65114.20', '65114.30'], '0.1'],
    [['65114.2', '65114.25'], '0.01'],
    [['0.51230', '0.51240', '0.5125'], '0.0001'],
    [['0.12345', '0.1235'], '0.00001'],
    [['65114', '65115'], '1'],
    [['65100', '65200'], '1'],
    [['3456.78'], '0.01'],
  ])('%j → %s', (prices, tick) => {
    expect(inferTickSize(prices)).toBe(tick);
  });

  it('finds a half step only with enough distinct prices', () => {
    const halves = Array.from({ length: 40 }, (_, i) => (65000 + i * 0.5).toFixed(2));
    expect(inferTickSize(halves)).toBe('0.5');
    expect(inferTickSize(halves.slice(0, 5))).toBe('0.1');
    const twentieths = Array.from({ length: 40 }, (_, i) => (1 + i * 0.05).toFixed(2));
    expect(inferTickSize(twentieths)).toBe('0.05');
  });

  it('infers BTC 0.1 from the real snapshot strings even though they carry two decimals', () => {
    const prices = Array.from({ length: 200 }, (_, i) => (65114.2 - i * 0.3).toFixed(2));
    expect(prices[0]).toBe('65114.20');
    expect(inferTickSize(prices)).toBe('0.1');
  });

  it('rejects garbage and empty input', () => {
    expect(() => inferTickSize([])).toThrow(/no prices/);
    expect(() => inferTickSize(['1.5', 'x'])).toThrow(/"x"/);
    expect(() => inferTickSize(['1e5'])).toThrow(/plain decimal/);
  });
});

describe('knownTickSize', () => {
  it.each([
    ['BTCUSDT', 'linear', '0.1'],
    ['btcusdt', 'linear', '0.1'],
    ['ETHUSDT', 'linear', '0.01'],
    ['XRPUSDT', 'linear', '0.0001'],
    ['DOGEUSDT', 'linear', '0.00001'],
    ['BTCUSDT', 'spot', '0.01'],
    ['NOSUCHUSDT', 'linear', undefined],
  ] as const)('%s %s → %s', (symbol, category, tick) => {
    expect(knownTickSize(symbol, category)).toBe(tick);
  });

  it('every known tick parses', () => {
    for (const c of ['linear', 'spot'] as const) {
      for (const s of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT']) {
        const t = knownTickSize(s, c);
        if (t !== undefined) expect(new TickScale(t).tickSize).toBe(t);
      }
    }
  });
});
