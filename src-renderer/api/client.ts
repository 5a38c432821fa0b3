// The renderer's one way to reach the engine: window.l2desk (Electron preload) when present, else the loopback
// WebSocket bridge whose token comes from the page URL. Components never know which transport they use.
import type { CommandArgs, CommandName, CommandResult, L2DeskApi } from '../../src-shared/ipc.ts';
import { IPC_VERSION } from '../../src-shared/ipcEvents.ts';
import { createRpcPeer } from '../../src-shared/rpcPeer.ts';

declare global {
  interface Window {
    l2desk?: L2DeskApi;
  }
}

export type LinkState = 'connecting' | 'open' | 'closed' | 'refused';

export interface Client extends L2DeskApi {
  /** Connection state of the transport (Electron IPC is always open). */
  onLink(fn: (s: LinkState) => void): () => void;
  link(): LinkState;
}

function electronClient(api: L2DeskApi): Client {
  return {
    transport: 'electron',
    invoke: (cmd, args) => api.invoke(cmd, args),
    on: (ev, fn) => api.on(ev, fn),
    onLink: (fn) => {
      fn('open');
      return () => {};
    },
    link: () => 'open',
  };
}

/** WebSocket client with automatic reconnect; listeners survive reconnects. */
function wsClient(url: string): Client {
  let ws: WebSocket | null = null;
  let state: LinkState = 'connecting';
  let retry = 500;
  let opened = false;
  const peer = createRpcPeer((text) => ws!.send(text));
  const linkListeners = new Set<(s: LinkState) => void>();
  const setState = (s: LinkState) => {
    state = s;
    linkListeners.forEach((fn) => fn(s));
  };

  const connect = () => {
    setState('connecting');
    opened = false;
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      opened = true;
      retry = 500;
      setState('open');
    };
    sock.onmessage = (e) => {
      const version = peer.receive(String(e.data));
      if (version !== undefined && version !== IPC_VERSION)
        console.error(`IPC version mismatch: page ${IPC_VERSION}, engine ${version}`);
    };
    sock.onclose = () => {
      peer.failPending('connection to the engine lost');
      // A socket that never opened was refused (bad token/origin) or the engine is gone: keep trying, slower.
      setState(opened ? 'closed' : state === 'connecting' && retry >= 4000 ? 'refused' : 'closed');
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  };
  connect();

  const waitOpen = () =>
    new Promise<void>((resolve) => {
      if (ws && ws.readyState === WebSocket.OPEN) return resolve();
      const off = onLink((s) => {
        if (s === 'open') {
          off();
          resolve();
        }
      });
    });
  const onLink = (fn: (s: LinkState) => void) => {
    linkListeners.add(fn);
    return () => linkListeners.delete(fn);
  };

  return {
    transport: 'websocket',
    async invoke<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResult<K>> {
      await waitOpen();
      return peer.invoke(cmd, args);
    },
    on: (event, fn) => peer.on(event, fn),
    onLink,
    link: () => state,
  };
}

function bridgeUrlFromPage(): string | null {
  const page = new URL(window.location.href);
  const token = page.searchParams.get('token');
  if (!token) return null;
  const wsProto = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${wsProto}//${page.host}/ws?token=${encodeURIComponent(token)}`;
}

let singleton: Client | null = null;

/** The client for this page, or null when there is neither a preload API nor a token in the URL. */
export function getClient(): Client | null {
  if (singleton) return singleton;
  if (window.l2desk) singleton = electronClient(window.l2desk);
  else {
    const url = bridgeUrlFromPage();
    if (url) singleton = wsClient(url);
  }
  return singleton;
}
