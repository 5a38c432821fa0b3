// Collect: record L2 updates and trades for a symbol (or several, one session each), depth and duration into the
// app's store (its SQLite file or a ClickHouse store), with live progress; the panel says which store that is.
import { useState } from 'react';
import type { QualityView, StoreView } from '../../src-shared/ipc.ts';
import type { Client } from '../api/client.ts';
import { duration, fmt, pct } from '../format.ts';
import { reportError, useDesk } from '../store/desk.ts';
import { inputProblem, parseDurationInput, parseSymbolList } from '../../src-shared/inputRules.ts';

/** What the engine takes (collect/start): 1 s to 7 days. */
const COLLECT_LIMITS = { minMs: 1000, maxMs: 7 * 86_400_000 };

export function CollectPanel({ client }: { client: Client }) {
  const c = useDesk((s) => s.collect);
  const store = useDesk((s) => s.store);
  const defSymbol = useDesk((s) => s.status?.symbol ?? 'BTCUSDT');
  const [symbol, setSymbol] = useState<string | null>(null);
  const [depth, setDepth] = useState<1 | 50 | 200 | 1000>(50);
  const [secs, setSecs] = useState('60');
  const running = c?.running ?? false;
  // The CLI's rules (`collect --symbol`, `--duration`; a bare number here is seconds): refused inline, Collect off.
  const symbolText = (symbol ?? defSymbol).toUpperCase();
  const live = useDesk((s) => s.status?.source === 'bybit');
  const problem =
    inputProblem(() => parseSymbolList(symbolText, 'Symbol')) ??
    (symbolText.includes(',') && !live
      ? 'Symbol: several symbols are collected from the live Bybit feed (choose Bybit live as the source); the simulated market is one market'
      : null) ??
    inputProblem(() => parseDurationInput(secs, 'Seconds', 's', COLLECT_LIMITS));
  const start = () =>
    client
      .invoke('collect/start', {
        symbol: parseSymbolList(symbolText, 'Symbol').join(','),
        depth,
        durationMs: Math.round(parseDurationInput(secs, 'Seconds', 's', COLLECT_LIMITS)),
      })
      .then((collect) => useDesk.setState({ collect }))
      .catch((e) => reportError('collect', e));
  const stop = () => client.invoke('collect/stop', {}).catch((e) => reportError('collect', e));
  return (
    <section data-panel="collect" className="panel job-panel" aria-labelledby="col-h">
      <h2 id="col-h">
        Collect
        {store && <StoreNote store={store} />}
      </h2>
      <div className="form-row">
        <label>
          Symbol{' '}
          <input
            value={symbol ?? defSymbol}
            onChange={(e) => setSymbol(e.target.value)}
            size={9}
            disabled={running}
            title="a symbol such as BTCUSDT, or several separated by commas (BTCUSDT,ETHUSDT: live Bybit feed, one session each)"
            aria-invalid={problem?.startsWith('Symbol') ?? false}
          />
        </label>
        <label>
          Depth
          <select
            value={depth}
            onChange={(e) => setDepth(Number(e.target.value) as 1 | 50 | 200 | 1000)}
            disabled={running}
          >
            {[1, 50, 200, 1000].map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          Seconds{' '}
          <input
            inputMode="numeric"
            value={secs}
            onChange={(e) => setSecs(e.target.value)}
            style={{ width: 60 }}
            disabled={running}
            title="seconds, or a duration such as 90s, 5m, 2h"
            aria-invalid={problem?.startsWith('Seconds') ?? false}
          />
        </label>
        {problem && !running && (
          <div className="field-problem small" role="status" data-testid="collect-input-problem">
            {problem}
          </div>
        )}
      </div>
      <div className="form-row">
        <button onClick={start} disabled={running || problem !== null}>
          Collect
        </button>
        <button onClick={stop} disabled={!running} className="secondary">
          Stop collecting
        </button>
      </div>
      <progress
        aria-label="Collect progress"
        max={1}
        value={c && c.durationMs > 0 ? Math.min(1, c.elapsedMs / c.durationMs) : 0}
      />
      {c ? (
        <div className="small" data-testid="collect-status" data-done={c.done} data-messages={c.messages}>
          {c.running ? 'Collecting' : c.error ? 'Failed' : 'Done'} {c.symbol} ·{' '}
          {c.sessionIds && c.sessionIds.length > 1
            ? `sessions ${c.sessionIds.map((id) => `#${id}`).join(', ')}`
            : `session #${c.sessionId ?? '—'}`}{' '}
          · {duration(c.elapsedMs)}/{duration(c.durationMs)} · {c.messages} msgs · {fmt(c.messagesPerSec, 0)}
          /s · gaps {c.gaps}
          {c.error && <div className="neg">{c.error}</div>}
          {c.done &&
            !c.error &&
            (c.qualities ? (
              c.qualities.map((q) => (
                <div key={q.sessionId} data-testid="collect-quality-of" data-symbol={q.symbol}>
                  <strong>{q.symbol}</strong> (session #{q.sessionId}): <Quality q={q.quality} />
                </div>
              ))
            ) : (
              <Quality q={c.quality} />
            ))}
        </div>
      ) : (
        <div className="small dim">Nothing collected in this run yet.</div>
      )}
    </section>
  );
}

/** Where the sessions go (and where Backtest and Replay read them), beside the title: whole on hover when cut. */
function StoreNote({ store }: { store: StoreView }) {
  const where =
    store.kind === 'clickhouse'
      ? `ClickHouse ${store.name.replace(/^clickhouse:\/\//, '')}`
      : `${store.name}`;
  const whole =
    store.kind === 'clickhouse'
      ? `Sessions are stored in the ClickHouse store ${store.name}; Backtest and Replay read them there`
      : `Sessions are stored in the SQLite file ${store.name}; Backtest and Replay read them there`;
  return (
    <span className="dim store one-line" data-testid="collect-store" title={whole}>
      into {where}
    </span>
  );
}

/** The collected session's data quality (as `l2desk db quality`): findings in plain words, or a one-line all-clear. */
function Quality({ q }: { q: QualityView | null | undefined }) {
  if (!q) return <div className="dim">Checking data quality…</div>;
  const facts =
    `${pct(q.invalidShare)} invalid · breaks ${q.replayGaps} · silences ${q.silences}` +
    (q.latencyP99Ms !== null ? ` · latency p99 ${q.latencyP99Ms} ms` : '') +
    (q.spreadP50Ticks !== null
      ? ` · spread ${q.spreadP50Ticks} tick${q.spreadP50Ticks === 1 ? '' : 's'}`
      : '');
  return (
    <div data-testid="collect-quality" data-findings={q.findings.length} aria-label="Data quality">
      {q.findings.length === 0 ? (
        <div className="pos">Data quality: no findings ({facts})</div>
      ) : (
        <>
          <div className="warn">Data quality ({facts}):</div>
          <ul className="findings">
            {q.findings.map((f, i) => (
              <li key={i} className="warn">
                {f}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
