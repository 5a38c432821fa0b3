// The processes themselves (`l2desk web`, `l2desk exchange-sim`) outlive the requests that once killed them:
// a NUL in the path, bad percent-encoding, and a request line no URL parser takes, with or without upgrade headers.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config/loadConfig.ts';
import { cleanupAfterEach, waitFor } from '../market/exchangeSim/testing/simExchangeHarness.ts';
import { rawExchange, statusCodes } from '../testing/rawHttp.ts';

const cleanups = cleanupAfterEach();
const UPGRADE = [
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
];

function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcessWithoutNullStreams; out: () => string } {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'l2desk.mjs'), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  cleanups.push(() => void child.kill('SIGKILL'));
  return { child, out: () => out };
}

async function status(port: number, requestLine: string, headers: string[] = []): Promise<number> {
  const text = await rawExchange(
    port,
    [requestLine, `Host: 127.0.0.1:${port}`, ...headers, 'Connection: close', '', ''].join('\r\n'),
  );
  return statusCodes(text)[0] ?? 0;
}

const BAD_LINES = ['GET /%00 HTTP/1.1', 'GET /%E0%A4%A HTTP/1.1', 'GET //[ HTTP/1.1'];

describe('server processes and malformed requests', () => {
  it('`l2desk web` answers each with a 4xx and keeps running', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-web-bad-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const web = startCli(
      [
        'web',
        '--no-build',
        '--no-start',
        '--source',
        'sim',
        '--port',
        '0',
        '--db',
        path.join(dir, 'w.db'),
        '--models',
        path.join(dir, 'models'),
      ],
      { XDG_CONFIG_HOME: dir },
    );
    const printed = /L2 Desk UI: http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+)/;
    await waitFor('the UI address', () => printed.test(web.out()), 60_000);
    const [, portText, token] = printed.exec(web.out()) as RegExpExecArray;
    const port = Number(portText);
    for (const line of BAD_LINES) {
      expect(await status(port, line), line).toBeGreaterThanOrEqual(400);
      expect(await status(port, line, UPGRADE), `${line} (upgrade)`).toBeGreaterThanOrEqual(400);
    }
    expect(web.child.exitCode).toBeNull();
    expect(await status(port, `GET /ws?token=${token} HTTP/1.1`)).toBe(426);
    const exited = new Promise<number | null>((r) => web.child.once('exit', (code) => r(code)));
    web.child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('`l2desk exchange-sim` answers each with a 4xx and keeps running', async () => {
    const sim = startCli(['exchange-sim', '--port', '0']);
    const printed = /ws:\/\/127\.0\.0\.1:(\d+)\/v5\/public\/linear/;
    await waitFor('the stream address', () => printed.test(sim.out()), 15_000);
    const port = Number((printed.exec(sim.out()) as RegExpExecArray)[1]);
    for (const line of BAD_LINES) expect(await status(port, line), line).toBeGreaterThanOrEqual(400);
    // Upgrades: the sim streams on any well-formed path (as it always has); a target no parser takes is a 400.
    expect(await status(port, 'GET //[ HTTP/1.1', UPGRADE)).toBe(400);
    expect(sim.child.exitCode).toBeNull();
    expect(await status(port, 'GET /v5/market/instruments-info?category=linear HTTP/1.1')).toBe(200);
    const exited = new Promise<number | null>((r) => sim.child.once('exit', (code) => r(code)));
    sim.child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
