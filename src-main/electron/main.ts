// Electron main process: one hardened window (context isolation, sandbox, no Node in the page, the renderer served
// over app:// with a strict CSP, no navigation, no new windows, no remote content) over the same app service that
// web mode uses. Policies: origins.ts and appProtocol.ts; their wiring: hardening.ts.
import { app, BrowserWindow, dialog, ipcMain, Menu, screen } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/loadConfig.ts';
import { createApp, type AppContext } from '../app/createApp.ts';
import { INVOKE_CHANNEL, eventChannel } from './channels.ts';
import { appDb } from './appDb.ts';
import { buildMenu } from './menu.ts';
import { loadWindowState, saveWindowState, type WindowState } from './windowState.ts';
import { rendererEntry } from './origins.ts';
import {
  hardenSession,
  hardenWebContents,
  ipcTrusted,
  registerAppScheme,
  serveRenderer,
} from './hardening.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
// The renderer comes from app://l2desk (out/renderer); a dev server only in an unpackaged build (origins.ts).
const entry = rendererEntry({ isPackaged: app.isPackaged, devUrl: process.env.ELECTRON_RENDERER_URL });
if ('warning' in entry && entry.warning) console.warn(`L2 Desk: ${entry.warning}`);

let win: BrowserWindow | null = null;
let ctx: AppContext | null = null;

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
  void w.loadURL(entry.url);
  return w;
}

async function start(): Promise<void> {
  serveRenderer(path.join(here, '../renderer'));
  hardenSession(entry, !app.isPackaged);
  // Registered before the window exists, so it covers the window too.
  app.on('web-contents-created', (_e, wc) => hardenWebContents(wc));
  const userData = app.getPath('userData');
  const config = loadConfig({
    overrides: { db: appDb(loadConfig().db, process.env.L2DESK_DB, userData) },
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
    if (!ipcTrusted(e, win?.webContents ?? null, entry))
      return { ok: false, code: 'bad_request', error: 'untrusted sender' };
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
// Privileged schemes must be declared before the app is ready.
registerAppScheme();
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
  // A failure anywhere in start-up (the database, its SQLite binding, the config) ends the process with the reason,
  // instead of leaving a windowless app running.
  app
    .whenReady()
    .then(start)
    .catch((e: Error) => {
      console.error(`L2 Desk failed to start: ${e.message}`);
      dialog.showErrorBox('L2 Desk could not start', e.message);
      app.exit(1);
    });
}
