// The one trading screen: ladder | price chart over predictions + threshold | position + tape or features, the job
// panels under the ladder and charts, status bar.
import type { Client } from './api/client.ts';
import { BacktestPanel } from './components/BacktestPanel.tsx';
import { CollectPanel } from './components/CollectPanel.tsx';
import { MarketChart } from './components/MarketChart.tsx';
import { OrderBook } from './components/OrderBook.tsx';
import { PortfolioPanel } from './components/PortfolioPanel.tsx';
import { PredictionChart } from './components/PredictionChart.tsx';
import { RetrainPanel } from './components/RetrainPanel.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { SideTabs } from './components/SideTabs.tsx';
import { ThresholdPanel } from './components/ThresholdPanel.tsx';
import { TopBar } from './components/TopBar.tsx';
import { useEffect, useState } from 'react';
import { ERROR_FADE_MS, fadeErrors, useDesk } from './store/desk.ts';

/**
 * Errors tied to a condition stay until it ends (the engine says so); one-off errors fade after ERROR_FADE_MS,
 * except while the pointer rests on them (being read).
 */
function Errors() {
  const errors = useDesk((s) => s.errors);
  const [hovered, setHovered] = useState(false);
  const oneOffs = errors.some((e) => e.key === undefined);
  useEffect(() => {
    if (hovered || !oneOffs) return;
    const timer = setInterval(
      () => useDesk.setState((s) => ({ errors: fadeErrors(s.errors, Date.now()) })),
      1000,
    );
    return () => clearInterval(timer);
  }, [hovered, oneOffs]);
  // Leaving the list restarts the clock of what was read, rather than dropping it at once.
  const leave = () => {
    setHovered(false);
    const now = Date.now();
    useDesk.setState((s) => ({
      errors: s.errors.map((e) =>
        e.key === undefined ? { ...e, shownAt: Math.max(e.shownAt, now - ERROR_FADE_MS / 2) } : e,
      ),
    }));
  };
  if (errors.length === 0) return null;
  return (
    <div className="errors" role="alert" onMouseEnter={() => setHovered(true)} onMouseLeave={leave}>
      {errors.map((e, i) => (
        <div key={`${e.shownAt}-${i}`} className="error" data-key={e.key}>
          <span>
            <b>{e.where}</b>: {e.message}
          </span>
          <button
            className="link"
            aria-label="Dismiss"
            onClick={() => useDesk.setState((s) => ({ errors: s.errors.filter((_, j) => j !== i) }))}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/** Information from the engine (e.g. where the tick size came from): calm, below the errors, not an alert. */
function Notices() {
  const notices = useDesk((s) => s.notices);
  if (notices.length === 0) return null;
  return (
    <div className="notices" role="status" aria-label="Notes">
      {notices.map((n, i) => (
        <div key={i} className="notice">
          <span>
            <b>{n.where}</b>: {n.message}
          </span>
          <button
            className="link"
            aria-label="Dismiss note"
            onClick={() => useDesk.setState((s) => ({ notices: s.notices.filter((_, j) => j !== i) }))}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function App({ client }: { client: Client | null }) {
  const link = useDesk((s) => s.link);
  const loaded = useDesk((s) => s.loaded);
  // The backtest panel can cover the whole grid (its report needs the room on a small screen); Escape restores it.
  const [btLarge, setBtLarge] = useState(false);
  useEffect(() => {
    if (!btLarge) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setBtLarge(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [btLarge]);
  if (!client)
    return (
      <div className="fullscreen">
        <h1>L2 Desk</h1>
        <p>
          This page needs its access token. Open the full URL printed by <code>l2desk web</code> (it ends in{' '}
          <code>?token=…</code>).
        </p>
      </div>
    );
  if (!loaded)
    return (
      <div className="fullscreen">
        <h1>L2 Desk</h1>
        <p>
          {link === 'refused'
            ? 'The engine refused this page: the token is wrong or expired. Open the URL printed by l2desk web.'
            : 'Connecting to the engine…'}
        </p>
      </div>
    );
  return (
    <div className="app">
      <TopBar client={client} />
      {link !== 'open' && (
        <div className="banner" role="alert">
          Disconnected from the engine, reconnecting… (data shown is stale)
        </div>
      )}
      <div className="toasts">
        <Errors />
        <Notices />
      </div>
      <main className="grid">
        <OrderBook />
        <div className="center">
          <MarketChart />
          <div className="signal-row">
            <PredictionChart />
            <ThresholdPanel client={client} />
          </div>
        </div>
        <div className="right-col">
          <PortfolioPanel />
          <SideTabs />
        </div>
        <div className="jobs">
          <CollectPanel client={client} />
          <RetrainPanel client={client} />
          <BacktestPanel client={client} enlarged={btLarge} onEnlarge={setBtLarge} />
        </div>
      </main>
      <StatusBar />
    </div>
  );
}
