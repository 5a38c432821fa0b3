// The application menu: the usual roles, plus feed and source shortcuts that go through the same command handlers.
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { Commands } from '../../src-shared/ipc.ts';

export function buildMenu(handlers: Commands, isMac: boolean): Menu {
  const run = (p: Promise<unknown>) => p.catch((e: Error) => console.error(e.message));
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'Feed',
      submenu: [
        { label: 'Start', accelerator: 'CmdOrCtrl+Enter', click: () => run(handlers['market/start']({})) },
        { label: 'Stop', accelerator: 'CmdOrCtrl+.', click: () => run(handlers['market/stop']({})) },
        { type: 'separator' },
        {
          label: 'Bybit (live)',
          click: () => run(handlers['market/setSource']({ source: { kind: 'bybit' } })),
        },
        {
          label: 'Simulated market',
          click: () => run(handlers['market/setSource']({ source: { kind: 'sim' } })),
        },
      ],
    },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  return Menu.buildFromTemplate(template);
}
