import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bookTopic,
  parseFrame,
  parseRawMessage,
  publicUrl,
  subscribeRequests,
  tradeTopic,
  TopicError,
  type ParsedFrame,
} from './protocol.ts';
import { BYBIT_RECORDING as RECORDING } from '../../testing/bybitRecording.ts';

describe('parseFrame on the real Bybit recording', () => {
  const lines = fs
    .readFileSync(RECORDING, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const frames = lines.map((l, i) => parseFrame(l, 1000 + i));

  it('parses all 430 lines into book and trade messages', () => {
    expect(lines).toHaveLength(430);
    const counts: Record<string, number> = {};
    for (const f of frames) counts[f.type] = (counts[f.type] ?? 0) + 1;
    expect(counts).toEqual({ book: 414, trades: 16 });
  });

  it('reads the snapshot and consecutive deltas with numbers parsed once', () => {
    const books = frames.flatMap((f) => (f.type === 'book' ? [f.msg] : []));
    expect(books[0].type).toBe('snapshot');
    expect(books[0]).toMatchObject({
      symbol: 'BTCUSDT',
      depth: 200,
      u: 15076952,
      ts: 1786310818129,
      recvTs: 1000,
    });
    expect(books[0].bids[0]).toEqual([65114.2, 6.054]);
    expect(books[0].bids).toHaveLength(200);
    expect(books[0].asks).toHaveLength(200);
    for (let i = 1; i < books.length; i++) {
      expect(books[i].type).toBe('delta');
      expect(books[i].u).toBe(books[i - 1].u + 1);
      expect(books[i].seq).toBeGreaterThan(0);
      expect(books[i].cts).toBeGreaterThan(0);
    }
    expect(books[books.length - 1].u).toBe(15077365);
    // The second line: a delta whose "0" sizes delete levels.
    const d = books[1];
    expect(d).toMatchObject({ u: 15076953, seq: 753843913870, cts: 1786310818129, ts: 1786310818130 });
    expect(d.bids[2]).toEqual([65093.1, 0]);
    expect(d.asks[0]).toEqual([65116.6, 0]);
  });

  it('reads trade fields right', () => {
    const trades = frames.flatMap((f) => (f.type === 'trades' ? [f.msg] : []));
    expect(trades[0]).toEqual({
      kind: 'trades',
      symbol: 'BTCUSDT',
      ts: 1786310819681,
      recvTs: 1000 + lines.findIndex((l) => l.includes('a9188a0a-82bc-50de-be60-03eedbe3cdd7')),
      trades: [
        {
          ts: 1786310819680,
          side: 'Sell',
          price: 65114.2,
          size: 0.004,
          id: 'a9188a0a-82bc-50de-be60-03eedbe3cdd7',
          blockTrade: false,
          seq: 753843954913,
        },
      ],
    });
    const all = trades.flatMap((t) => t.trades);
    expect(all.every((t) => t.side === 'Buy' || t.side === 'Sell')).toBe(true);
    expect(all.some((t) => t.side === 'Buy')).toBe(true);
    expect(all.every((t) => t.price > 65000 && t.price < 65200 && t.size > 0)).toBe(true);
  });
});

const book = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}) =>
  JSON.stringify({
    topic: 'orderbook.50.BTCUSDT',
    type: 'delta',
    ts: 1700000000000,
    cts: 1699999999999,
    data: { s: 'BTCUSDT', b: [['65000.1', '1.5']], a: [['65000.2', '0']], u: 7, seq: 99, ...data },
    ...over,
  });
const trade = (t: Record<string, unknown>) =>
  JSON.stringify({
    topic: 'publicTrade.BTCUSDT',
    type: 'snapshot',
    ts: 1700000000000,
    data: [
      { T: 1700000000000, s: 'BTCUSDT', S: 'Buy', v: '0.01', p: '65000.1', i: 'x1', BT: false, seq: 5, ...t },
    ],
  });

describe('parseFrame table', () => {
  const cases: Array<[string, string, ParsedFrame['type'], RegExp?]> = [
    ['a delta', book(), 'book'],
    ['a snapshot without cts or seq', book({ type: 'snapshot', cts: undefined }, { seq: undefined }), 'book'],
    ['a trade', trade({}), 'trades'],
    ['the public pong', '{"success":true,"ret_msg":"pong","conn_id":"abc","op":"ping"}', 'pong'],
    ['the spot pong', '{"success":true,"ret_msg":"pong","conn_id":"abc","req_id":"","op":"ping"}', 'pong'],
    ['the private-style pong', '{"op":"pong","args":["1700000000000"],"conn_id":"abc"}', 'pong'],
    [
      'a subscribe success',
      '{"success":true,"ret_msg":"","conn_id":"abc","req_id":"","op":"subscribe"}',
      'subscribe',
    ],
    [
      'a subscribe failure',
      '{"success":false,"ret_msg":"error:handler not found,topic:orderbook.500.BTCUSDT","conn_id":"abc","op":"subscribe"}',
      'subscribe',
    ],
    [
      'an unknown topic',
      '{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":{}}',
      'unknown',
      /tickers/,
    ],
    ['an unknown op', '{"op":"auth","success":true}', 'unknown', /auth/],
    ['an object without topic or op', '{"hello":1}', 'unknown'],
    ['truncated JSON', book().slice(0, 60), 'malformed', /invalid JSON/],
    ['empty text', '', 'malformed', /invalid JSON/],
    ['a JSON array', '[1,2]', 'malformed', /object/],
    ['JSON null', 'null', 'malformed'],
    ['a number topic', '{"topic":5}', 'malformed', /topic/],
    ['a missing data', book({ data: undefined }), 'malformed', /data/],
    ['a missing u', book({}, { u: undefined }), 'malformed', /data\.u/],
    ['a string u', book({}, { u: '7' }), 'malformed', /data\.u/],
    ['a fractional u', book({}, { u: 7.5 }), 'malformed', /data\.u/],
    ['a non-numeric price', book({}, { b: [['abc', '1']] }), 'malformed', /bad price/],
    ['an empty price', book({}, { b: [['', '1']] }), 'malformed', /bad price/],
    ['a negative size', book({}, { a: [['65000.2', '-1']] }), 'malformed', /bad size/],
    ['a null size', book({}, { a: [['65000.2', null]] }), 'malformed', /bad size/],
    ['a level that is not a pair', book({}, { b: [['65000.1']] }), 'malformed', /level 0/],
    ['bids not an array', book({}, { b: { p: 1 } }), 'malformed', /bids/],
    ['a bad type', book({ type: 'update' }), 'malformed', /snapshot or delta/],
    ['a string ts', book({ ts: '1700000000000' }), 'malformed', /ts/],
    ['a missing ts', book({ ts: undefined }), 'malformed', /ts/],
    ['a symbol not matching the topic', book({}, { s: 'ETHUSDT' }), 'malformed', /match/],
    ['a depth that is not a number', book({ topic: 'orderbook.x.BTCUSDT' }), 'malformed', /topic/],
    ['a trade with a bad side', trade({ S: 'buy' }), 'malformed', /side/],
    ['a trade with a non-numeric price', trade({ p: 'NaN' }), 'malformed', /price/],
    ['a trade with a zero size', trade({ v: '0' }), 'malformed', /size/],
    ['a trade without time', trade({ T: undefined }), 'malformed', /time/],
    ['a trade with a bad id', trade({ i: null }), 'malformed', /id/],
    [
      'a trade list that is empty',
      '{"topic":"publicTrade.BTCUSDT","ts":1700000000000,"data":[]}',
      'malformed',
      /non-empty/,
    ],
    ['a subscribe reply without success', '{"op":"subscribe","ret_msg":""}', 'malformed', /success/],
  ];
  it.each(cases)('%s', (_name, text, type, reason) => {
    const f = parseFrame(text, 1);
    expect(f.type).toBe(type);
    if (reason && (f.type === 'malformed' || f.type === 'unknown')) expect(f.reason).toMatch(reason);
  });

  it('keeps the subscribe result and message', () => {
    expect(
      parseFrame(
        '{"success":false,"ret_msg":"error:handler not found,topic:orderbook.500.BTCUSDT","op":"subscribe"}',
        1,
      ),
    ).toEqual({
      type: 'subscribe',
      success: false,
      retMsg: 'error:handler not found,topic:orderbook.500.BTCUSDT',
      op: 'subscribe',
    });
  });

  it('parses a delta into numbers', () => {
    const f = parseFrame(book(), 42);
    expect(f).toEqual({
      type: 'book',
      msg: {
        kind: 'book',
        type: 'delta',
        symbol: 'BTCUSDT',
        depth: 50,
        ts: 1700000000000,
        cts: 1699999999999,
        recvTs: 42,
        u: 7,
        seq: 99,
        bids: [[65000.1, 1.5]],
        asks: [[65000.2, 0]],
      },
    });
  });

  it('never throws on hostile decoded values', () => {
    const hostile = {
      get topic(): string {
        throw new Error('boom');
      },
    };
    expect(parseRawMessage(hostile, 1).type).toBe('malformed');
    const cases: Array<[unknown, ParsedFrame['type'], RegExp]> = [
      [undefined, 'malformed', /JSON object/],
      [1, 'malformed', /JSON object/],
      ['x', 'malformed', /JSON object/],
      [true, 'malformed', /JSON object/],
      [[], 'malformed', /JSON object/],
      [{}, 'unknown', /without topic or op/],
      [{ topic: 'orderbook.50.BTCUSDT', data: [] }, 'malformed', /snapshot or delta/],
    ];
    for (const [v, type, reason] of cases) {
      const f = parseRawMessage(v, 1);
      expect(f.type, JSON.stringify(v)).toBe(type);
      expect(f.type === 'malformed' || f.type === 'unknown' ? f.reason : '').toMatch(reason);
    }
  });

  it('survives random truncations and byte flips of real frames', () => {
    const lines = fs
      .readFileSync(RECORDING, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .slice(0, 40);
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const outcomes = new Set<string>();
    for (const l of lines) {
      for (let k = 0; k < 20; k++) {
        const cut = l.slice(0, Math.floor(rnd() * l.length));
        const pos = Math.floor(rnd() * l.length);
        const flipped = l.slice(0, pos) + String.fromCharCode(32 + Math.floor(rnd() * 90)) + l.slice(pos + 1);
        for (const text of [cut, flipped]) {
          // Whatever comes out is one of the declared frames, and a frame that still parses as data
          // carries only usable numbers: damage never turns into a NaN price or a negative size.
          const f = parseFrame(text, 1);
          outcomes.add(f.type);
          expect(['book', 'trades', 'malformed', 'unknown']).toContain(f.type);
          if (f.type === 'book') {
            expect(Number.isInteger(f.msg.u)).toBe(true);
            for (const [p, s] of [...f.msg.bids, ...f.msg.asks]) {
              expect(Number.isFinite(p) && p > 0, `${p} in ${text}`).toBe(true);
              expect(Number.isFinite(s) && s >= 0, `${s} in ${text}`).toBe(true);
            }
          } else if (f.type === 'trades') {
            for (const t of f.msg.trades) {
              expect(Number.isFinite(t.price) && t.price > 0, text).toBe(true);
              expect(Number.isFinite(t.size) && t.size > 0, text).toBe(true);
              expect(['Buy', 'Sell']).toContain(t.side);
            }
          } else if (f.type === 'malformed' || f.type === 'unknown')
            expect(f.reason.length).toBeGreaterThan(0);
        }
      }
    }
    // The damage really hit the parser's error paths as well as the data paths.
    expect(outcomes.has('malformed')).toBe(true);
    expect(outcomes.has('book')).toBe(true);
  });
});

describe('topics, URLs and subscribe requests', () => {
  it('names topics and URLs', () => {
    expect(bookTopic(50, 'BTCUSDT')).toBe('orderbook.50.BTCUSDT');
    expect(bookTopic(1000, 'XRPUSDT', 'linear')).toBe('orderbook.1000.XRPUSDT');
    expect(bookTopic(1, 'BTCUSDT', 'spot')).toBe('orderbook.1.BTCUSDT');
    expect(tradeTopic('BTCUSDT')).toBe('publicTrade.BTCUSDT');
    expect(publicUrl('linear')).toBe('wss://stream.bybit.com/v5/public/linear');
    expect(publicUrl('spot')).toBe('wss://stream.bybit.com/v5/public/spot');
  });

  it('rejects depth 500 on linear with a clear message', () => {
    expect(() => bookTopic(500, 'BTCUSDT', 'linear')).toThrow(TopicError);
    expect(() => bookTopic(500, 'BTCUSDT', 'linear')).toThrow(
      /500 is no longer served on linear.*1, 50, 200, 1000/,
    );
    expect(() => bookTopic(25, 'BTCUSDT')).toThrow(/depth 25/);
    expect(() => tradeTopic('btc usdt')).toThrow(TopicError);
  });

  it('chunks spot subscriptions at 10 args per request', () => {
    const topics = Array.from({ length: 23 }, (_, i) => `publicTrade.SYM${i}USDT`);
    const spot = subscribeRequests('spot', topics).map(
      (t) => JSON.parse(t) as { op: string; args: string[] },
    );
    expect(spot.map((r) => r.args.length)).toEqual([10, 10, 3]);
    expect(spot.every((r) => r.op === 'subscribe')).toBe(true);
    expect(spot.flatMap((r) => r.args)).toEqual(topics);
    expect(subscribeRequests('linear', topics)).toHaveLength(1);
    expect(JSON.parse(subscribeRequests('spot', topics.slice(0, 2), 'unsubscribe')[0])).toEqual({
      op: 'unsubscribe',
      args: topics.slice(0, 2),
    });
  });
});
