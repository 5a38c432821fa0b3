// A Node client of the WebSocket bridge (tests, benchmarks, scripts): the same typed invoke/on as the renderer's.
import WebSocket from 'ws';
import type {
  CommandArgs,
  CommandName,
  CommandResult,
  EventName,
  Events,
  L2DeskApi,
  WsServerMessage,
} from '../../src-shared/ipc.ts';

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
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  let nextId = 1;
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as WsServerMessage;
    if ('event' in msg) listeners.get(msg.event)?.forEach((fn) => fn(msg.payload));
    else if ('id' in msg) {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    }
  });
  ws.on('close', () => {
    for (const p of pending.values()) p.reject(new Error('bridge closed'));
    pending.clear();
  });
  const client: NodeBridgeClient = {
    transport: 'websocket',
    invoke<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResult<K>> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, cmd, args }));
      });
    },
    on<K extends EventName>(event: K, fn: (payload: Events[K]) => void) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const f = fn as (p: unknown) => void;
      set.add(f);
      return () => set.delete(f);
    },
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new BridgeRefusedError(res.statusCode ?? 0)));
    ws.once('error', reject);
  });
}
