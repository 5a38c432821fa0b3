// Seeded fuzzing of our HTTP/WebSocket servers (the bridge, the exchange-sim): random and mutated request lines,
// headers and WebSocket frames, sent pipelined over raw sockets so that bytes no client library would produce
// reach the server as written. The same seed sends the same bytes, so a failure reproduces.
import { Rng } from '../market/sim/prng.ts';
import { rawExchange, statusCodes } from './rawHttp.ts';

export class FuzzRng extends Rng {
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A string of `n` characters drawn from printable ASCII, controls, `%`-escapes, and multi-byte code points. */
  text(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const k = this.int(10);
      if (k < 5) s += String.fromCharCode(32 + this.int(95));
      else if (k === 5) s += String.fromCharCode(this.int(32));
      else if (k === 6) s += `%${this.int(256).toString(16).padStart(2, '0')}`;
      else if (k === 7)
        s += this.pick(['%', '%%', '%E0%A4%A', '%00', '%2e%2e/', '..', '//', '\\', '[', ']', '?', '#']);
      else s += String.fromCodePoint(this.pick([0xe9, 0x4e2d, 0x1f600, 0xfeff, 0x202e, 0xd800, 0x10ffff]));
    }
    return s;
  }
}

/** Byte-level damage: flips, inserts, deletes, truncation, a doubled chunk. */
export function mutate(rng: FuzzRng, input: Buffer, edits = 1 + rng.int(6)): Buffer {
  let b = Buffer.from(input);
  for (let e = 0; e < edits && b.length > 0; e++) {
    const at = rng.int(b.length);
    switch (rng.int(5)) {
      case 0:
        b[at] ^= 1 << rng.int(8);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(4)), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8)))]);
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 1 + rng.int(32)), b.subarray(at)]);
    }
  }
  return b;
}

/** A random JSON value, nested up to `depth`, with the shapes parsers trip on (huge numbers, `__proto__`). */
export function randomJson(rng: FuzzRng, depth = 3): unknown {
  const k = rng.int(depth > 0 ? 9 : 6);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 1.5, -0, 42]);
    case 3:
      return rng.text(rng.int(20));
    case 4:
      return rng.int(1_000_000);
    case 5:
      return rng.pick(['', '__proto__', 'constructor', 'toString', 'ping', 'subscribe']);
    case 6:
    case 7: {
      const o: Record<string, unknown> = {};
      const n = rng.int(5);
      for (let i = 0; i < n; i++)
        o[rng.pick(['id', 'cmd', 'args', 'op', 'req_id', '__proto__', 'constructor', rng.text(4)])] =
          randomJson(rng, depth - 1);
      return o;
    }
    default:
      return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth - 1));
  }
}

/** One WebSocket frame as a client writes it (masked unless told otherwise). */
export function wsFrame(
  opcode: number,
  payload: Buffer,
  opts: { fin?: boolean; mask?: boolean; rsv?: number } = {},
): Buffer {
  const fin = opts.fin ?? true;
  const masked = opts.mask ?? true;
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)];
  if (len < 126) head.push((masked ? 0x80 : 0) | len);
  else if (len < 65536) head.push((masked ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else {
    head.push((masked ? 0x80 : 0) | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** A stream of client frames after a handshake: valid ones with junk payloads, and broken framing. */
export function randomFrames(rng: FuzzRng, texts: () => string): { bytes: Buffer; count: number } {
  const parts: Buffer[] = [];
  const count = 1 + rng.int(6);
  for (let i = 0; i < count; i++) {
    const k = rng.int(8);
    if (k < 3) parts.push(wsFrame(1, Buffer.from(texts())));
    else if (k === 3) parts.push(wsFrame(rng.pick([0, 2, 3, 7, 9, 10, 11, 15]), rng.bytes(rng.int(200))));
    else if (k === 4) parts.push(wsFrame(1, Buffer.from(texts()), { fin: false, rsv: rng.int(8) }));
    else if (k === 5)
      parts.push(
        wsFrame(8, Buffer.concat([Buffer.from([rng.int(256), rng.int(256)]), rng.bytes(rng.int(10))])),
      );
    else if (k === 6) parts.push(wsFrame(1, Buffer.from(texts()), { mask: false }));
    else parts.push(mutate(rng, wsFrame(1, Buffer.from(texts()))));
  }
  return { bytes: Buffer.concat(parts), count };
}

export interface HttpFuzzTarget {
  port: number;
  /** Targets the server really serves (GET). */
  paths: readonly string[];
  /** Upgrade targets, with `{token}` where the real token goes. */
  wsPaths: readonly string[];
  token?: string;
  /** Frame texts that speak the server's protocol, to damage. */
  frameText: (rng: FuzzRng) => string;
}

const NASTY_TARGETS = [
  '/%00',
  '/%E0%A4%A',
  '//[',
  '//',
  '/..%2f..%2fetc/passwd',
  '/%2e%2e/%2e%2e/secret',
  '/index.html%00.js',
  '*',
  'http://evil.example/',
  '/a?b=%ZZ',
  '/%',
  '/%C0%AE%C0%AE/',
  '/./index.html',
  '/ws?token=%',
  '/ws?token=%00',
  '/ws?token=a&token=b',
  '/\\..\\secret',
  '/' + 'a'.repeat(9000),
];
const METHODS = [
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  'get',
  'G T',
  'PRI',
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTX/1.1', ''];
const HEADER_NAMES = [
  'Content-Length',
  'Transfer-Encoding',
  'Expect',
  'Connection',
  'Cookie',
  'Origin',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Extensions',
  'X-Forwarded-For',
  'Host',
  'Upgrade',
];

/** One request (and, after an upgrade, frames): the bytes and how many fuzz cases they hold. */
export function randomRequest(
  rng: FuzzRng,
  t: HttpFuzzTarget,
): { bytes: Buffer; count: number; upgrade: boolean } {
  const kind = rng.int(12);
  if (kind === 0)
    return {
      bytes: Buffer.concat([rng.bytes(1 + rng.int(300)), Buffer.from('\r\n\r\n')]),
      count: 1,
      upgrade: false,
    };
  const upgrade = rng.chance(0.4);
  const tokenText = () => {
    if (!t.token) return 'x';
    const k = rng.int(4);
    return k < 3 ? encodeURIComponent(t.token) : rng.chance(0.5) ? rng.text(rng.int(40)) : '';
  };
  let target: string;
  const k = rng.int(6);
  if (k < 2) target = (upgrade ? rng.pick(t.wsPaths) : rng.pick(t.paths)).replace('{token}', tokenText());
  else if (k === 2) target = rng.pick(NASTY_TARGETS);
  else if (k === 3) target = '/' + rng.text(rng.int(60));
  else
    target = mutate(
      rng,
      Buffer.from(rng.pick([...t.paths, ...t.wsPaths]).replace('{token}', tokenText())),
      1 + rng.int(3),
    ).toString('latin1');
  // Mostly well-formed fields, so that the damage is met deep inside the handlers and not only by the parser.
  const method = rng.chance(0.75) ? 'GET' : rng.pick(METHODS);
  const version = rng.chance(0.8) ? 'HTTP/1.1' : rng.pick(VERSIONS);
  const lines = [`${method} ${target} ${version}`];
  const host = rng.chance(0.7)
    ? `127.0.0.1:${t.port}`
    : rng.pick([
        `127.0.0.1:${t.port}`,
        `127.0.0.1:${t.port}`,
        `localhost:${t.port}`,
        'evil.example',
        '',
        '[::1',
        rng.text(10),
      ]);
  if (rng.chance(0.9)) lines.push(`Host: ${host}`);
  if (upgrade) {
    lines.push('Upgrade: websocket', 'Connection: Upgrade');
    lines.push(
      `Sec-WebSocket-Key: ${rng.chance(0.85) ? rng.bytes(16).toString('base64') : rng.text(rng.int(30))}`,
    );
    lines.push(
      `Sec-WebSocket-Version: ${rng.chance(0.85) ? '13' : rng.pick(['8', '', '13, 8', rng.text(3)])}`,
    );
  }
  if (rng.chance(0.2))
    lines.push(
      `Origin: ${rng.pick([`http://127.0.0.1:${t.port}`, 'http://evil.example', 'null', rng.text(12)])}`,
    );
  let body: Buffer = Buffer.alloc(0);
  for (let i = rng.chance(0.5) ? 0 : rng.int(4); i > 0; i--) {
    const name = rng.chance(0.8) ? rng.pick(HEADER_NAMES) : rng.text(1 + rng.int(12));
    const value =
      name === 'Content-Length'
        ? rng.pick(['0', '5', '-1', '99999999999999999999', 'abc', String(rng.int(300))])
        : name === 'Transfer-Encoding'
          ? rng.pick(['chunked', 'gzip, chunked', 'identity', rng.text(6)])
          : rng.text(rng.chance(0.05) ? 9000 : rng.int(40));
    lines.push(`${name}: ${value}`);
    if (name === 'Content-Length' || name === 'Transfer-Encoding') body = rng.bytes(rng.int(200));
  }
  let bytes: Buffer = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
  let count = 1;
  if (kind < 3) bytes = mutate(rng, bytes);
  if (upgrade && rng.chance(0.7)) {
    const f = randomFrames(rng, () => t.frameText(rng));
    bytes = Buffer.concat([bytes, f.bytes]);
    count += f.count;
  }
  return { bytes, count, upgrade };
}

export interface RawFuzzResult {
  cases: number;
  connections: number;
  statuses: Map<number, number>;
}

/**
 * Sends `cases` fuzz cases (at least) as pipelines of 1–5 requests over `lanes` concurrent raw connections.
 * Each pipeline is cut short by the server at its first bad request, as HTTP/1.1 allows.
 */
export async function fuzzRawHttp(
  rng: FuzzRng,
  t: HttpFuzzTarget,
  cases: number,
  lanes = 12,
): Promise<RawFuzzResult> {
  const result: RawFuzzResult = { cases: 0, connections: 0, statuses: new Map() };
  // Batches are drawn up front, in order, so a seed always sends the same bytes whatever the timing.
  const batches: Buffer[] = [];
  const ends: boolean[] = [];
  while (result.cases < cases) {
    const n = 1 + rng.int(5);
    const parts: Buffer[] = [];
    let upgrade = false;
    for (let i = 0; i < n; i++) {
      const r = randomRequest(rng, t);
      parts.push(r.bytes);
      result.cases += r.count;
      upgrade ||= r.upgrade;
    }
    // Half-closing ends a connection fast (the server finishes what it can answer at once); otherwise the last
    // request asks the server to close. An upgrade always half-closes: an accepted WebSocket would stay open.
    const end = upgrade || rng.chance(0.6);
    if (!end)
      parts.push(Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nConnection: close\r\n\r\n`));
    batches.push(Buffer.concat(parts));
    ends.push(end);
  }
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const i = next++;
      const text = await rawExchange(t.port, batches[i], { end: ends[i], timeoutMs: 2000 });
      result.connections++;
      for (const s of statusCodes(text)) result.statuses.set(s, (result.statuses.get(s) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return result;
}

export interface WsFuzzTarget {
  url: string;
  /** A frame the server must answer while it is healthy, and how to recognise the answer. */
  probe: { text: string; isAnswer: (frame: string) => boolean };
  frameText: (rng: FuzzRng) => string;
  /** Frames above this close the socket (1009); the fuzzer then reconnects. */
  maxPayload: number;
}

/**
 * Sends `frames` fuzz frames over a real WebSocket client in bursts; after each burst the probe must be answered
 * on a connection (a fresh one when the burst got the socket closed). Returns how many frames went out.
 */
export async function fuzzWsFrames(
  rng: FuzzRng,
  t: WsFuzzTarget,
  frames: number,
  burst = 100,
): Promise<number> {
  const { default: WebSocket } = await import('ws');
  const open = () =>
    new Promise<InstanceType<typeof WebSocket>>((resolve, reject) => {
      const ws = new WebSocket(t.url, { maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  /** True when the probe was answered, false when the socket closed first (a frame in flight closed it). */
  const probe = (ws: InstanceType<typeof WebSocket>) =>
    new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to the probe ${t.probe.text}`)), 10_000);
      const finish = (answered: boolean) => {
        clearTimeout(timer);
        ws.off('message', onMessage);
        ws.off('close', onClose);
        resolve(answered);
      };
      const onMessage = (d: unknown) => {
        if (t.probe.isAnswer(String(d))) finish(true);
      };
      const onClose = () => finish(false);
      ws.on('message', onMessage);
      ws.on('close', onClose);
      if (ws.readyState === ws.OPEN) ws.send(t.probe.text);
      else finish(false);
    });
  const reopen = async () => {
    const ws = await open();
    ws.on('error', () => {});
    return ws;
  };
  let ws = await reopen();
  let sent = 0;
  while (sent < frames) {
    for (let i = 0; i < burst && sent < frames; i++, sent++) {
      if (ws.readyState !== ws.OPEN) break;
      const k = rng.int(40);
      if (k === 0) ws.send('x'.repeat(t.maxPayload + 1 + rng.int(1024)));
      else if (k < 4) ws.send(rng.bytes(rng.int(300)));
      else ws.send(t.frameText(rng));
    }
    // The server must answer the probe on this connection, or on a fresh one when the burst got this one closed.
    if (!(await probe(ws))) {
      ws.terminate();
      ws = await reopen();
      if (!(await probe(ws))) throw new Error('a fresh connection closed before answering the probe');
    }
  }
  ws.close();
  return sent;
}
