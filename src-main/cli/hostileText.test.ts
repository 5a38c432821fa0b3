// Text from outside never drives the terminal: a loopback exchange that answers with escape sequences in topics,
// ops and ret_msg, and a command name full of them, make a real `l2desk` process print visible escapes only
// (no raw ESC, BEL, CR, C1 CSI or bidi override on stdout or stderr).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { PROJECT_ROOT } from '../config/loadConfig.ts';

const CLI = path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2hostile-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const RAW_CONTROL = ['\x1b', '\x07', '\r', '\u009b', '\u202e'];

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

function expectNoRawControl(out: string): void {
  for (const c of RAW_CONTROL)
    expect(out.includes(c), `raw ${JSON.stringify(c)} in output:\n${out}`).toBe(false);
}

/** A Bybit-shaped server whose every reply carries terminal escape sequences. */
async function hostileExchange(): Promise<{ url: string; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    ws.on('message', (raw) => {
      const req = JSON.parse(String(raw)) as { op?: string; req_id?: string };
      if (req.op !== 'subscribe') return;
      ws.send(JSON.stringify({ success: true, ret_msg: '', op: 'subscribe', conn_id: 'c' }));
      ws.send(
        JSON.stringify({
          topic: 'orderbook.50.BTC\x1b]0;pwned\x07USDT',
          type: 'snapshot',
          ts: Date.now(),
          data: { s: 'BTCUSDT', b: [], a: [], u: 1, seq: 1 },
        }),
      );
      ws.send(
        JSON.stringify({ op: 'evil\x1b[2J', ret_msg: '\u202eevil\r\x1b[1Acollect BTCUSDT 0:59/1:00 fake' }),
      );
      ws.send(JSON.stringify({ op: 'subscribe', success: false, ret_msg: '\x1b]2;owned\x07\u009b2J' }));
      ws.send(JSON.stringify({ topic: 'weird\x1b[31m.topic' }));
    });
  });
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/v5/public/linear`,
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

describe('terminal output of text from outside', () => {
  it('collect prints a hostile exchange’s topics and ret_msg as visible escapes', async () => {
    const server = await hostileExchange();
    try {
      const { out } = await runCli([
        'collect',
        '--source',
        'bybit',
        '--url',
        server.url,
        '--duration',
        '3s',
        '--db',
        path.join(dir, 'hostile.db'),
      ]);
      expectNoRawControl(out);
      // The warnings were printed, escaped.
      expect(out).toContain('\\x1b]0;pwned\\x07');
      expect(out).toContain('\\u202eevil\\x0d\\x1b[1A');
      expect(out).toContain('\\x1b]2;owned\\x07\\u009b2J');
    } finally {
      await server.close();
    }
  }, 60_000);

  it('any other printer goes through the guard: an unknown command name with escapes', async () => {
    const { code, out } = await runCli(['x\x1b]0;title\x07\x1b[2J\u202e']);
    expect(code).toBe(2);
    expectNoRawControl(out);
    expect(out).toContain('unknown command "x\\x1b]0;title\\x07\\x1b[2J\\u202e"');
  }, 60_000);
});
