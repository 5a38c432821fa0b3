// Web mode: once the engine refuses this tab's token (`l2desk web` was restarted and has a new one), the whole page
// says so and what to do, instead of a stale screen that keeps reconnecting.
import { useSyncExternalStore, type ReactNode } from 'react';
import type { Client } from '../api/client.ts';

export function ServerRestarted() {
  return (
    <div className="fullscreen" role="alert" data-testid="server-restarted">
      <h1>L2 Desk</h1>
      <p>
        <b>The L2 Desk server was restarted</b>, so this page's access token is no longer valid.
      </p>
      <p>
        Open the new address it printed in the terminal: <code>l2desk web</code> prints a line{' '}
        <code>L2 Desk UI: http://127.0.0.1:PORT/?token=…</code>. This tab will not reconnect by itself.
      </p>
    </div>
  );
}

/** Shows `children` until the client's link is refused, then only the explanation above. */
export function RefusedGate({ client, children }: { client: Client | null; children: ReactNode }) {
  const link = useSyncExternalStore(
    (fn) => (client ? client.onLink(fn) : () => {}),
    () => client?.link() ?? 'open',
  );
  return link === 'refused' ? <ServerRestarted /> : children;
}
