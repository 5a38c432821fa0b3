// exchange-sim --symbol A,B:TICK:PRICE: each further served symbol's grid and first price, or a clear refusal.
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { parseExtraMarket } from './exchange-sim.ts';

describe('exchange-sim --symbol further markets', () => {
  it.each([
    ['ETHUSDT:0.01:3400', { symbol: 'ETHUSDT', tickSize: '0.01', startPrice: 3400 }],
    ['SOLUSDT:0.001:150', { symbol: 'SOLUSDT', tickSize: '0.001', startPrice: 150 }],
    // A symbol whose tick is known: that tick, and a price 650 000 ticks up.
    ['ETHUSDT', { symbol: 'ETHUSDT', tickSize: '0.01', startPrice: 6500 }],
  ])('%s', (spec, want) => {
    expect(parseExtraMarket(spec, 'linear')).toEqual(want);
  });

  it.each([
    ['FOOUSDT', /the tick size of FOOUSDT is not known/],
    ['ethusdt:0.01:3400', /not a symbol/],
    ['ETHUSDT:0.01:3400:1', /not a symbol/],
    ['ETHUSDT:abc:3400', /ETHUSDT:abc:3400/],
    ['ETHUSDT:0.01:0.5', /too few ticks/],
  ])('refuses %s', (spec, re) => {
    expect(() => parseExtraMarket(spec, 'linear')).toThrow(UsageError);
    expect(() => parseExtraMarket(spec, 'linear')).toThrow(re);
  });
});
