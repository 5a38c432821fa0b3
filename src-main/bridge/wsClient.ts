// A Node client of the WebSocket bridge (tests, benchmarks, scripts): the same typed invoke/on as the renderer's.
import WebSocket from 'ws';
import type { L2DeskApi } from '../../src-shared/ipc.ts';
import { createRpcPeer } from '../../src-shared/rpcPeer.ts';

export interface NodeBridgeClient extends L2DeskApi {
  close(): void;
}

export class BridgeRefusedError extends Error {
  override name = 'BridgeRefusedError';
  constructor(readonly status: number) {
    super(`bridge refused the connection (HTTP ${status})`);
  }
}

export function connectBridge(wsUrl: string, opts: { origin?: string } = {}): Promise<NodeBridgeClient> {
  const ws = new WebSocket(wsUrl, opts.origin ? { origin: opts.origin } : {});
  const peer = createRpcPeer((text) => ws.send(text));
  ws.on('message', (data) => peer.receive(String(data)));
  ws.on('close', () => peer.failPending('bridge closed'));
  const client: NodeBridgeClient = {
    transport: 'websocket',
    invoke: (cmd, args) => peer.invoke(cmd, args),
    on: (event, fn) => peer.on(event, fn),
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new BridgeRefusedError(res.statusCode ?? 0)));
    ws.once('error', reject);
  });
}
