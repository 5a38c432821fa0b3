// Sandboxed preload: exposes exactly one generic, typed API (invoke/on) to the renderer through contextBridge.
// No Node, no ipcRenderer object and no channel other than the contract's leak into the page.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type {
  CommandArgs,
  CommandName,
  CommandResult,
  EventName,
  Events,
  L2DeskApi,
  Reply,
} from '../../src-shared/ipc.ts';
import { EVENT_NAMES } from '../../src-shared/ipcEvents.ts';
import { INVOKE_CHANNEL, eventChannel } from './channels.ts';

const known = new Set<string>(EVENT_NAMES);

const api = {
  transport: 'electron',
  async invoke<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResult<K>> {
    const reply = (await ipcRenderer.invoke(INVOKE_CHANNEL, cmd, args)) as Reply<CommandResult<K>>;
    if (!reply.ok) throw new Error(reply.error);
    return reply.result;
  },
  on<K extends EventName>(event: K, fn: (payload: Events[K]) => void): () => void {
    if (!known.has(event)) throw new Error(`unknown event ${event}`);
    const listener = (_e: IpcRendererEvent, payload: Events[K]) => fn(payload);
    ipcRenderer.on(eventChannel(event), listener);
    return () => ipcRenderer.removeListener(eventChannel(event), listener);
  },
} satisfies L2DeskApi;

contextBridge.exposeInMainWorld('l2desk', api);
