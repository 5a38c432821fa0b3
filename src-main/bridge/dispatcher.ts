// The boundary every transport goes through: validates a command's payload against its schema, then calls the
// handler. A bad payload or an unknown command is answered with an error reply and never reaches the engine.
import { parseCommand, type CommandName, type Commands, type Reply } from '../../src-shared/ipc.ts';

export type Dispatch = (cmd: string, args: unknown) => Promise<Reply>;

export function createDispatcher(handlers: Commands): Dispatch {
  return async (cmd, args) => {
    const parsed = parseCommand(cmd, args);
    if (!parsed.ok) return { ok: false, error: parsed.error, code: parsed.code };
    const handler = handlers[parsed.cmd as CommandName] as (a: unknown) => Promise<unknown>;
    try {
      const result = await handler.call(handlers, parsed.args);
      return { ok: true, result };
    } catch (e) {
      return { ok: false, code: 'failed', error: (e as Error).message ?? String(e) };
    }
  };
}
