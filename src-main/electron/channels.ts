// Electron IPC channel names, derived from the contract (one invoke channel; one channel per event).
import type { EventName } from '../../src-shared/ipc.ts';

export const INVOKE_CHANNEL = 'l2desk:invoke';
export const eventChannel = (e: EventName) => `l2desk:event:${e}`;
