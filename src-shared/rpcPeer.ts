// The client half of the WebSocket bridge protocol, free of any socket API: request ids matched to replies,
// event listeners by name. The renderer's browser client and the Node client (tests, benchmarks) both wrap it,
// so what the tests exercise is the protocol code the page runs.
import type { CommandArgs, CommandName, CommandResult, EventName, Events, WsServerMessage } from './ipc.ts';

export interface RpcPeer {
  /** Sends a command through `send` and resolves with its reply's result (rejects with its error). */
  invoke<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResult<K>>;
  on<K extends EventName>(event: K, fn: (payload: Events[K]) => void): () => void;
  /** Handles one text frame from the bridge; returns the hello version when the frame was a hello. */
  receive(text: string): number | undefined;
  /** Rejects every command still waiting for a reply (the socket closed). */
  failPending(reason: string): void;
}

export function createRpcPeer(send: (text: string) => void): RpcPeer {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  let nextId = 1;
  return {
    invoke<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResult<K>> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        send(JSON.stringify({ id, cmd, args }));
      });
    },
    on<K extends EventName>(event: K, fn: (payload: Events[K]) => void) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const f = fn as (p: unknown) => void;
      set.add(f);
      return () => set.delete(f);
    },
    receive(text) {
      const msg = JSON.parse(text) as WsServerMessage;
      if ('event' in msg) listeners.get(msg.event)?.forEach((fn) => fn(msg.payload));
      else if ('id' in msg) {
        const p = pending.get(msg.id);
        if (!p) return undefined;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(msg.error));
      } else if ('hello' in msg) return msg.hello.version;
      return undefined;
    },
    failPending(reason) {
      for (const p of pending.values()) p.reject(new Error(reason));
      pending.clear();
    },
  };
}
