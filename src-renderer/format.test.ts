// Prices and sizes on other symbols than BTCUSDT: a coin priced in hundred-thousandths, a contract on a 5-dollar
// tick, a coin whose lots are ten-thousandths. The screen's figures must keep what tells two levels apart.
import { describe, expect, it } from 'vitest';
import { fmt, midDecimals, midPriceFormat, priceDecimals, size } from './format.ts';

describe('price decimals follow the tick size', () => {
  it('levels and fills show the tick decimals, mids and entries one more', () => {
    expect(priceDecimals('0.1')).toBe(1);
    expect(priceDecimals('0.0000001')).toBe(7);
    expect(priceDecimals('5')).toBe(0);
    expect(midDecimals('0.01')).toBe(3);
    expect(fmt(0.0123901, priceDecimals('0.0000001'))).toBe('0.0123901');
    expect(fmt(0.01239015, midDecimals('0.0000001'))).toBe('0.01239015');
    expect(fmt(4862.5, midDecimals('5'))).toBe('4,862.5');
    // Before the first book: a neutral 2 decimals, never the BTC-only 1.
    expect(priceDecimals(undefined)).toBe(2);
    expect(priceDecimals('')).toBe(2);
  });

  it("the price chart's axis steps by a tenth of the tick, not lightweight-charts' default 0.01", () => {
    expect(midPriceFormat('0.0000001')).toEqual({ type: 'price', precision: 8, minMove: 1e-8 });
    expect(midPriceFormat('0.1')).toEqual({ type: 'price', precision: 2, minMove: 0.01 });
    expect(midPriceFormat('5')).toEqual({ type: 'price', precision: 1, minMove: 0.1 });
  });
});

describe('size', () => {
  it('keeps three significant digits of a small lot instead of rounding it to zero', () => {
    expect(size(0.0004)).toBe('0.000400');
    expect(size(0.0012)).toBe('0.00120');
    expect(size(0.5)).toBe('0.500');
    expect(size(0)).toBe('0.000');
  });

  it('formats a short position as a long one, sign apart', () => {
    expect(size(-2_500_000)).toBe('-2,500,000');
    expect(size(2_500_000)).toBe('2,500,000');
    expect(size(-12.5)).toBe('-12.50');
    expect(size(-0.0004)).toBe('-0.000400');
  });

  it('shows a dash for what is not a number', () => {
    expect(size(NaN)).toBe('—');
    expect(size(Infinity)).toBe('—');
  });
});
