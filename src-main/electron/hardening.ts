// Wires the pure policies of origins.ts and appProtocol.ts into Electron: the app:// scheme, the session's request,
// header and permission hooks, and the per-webContents navigation and window rules. Decisions live in those
// modules (tested under Node); this file only connects them.
import { protocol, session, type IpcMainInvokeEvent, type WebContents } from 'electron';
import {
  APP_SCHEME,
  ipcSenderAllowed,
  permissionAllowed,
  requestAllowed,
  type RendererEntry,
} from './origins.ts';
import { serveAppRequest, sessionCspFor } from './appProtocol.ts';

/**
 * Must run before the app is ready. Standard + secure gives app://l2desk a real origin and a secure context;
 * corsEnabled and bypassCSP stay off (corsEnabled would let other origins read app:// responses), and no
 * service workers.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    },
  ]);
}

/** Serves the built renderer (out/renderer, inside the asar when packaged) over app://. */
export function serveRenderer(rendererRoot: string): void {
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(request, rendererRoot));
}

export function hardenSession(entry: RendererEntry, devtools: boolean): void {
  const ses = session.defaultSession;
  // app:// responses carry their CSP themselves; the dev server's responses get the dev policy added here.
  if (entry.kind === 'dev') {
    ses.webRequest.onHeadersReceived((d, cb) => {
      const csp = sessionCspFor(d.url, entry);
      if (!csp) return cb({});
      const headers = { ...d.responseHeaders };
      for (const k of Object.keys(headers))
        if (k.toLowerCase() === 'content-security-policy') delete headers[k];
      cb({ responseHeaders: { ...headers, 'Content-Security-Policy': [csp] } });
    });
  }
  // No remote content at all: the page talks to the engine over IPC only.
  ses.webRequest.onBeforeRequest((d, cb) => cb({ cancel: !requestAllowed(d.url, entry, devtools) }));
  ses.setPermissionRequestHandler((_wc, permission, cb, details) =>
    cb(permissionAllowed(permission, details.requestingUrl, entry)),
  );
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) =>
    permissionAllowed(permission, requestingOrigin, entry),
  );
  ses.setDevicePermissionHandler(() => false);
}

/**
 * Every webContents (the window, and anything that might ever be created): the page is one document that never
 * navigates, opens no windows and embeds no webviews.
 */
export function hardenWebContents(wc: WebContents): void {
  wc.on('will-attach-webview', (e) => e.preventDefault());
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-navigate', (e) => e.preventDefault());
  wc.on('will-frame-navigate', (e) => e.preventDefault());
  wc.on('will-redirect', (e) => e.preventDefault());
}

/** IPC is answered only for the window's own main frame while it shows the app's origin. */
export function ipcTrusted(e: IpcMainInvokeEvent, win: WebContents | null, entry: RendererEntry): boolean {
  const frame = e.senderFrame;
  return (
    win !== null &&
    e.sender === win &&
    ipcSenderAllowed(frame ? { url: frame.url, isMainFrame: frame.parent === null } : null, entry)
  );
}
