// Source switcher (live Bybit, simulated market, replay of a stored session) with start/stop, and on the live feed
// the symbol to watch (one of those `collect --symbol A,B,C` records, or any other the exchange lists).
import { useState } from 'react';
import type { Client } from '../api/client.ts';
import type { SourceSpec } from '../../src-shared/ipc.ts';
import { reportError, useDesk } from '../store/desk.ts';
import { inputProblem, parseSymbol } from '../../src-shared/inputRules.ts';

export function TopBar({ client }: { client: Client }) {
  const status = useDesk((s) => s.status);
  const sessions = useDesk((s) => s.sessions);
  const [busy, setBusy] = useState(false);
  const current = status ? (status.source === 'replay' ? `replay:${status.sessionId}` : status.source) : '';
  const call = (p: Promise<unknown>) => {
    setBusy(true);
    p.catch((e) => reportError('source', e)).finally(() => setBusy(false));
  };
  const pick = (v: string) => {
    const source: SourceSpec = v.startsWith('replay:')
      ? { kind: 'replay', sessionId: Number(v.slice(7)), speed: 1 }
      : { kind: v as 'sim' | 'bybit' };
    call(client.invoke('market/setSource', { source }));
  };
  // The live symbol, checked as `--symbol` is: a bad one is refused here, Watch off; one the exchange does not list
  // comes back as the feed's error.
  const [symbol, setSymbol] = useState<string | null>(null);
  const symbolText = (symbol ?? status?.symbol ?? '').toUpperCase();
  const symbolProblem = inputProblem(() => parseSymbol(symbolText, 'Symbol'));
  const watch = () => {
    if (symbolProblem) return;
    setSymbol(null);
    call(client.invoke('market/setSource', { source: { kind: 'bybit', symbol: symbolText.trim() } }));
  };
  return (
    <header data-panel="top-bar" className="topbar">
      <span className="brand">L2 Desk</span>
      <span className="sym">{status?.symbol ?? ''}</span>
      <label className="src">
        Source
        <select
          aria-label="Source"
          value={current}
          onChange={(e) => pick(e.target.value)}
          disabled={busy || !status}
        >
          <option value="bybit">Bybit live</option>
          <option value="sim">Simulated market</option>
          {sessions.map((s) => (
            <option key={s.id} value={`replay:${s.id}`}>
              Replay #{s.id} {s.symbol}
            </option>
          ))}
        </select>
      </label>
      {status?.source === 'bybit' && (
        <form
          className="src"
          onSubmit={(e) => {
            e.preventDefault();
            watch();
          }}
        >
          <label>
            Symbol{' '}
            <input
              aria-label="Live symbol"
              value={symbol ?? status.symbol}
              onChange={(e) => setSymbol(e.target.value)}
              size={9}
              disabled={busy}
              aria-invalid={symbol !== null && symbolProblem !== null}
              title={
                (symbol !== null && symbolProblem) ||
                'the live symbol to watch; Enter or Watch switches to it'
              }
            />
          </label>{' '}
          <button
            type="submit"
            className="secondary"
            disabled={busy || symbolProblem !== null || symbol === null}
          >
            Watch
          </button>
        </form>
      )}
      {status?.running ? (
        <button className="secondary" onClick={() => call(client.invoke('market/stop', {}))} disabled={busy}>
          Stop feed
        </button>
      ) : (
        <button onClick={() => call(client.invoke('market/start', {}))} disabled={busy || !status}>
          Start feed
        </button>
      )}
      <span className="paper badge">PAPER</span>
    </header>
  );
}
