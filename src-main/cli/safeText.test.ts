import { describe, expect, it } from 'vitest';
import { safeText } from './safeText.ts';

describe('safeText', () => {
  it.each([
    ['plain text', 'orderbook.50.BTCUSDT', 'orderbook.50.BTCUSDT'],
    ['non-ASCII letters stay', 'prix €, 価格, цена', 'prix €, 価格, цена'],
    ['a backslash stays', 'C:\\models\\x.onnx', 'C:\\models\\x.onnx'],
    ['window title (OSC, BEL)', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['clear screen (CSI)', 'a\x1b[2Jb', 'a\\x1b[2Jb'],
    ['carriage return + erase line', '\r\x1b[Kcollect fake', '\\x0d\\x1b[Kcollect fake'],
    ['newline and tab', 'a\nb\tc', 'a\\x0ab\\x09c'],
    ['NUL and DEL', 'a\x00b\x7f', 'a\\x00b\\u007f'],
    ['C1 CSI (U+009B) and NEL (U+0085)', 'a\u009b2Jb\u0085', 'a\\u009b2Jb\\u0085'],
    ['right-to-left override', 'abc\u202edcba', 'abc\\u202edcba'],
    [
      'bidi embeddings and isolates',
      '\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069',
      '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069',
    ],
    ['marks and separators', '\u200e\u200f\u061c\u2028\u2029', '\\u200e\\u200f\\u061c\\u2028\\u2029'],
  ])('%s', (_what, input, expected) => {
    expect(safeText(input)).toBe(expected);
  });

  it('keeps newlines and tabs when asked, and still escapes everything else', () => {
    expect(safeText('invalid config:\n\tkey\x1b[2J\r\u202e', { keepNewlines: true })).toBe(
      'invalid config:\n\tkey\\x1b[2J\\x0d\\u202e',
    );
  });

  it('leaves no control or bidi character in any of the 0x0000-0xFFFF code units', () => {
    const all = Array.from({ length: 0x10000 }, (_, i) => String.fromCharCode(i)).join('');
    const out = safeText(all);
    const unsafe = (c: number) =>
      c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    expect([...out].filter((ch) => unsafe(ch.charCodeAt(0)))).toEqual([]);
  });

  it('keeps JSON output valid: an escaped DEL, C1 or bidi character parses back to the same string', () => {
    const value = { symbol: 'BTC\u007f\u0085\u009b\u202e\u2028USDT' };
    const printed = safeText(JSON.stringify(value), { keepNewlines: true });
    expect(printed).not.toMatch(/[\u007f-\u009f\u202e\u2028]/);
    expect(JSON.parse(printed)).toEqual(value);
  });
});
