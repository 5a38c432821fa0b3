import { describe, expect, it } from 'vitest';
import { orderRulesMeta, sessionInstrument } from './orderRules.ts';

const session = (meta: Record<string, unknown>) => ({
  symbol: 'FOOUSDT',
  category: 'linear' as const,
  tickSize: '0.00001',
  meta,
});

describe('order rules in a session', () => {
  it('a live instrument’s lot and minimum order value go into the meta and come back as the replay’s instrument', () => {
    const meta = orderRulesMeta({
      symbol: 'FOOUSDT',
      category: 'linear',
      tickSize: '0.00001',
      qtyStep: '100',
      minNotional: '5',
    });
    expect(meta).toEqual({ instrument: { qtyStep: '100', minNotional: '5' } });
    expect(sessionInstrument(session({ seed: 1, ...meta }))).toEqual({
      symbol: 'FOOUSDT',
      category: 'linear',
      tickSize: '0.00001',
      qtyStep: '100',
      minNotional: '5',
    });
  });

  it('a source that knows no rule (the simulator, a failed instrument-info request) adds nothing', () => {
    expect(orderRulesMeta({ symbol: 'BTCUSDT', category: 'linear', tickSize: '0.1' })).toEqual({});
    expect(
      orderRulesMeta({ symbol: 'BTCUSDT', category: 'spot', tickSize: '0.01', minNotional: '1' }),
    ).toEqual({
      instrument: { minNotional: '1' },
    });
    expect(sessionInstrument(session({}))).toEqual({
      symbol: 'FOOUSDT',
      category: 'linear',
      tickSize: '0.00001',
    });
  });

  it.each([
    ['a number', { qtyStep: 100, minNotional: 5 }],
    ['an exponent', { qtyStep: '1e-7', minNotional: '5e0' }],
    ['zero and negative', { qtyStep: '0', minNotional: '-5' }],
    ['text', { qtyStep: 'lots', minNotional: '' }],
    ['nested objects', { qtyStep: { v: '1' }, minNotional: ['5'] }],
  ])('a hand-edited meta with %s is ignored, not trusted', (_what, rules) => {
    expect(sessionInstrument(session({ instrument: rules }))).toEqual({
      symbol: 'FOOUSDT',
      category: 'linear',
      tickSize: '0.00001',
    });
  });

  it('a meta whose instrument entry is not an object is ignored', () => {
    for (const instrument of [null, 'x', 3, ['100']])
      expect(sessionInstrument(session({ instrument })).qtyStep).toBeUndefined();
  });
});
