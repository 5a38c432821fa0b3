// The renderer's one way to reach the engine: window.l2desk (Electron preload) when present, else the loopback
// WebSocket bridge whose token comes from the page URL once, then from this tab's sessionStorage. Components never
// know which transport they use.
import type { CommandArgs, CommandName, CommandResult, L2DeskApi } from '../../src-shared/ipc.ts';
import { IPC_VERSION } from '../../src-shared/ipcEvents.ts';
import { createRpcPeer } from '../../src-shared/rpcPeer.ts';

declare global {
  interface Window {
    l2desk?: L2DeskApi;
  }
}

/**
 * `refused`: the engine answered but rejects this page's token, as after a restart of `l2desk web` (each run has a
 * new one). It is final: retrying cannot help, the user must open the new address.
 */
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

/**
 * Asks the bridge whether it still accepts our token, since a browser hides why an upgrade failed: 401 means it
 * runs with another token (restarted); anything else (no answer, 426) means a network problem worth retrying.
 */
async function tokenRefused(probeUrl: string): Promise<boolean> {
  try {
    const res = await fetch(probeUrl, { cache: 'no-store', credentials: 'omit' });
    return res.status === 401;
  } catch {
    return false;
  }
}

/** WebSocket client with automatic reconnect; listeners survive reconnects. Stops for good once refused. */
function wsClient(url: string, probeUrl: string): Client {
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
      const wasOpen = opened;
      setState('closed');
      const again = () => {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 5000);
      };
      // A live socket that dropped is retried at once; one that never opened was refused or found no server.
      if (wasOpen) return again();
      void tokenRefused(probeUrl).then((refused) => (refused ? setState('refused') : again()));
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

const TOKEN_KEY = 'l2desk.token';

/**
 * This tab's bridge token. One in the address bar is moved to sessionStorage and removed from the URL and its
 * history entry (so it is not left on screen, in bookmarks or in screenshots); a reload then finds it in storage.
 * Where storage is refused the token stays in the URL, so that a reload still works.
 */
function takeToken(): string | null {
  const page = new URL(window.location.href);
  const fromUrl = page.searchParams.get('token');
  if (fromUrl) {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, fromUrl);
      page.searchParams.delete('token');
      window.history.replaceState(window.history.state, '', `${page.pathname}${page.search}${page.hash}`);
    } catch {
      // Storage refused (private mode): keep the token where it is.
    }
    return fromUrl;
  }
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function bridgeUrls(): { ws: string; probe: string } | null {
  const token = takeToken();
  if (!token) return null;
  const page = new URL(window.location.href);
  const wsProto = page.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = `token=${encodeURIComponent(token)}`;
  return { ws: `${wsProto}//${page.host}/ws?${q}`, probe: `${page.protocol}//${page.host}/ws?${q}` };
}

let singleton: Client | null = null;

/** The client for this page, or null when there is neither a preload API nor a token (URL or this tab's storage). */
export function getClient(): Client | null {
  if (singleton) return singleton;
  if (window.l2desk) singleton = electronClient(window.l2desk);
  else {
    const urls = bridgeUrls();
    if (urls) singleton = wsClient(urls.ws, urls.probe);
  }
  return singleton;
}
