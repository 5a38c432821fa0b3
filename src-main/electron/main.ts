// Electron main process: one hardened window (context isolation, sandbox, no Node in the page, strict CSP, no
// navigation, no new windows, no remote content) over the same app service that web mode uses. The only code
// besides preload.ts that imports 'electron'.
import { app, BrowserWindow, ipcMain, Menu, screen, session, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/loadConfig.ts';
import { createApp, type AppContext } from '../app/createApp.ts';
import { INVOKE_CHANNEL, eventChannel } from './channels.ts';
import { buildMenu } from './menu.ts';
import { loadWindowState, saveWindowState, type WindowState } from './windowState.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEV_URL = process.env.ELECTRON_RENDERER_URL;
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let win: BrowserWindow | null = null;
let ctx: AppContext | null = null;

function isLocalUrl(url: string): boolean {
  return (
    url.startsWith('file://') ||
    url.startsWith('devtools://') ||
    (DEV_URL !== undefined && url.startsWith(DEV_URL))
  );
}

function trusted(e: IpcMainInvokeEvent): boolean {
  return win !== null && e.sender === win.webContents && isLocalUrl(e.senderFrame?.url ?? '');
}

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((d, cb) =>
    cb({ responseHeaders: { ...d.responseHeaders, 'Content-Security-Policy': [CSP] } }),
  );
  // No remote content at all: the renderer is loaded from disk and talks to the engine over IPC only.
  ses.webRequest.onBeforeRequest((d, cb) => cb({ cancel: !isLocalUrl(d.url) }));
  ses.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  ses.setPermissionCheckHandler(() => false);
}

function createWindow(state: WindowState): BrowserWindow {
  const w = new BrowserWindow({
    x: state.x,
    y: state.y,
    width: state.width,
    height: state.height,
    minWidth: 1100,
    minHeight: 640,
    show: false,
    backgroundColor: '#0d1014',
    title: 'L2 Desk',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  if (state.maximized) w.maximize();
  w.once('ready-to-show', () => w.show());
  w.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  w.webContents.on('will-navigate', (e) => e.preventDefault());
  w.webContents.on('will-redirect', (e) => e.preventDefault());
  const save = () => {
    const b = w.getNormalBounds();
    saveWindowState(app.getPath('userData'), {
      x: b.x,
      y: b.y,
      width: b.width,
      height: b.height,
      maximized: w.isMaximized(),
    });
  };
  w.on('close', save);
  if (DEV_URL) void w.loadURL(DEV_URL);
  else void w.loadFile(path.join(here, '../renderer/index.html'));
  return w;
}

async function start(): Promise<void> {
  hardenSession();
  app.on('web-contents-created', (_e, wc) => {
    wc.on('will-attach-webview', (ev) => ev.preventDefault());
    wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  const userData = app.getPath('userData');
  const config = loadConfig({
    overrides: {
      db: path.isAbsolute(process.env.L2DESK_DB ?? '')
        ? process.env.L2DESK_DB
        : path.join(userData, 'l2desk.db'),
    },
  });
  // better-sqlite3 in node_modules is built for Node's ABI; Electron opens SQLite through a build for its own ABI:
  // the packaged app carries one (electron-builder.yml), `npm start` makes one (scripts/electronNative.mjs).
  const nativeBinding = app.isPackaged
    ? path.join(process.resourcesPath, 'native', 'better_sqlite3.node')
    : process.env.L2DESK_SQLITE_BINDING || undefined;
  // Worker threads (training, backtests) open the database themselves: they find the binding in the environment.
  if (nativeBinding) process.env.L2DESK_SQLITE_BINDING = nativeBinding;
  ctx = await createApp({ config, modelsDir: path.join(userData, 'models'), nativeBinding });
  const dispatch = ctx.dispatch;
  ipcMain.handle(INVOKE_CHANNEL, (e, cmd: unknown, args: unknown) => {
    if (!trusted(e)) return { ok: false, code: 'bad_request', error: 'untrusted sender' };
    return dispatch(String(cmd), args);
  });
  ctx.bus.onAny((event, payload) => {
    if (win && !win.isDestroyed()) win.webContents.send(eventChannel(event), payload);
  });
  Menu.setApplicationMenu(buildMenu(ctx.service.handlers(), process.platform === 'darwin'));
  win = createWindow(
    loadWindowState(
      userData,
      screen.getAllDisplays().map((d) => d.workArea),
    ),
  );
  win.on('closed', () => (win = null));
  void ctx.service.startLive();
  ctx.service.startAutoRetrain();
}

app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();
else {
  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void ctx?.close());
  app.whenReady().then(start, (e: Error) => {
    console.error(`L2 Desk failed to start: ${e.message}`);
    app.exit(1);
  });
}
