// Renderer entry: binds the one API client to the store and mounts the trading screen (or, in web mode, the
// notice that the server was restarted once it refuses this tab's token).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getClient } from './api/client.ts';
import { App } from './App.tsx';
import { RefusedGate } from './components/ServerRestarted.tsx';
import { bindClient } from './store/desk.ts';
import './styles.css';

const client = getClient();
if (client) bindClient(client);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RefusedGate client={client}>
      <App client={client} />
    </RefusedGate>
  </StrictMode>,
);
