// Renderer entry: binds the one API client to the store and mounts the trading screen.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getClient } from './api/client.ts';
import { App } from './App.tsx';
import { bindClient } from './store/desk.ts';
import './styles.css';

const client = getClient();
if (client) bindClient(client);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
