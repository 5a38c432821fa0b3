// Backtest: replay a stored session through the same engine at one threshold or a sweep, and show the report.
// Backtests wait their turn in the engine's heavy-job queue (config jobs.concurrency): a queued job says how many
// jobs are ahead of it. A queued or running job can be cancelled (by the job id its progress events carry); it then
// ends in a 'cancelled' state.
// Walk-forward: instead of the active model, one model per window trained on the minutes before it (out of sample).
import { useMemo, useState } from 'react';
import type { BacktestArgs, MetricsView, WalkForwardView } from '../../src-shared/ipc.ts';
import type { Client } from '../api/client.ts';
import { duration, fmt, pct, sign, signed } from '../format.ts';
import { reportError, useDesk } from '../store/desk.ts';
import { EquityChart } from './EquityChart.tsx';
import { inputProblem, parseDurationInput, parseSweep } from '../../src-shared/inputRules.ts';

/** What the engine takes for a walk-forward window or period (backtest/run): up to 7 days. */
const WF_LIMITS = { maxMs: 7 * 86_400_000 };
import { Figure } from './Figure.tsx';
import { HaltNote } from './HaltNote.tsx';
import { hitRateReason, sharpeReason } from '../../src-shared/reliability.ts';

export function BacktestPanel({
  client,
  enlarged = false,
  onEnlarge,
}: {
  client: Client;
  /** Covering the whole grid (the report's room on a small screen). */
  enlarged?: boolean;
  onEnlarge?: (on: boolean) => void;
}) {
  const sessions = useDesk((s) => s.sessions);
  const report = useDesk((s) => s.backtest);
  const prog = useDesk((s) => s.backtestProgress);
  const live = useDesk((s) => s.threshold);
  const [sessionId, setSessionId] = useState<number | null>(null);
  const [sweep, setSweep] = useState('');
  const [busy, setBusy] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [cancelled, setCancelled] = useState(false);
  // Walk-forward windows in minutes (the CLI's defaults: retrain.window 120m, every 30m).
  const [walkForward, setWalkForward] = useState(false);
  const [trainMin, setTrainMin] = useState('120');
  const [everyMin, setEveryMin] = useState('30');
  const chosen = sessionId ?? sessions[sessions.length - 1]?.id ?? null;
  // The CLI's rules (`backtest --sweep`, `--train-window`, `--retrain-every`; bare numbers are minutes), refused
  // inline with Backtest off: nothing typed is silently dropped.
  const trainMs = () => Math.round(parseDurationInput(trainMin, 'Train window', 'm', WF_LIMITS));
  const everyMs = () => Math.round(parseDurationInput(everyMin, 'Retrain every', 'm', WF_LIMITS));
  const problem =
    (sweep.trim() ? inputProblem(() => parseSweep(sweep, 'Sweep')) : null) ??
    (walkForward ? (inputProblem(trainMs) ?? inputProblem(everyMs)) : null);
  const run = () => {
    if (chosen === null || problem !== null) return;
    // The engine also checks the windows against the model horizon.
    const wf = walkForward ? { trainWindowMs: trainMs(), everyMs: everyMs() } : undefined;
    const list = sweep.trim() ? parseSweep(sweep, 'Sweep') : [];
    setBusy(true);
    setCancelled(false);
    setCancelling(false);
    useDesk.setState({ backtestProgress: { jobId: '', fraction: 0, message: 'starting…' } });
    const args: BacktestArgs = list.length
      ? { sessionId: chosen, sweep: list }
      : { sessionId: chosen, threshold: live };
    if (wf) args.walkForward = wf;
    client
      .invoke('backtest/run', args)
      .then((backtest) => useDesk.setState({ backtest, backtestProgress: null }))
      .catch((e: unknown) => {
        useDesk.setState({ backtestProgress: null });
        // The engine answers a cancelled job with "backtest <id> cancelled": a state, not an error.
        if (/\bcancelled\b/.test(String((e as Error)?.message ?? e))) setCancelled(true);
        else reportError('backtest', e);
      })
      .finally(() => {
        setBusy(false);
        setCancelling(false);
      });
  };
  // The job id arrives with the first progress event (sent as soon as the job is queued or starts).
  const jobId = busy && prog?.jobId ? prog.jobId : null;
  const queued = busy && prog?.ahead !== undefined;
  const cancel = () => {
    if (!jobId) return;
    setCancelling(true);
    client.invoke('jobs/cancel', { jobId }).catch((e) => {
      setCancelling(false);
      reportError('backtest', e);
    });
  };
  const best = report ? report.runs[report.best] : null;
  // Memoised: a new array each render would rebuild the chart.
  const others = useMemo(
    () =>
      report
        ? report.runs
            .filter((_, k) => k !== report.best)
            .map((r) => ({ title: `thr ${fmt(r.threshold, 2)}`, points: r.equity }))
        : [],
    [report],
  );
  return (
    <section
      data-panel="backtest"
      className={enlarged ? 'panel job-panel backtest-panel enlarged' : 'panel job-panel backtest-panel'}
      aria-labelledby="bt-h"
    >
      <h2 id="bt-h">Backtest</h2>
      {/* Beside the heading, not in it: the panel's name stays "Backtest". */}
      {onEnlarge && (
        <button
          className="chip panel-corner"
          aria-pressed={enlarged}
          aria-label="Enlarge panel"
          title={enlarged ? 'Back to the trading screen (Esc)' : 'Show the backtest over the whole screen'}
          onClick={() => onEnlarge(!enlarged)}
        >
          {enlarged ? '⤡ Restore' : '⤢ Enlarge'}
        </button>
      )}
      <div className="form-row">
        <label>
          Session
          <select
            aria-label="Session"
            value={chosen ?? ''}
            onChange={(e) => setSessionId(Number(e.target.value))}
            disabled={sessions.length === 0}
          >
            {sessions.length === 0 && <option value="">no stored sessions</option>}
            {sessions.map((s) => (
              <option key={s.id} value={s.id}>
                #{s.id} {s.symbol} {s.source} · {s.messages} msgs
              </option>
            ))}
          </select>
        </label>
        <label>
          Sweep{' '}
          <input
            placeholder={`thr ${fmt(live, 2)}`}
            value={sweep}
            onChange={(e) => setSweep(e.target.value)}
            size={10}
            aria-label="Threshold sweep"
          />
        </label>
        <button onClick={run} disabled={busy || chosen === null || problem !== null}>
          Backtest
        </button>
        {busy && (
          <button onClick={cancel} disabled={!jobId || cancelling} aria-label="Cancel backtest">
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      <div className="form-row">
        <label title="Out of sample: one model per window, trained only on the data before it">
          <input
            type="checkbox"
            checked={walkForward}
            onChange={(e) => setWalkForward(e.target.checked)}
            aria-label="Walk-forward"
          />
          Walk-forward
        </label>
        <MinutesInput label="Train window" value={trainMin} onChange={setTrainMin} disabled={!walkForward} />
        <MinutesInput label="Retrain every" value={everyMin} onChange={setEveryMin} disabled={!walkForward} />
      </div>
      {problem && !busy && (
        <div className="field-problem small" role="status" data-testid="backtest-input-problem">
          {problem}
        </div>
      )}
      {cancelled && !busy && (
        <div className="small" role="status" data-testid="backtest-cancelled">
          Backtest cancelled
        </div>
      )}
      {prog && (
        <>
          <progress aria-label="Backtest progress" max={1} value={prog.fraction} />
          <div
            className={queued ? 'small dim' : 'small'}
            data-testid="backtest-progress"
            data-queued={queued}
            title={queued ? QUEUE_HINT : undefined}
          >
            {prog.message}
          </div>
        </>
      )}
      {report && best && (
        <div className="report" role="region" aria-label="Backtest report" data-testid="backtest-report">
          {/* Wide panel: these lines and the tables on the left (scrolling), the equity curve on the right;
              narrow: one column, the panel scrolls and the chart keeps its height. */}
          <div className="report-head">
            <div className="small">
              Session #{report.sessionId} {report.symbol} · {report.messages} msgs · backtest took{' '}
              {fmt(report.elapsedMs / 1000, 1)} s
            </div>
            <HaltNote halts={best.halts} />
            {report.runs
              .filter((r) => r.noTrades)
              .map((r) => (
                <div key={r.threshold} className="small warn" data-testid="backtest-no-trades">
                  {report.runs.length > 1 ? `thr ${fmt(r.threshold, 2)}: ` : ''}
                  {r.noTrades}
                </div>
              ))}
            {(best.inSampleShare ?? 0) > 0 && (
              <div className="small warn" role="alert" data-testid="backtest-in-sample">
                Warning: {pct(best.inSampleShare, 0)} of decisions lie inside the model&apos;s training span
                {best.trainingSpan
                  ? ` (${new Date(best.trainingSpan.fromTs).toISOString().slice(0, 16)} – ${new Date(best.trainingSpan.toTs).toISOString().slice(0, 16)} UTC)`
                  : ''}
                : in-sample, optimistic. Backtest a later session (or tick Walk-forward).
              </div>
            )}
            {report.walkForward && (best.inSampleShare ?? 0) === 0 && (
              <div className="small" role="status" data-testid="backtest-in-sample">
                Out of sample: none of the {report.walkForward.windows.reduce((n, w) => n + w.decisions, 0)}{' '}
                decisions lies inside the training span of the model that made it (embargo{' '}
                {duration(report.walkForward.embargoMs)}; no trading before{' '}
                {hms(report.walkForward.firstTradeTs)} UTC).
              </div>
            )}
            <PnlVerdict m={best.metrics} />
          </div>
          <div className="runs-wrap">
            <table className="runs">
              <thead>
                <tr>
                  <th>Thr</th>
                  <th>Net</th>
                  <th>Sharpe</th>
                  <th>MaxDD</th>
                  <th title="round trips won after fees (before fees)">Hit (gross)</th>
                  <th>Trades</th>
                  <th>Fees</th>
                  <th title="execution cost: implementation shortfall (latency + spread and book walk) plus fees, bps of the traded notional">
                    Cost bps
                  </th>
                  <th>Turnover</th>
                </tr>
              </thead>
              <tbody>
                {report.runs.map((r, i) => (
                  <tr key={i} className={i === report.best ? 'best' : ''}>
                    <td>{fmt(r.threshold, 2)}</td>
                    <td className={sign(r.metrics.totalReturn)}>
                      {signed(r.finalEquity - (r.equity[0]?.equity ?? r.finalEquity))}
                    </td>
                    <td>
                      <Figure reason={sharpeReason(r.metrics)} testId="backtest-sharpe">
                        {fmt(r.metrics.sharpe)}
                      </Figure>
                    </td>
                    <td>{pct(r.metrics.maxDrawdown, 2)}</td>
                    <td>
                      {/* Older peers send no round-trip count: trades decide. */}
                      <Figure reason={hitRateReason(r.metrics.roundTrips ?? (r.metrics.trades > 0 ? 1 : 0))}>
                        {`${pct(r.metrics.hitRate)} (${pct(r.metrics.grossHitRate)})`}
                      </Figure>
                    </td>
                    <td>{r.metrics.trades}</td>
                    <td>{fmt(r.metrics.fees)}</td>
                    <CostCell m={r.metrics} />
                    <td>{fmt(r.metrics.turnover, 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {report.walkForward && <WalkForwardTable wf={report.walkForward} />}
          </div>
          <div className="equity-box bt-chart">
            <EquityChart
              points={best.equity}
              others={others}
              halts={best.halts}
              label="Backtest equity curve"
            />
          </div>
        </div>
      )}
    </section>
  );
}

/** Why a job waits (the engine says "queued, N ahead"). */
export const QUEUE_HINT =
  'Backtests and retraining share one queue (config jobs.concurrency, default one at a time) so the live feed keeps its CPU; Cancel drops a queued job';

const hms = (t: number) => new Date(t).toISOString().slice(11, 19);

/** bps with 2 decimals; one that rounds to nothing is 0.00, not -0.00. */
const bps = (x: number) => fmt(Math.abs(x) < 5e-3 ? 0 : x, 2);

/** Shortfall + fees in bps, the split in its tooltip; '—' with no trades or from a peer that sends no costs. */
function CostCell({ m }: { m: MetricsView }) {
  const c = m.costs;
  if (!c || m.trades === 0) return <td title="no trades, or no cost figures from this engine">—</td>;
  const split =
    `shortfall ${bps(c.shortfallBps)} bps (latency ${bps(c.latencyBps)}, spread + walk ${bps(c.spreadWalkBps)})` +
    ` + fees ${bps(c.feesBps)} bps; gross alpha ${signed(c.grossAlpha)} → net ${signed(c.netPnl)}`;
  return (
    <td title={split} data-testid="backtest-cost">
      {bps(c.shortfallBps + c.feesBps)}
    </td>
  );
}

/** The best run's net P&L with its 95% interval, and whether the run can tell it apart from zero. */
function PnlVerdict({ m }: { m: MetricsView }) {
  const ci = m.netPnlCi;
  if (ci === undefined) return null; // an engine that sends no interval
  const net = m.costs?.netPnl;
  return (
    <div className="small" data-testid="backtest-pnl-ci" title="moving-block bootstrap of the equity changes">
      {ci === null ? (
        <span className="dim">Net P&amp;L: the run is too short for a confidence interval.</span>
      ) : (
        <>
          Net P&amp;L {net === undefined ? '' : signed(net)}, 95% interval [{signed(ci[0])}, {signed(ci[1])}]:{' '}
          {ci[0] > 0 || ci[1] < 0 ? (
            <b className={ci[0] > 0 ? 'pos' : 'neg'}>distinguishable from zero</b>
          ) : (
            <b>not distinguishable from zero</b>
          )}
        </>
      )}
    </div>
  );
}

/** "[lo, hi]" of a 95% interval, for a tooltip or a dim suffix. */
const interval = (c: [number, number] | null | undefined, d = 3, scale = 1) =>
  c ? `[${fmt(c[0] * scale, d)}, ${fmt(c[1] * scale, d)}]` : '';

/** One row per walk-forward window: when it traded, what its model learnt from, and how well it did. */
function WalkForwardTable({ wf }: { wf: WalkForwardView }) {
  return (
    <table className="runs wf-windows" aria-label="Walk-forward windows" data-testid="backtest-walk-forward">
      <caption className="small dim">
        Walk-forward: train {duration(wf.trainWindowMs)}, retrain every {duration(wf.everyMs)} (UTC)
      </caption>
      <thead>
        <tr>
          <th>Win</th>
          <th>Traded</th>
          <th>Trained on</th>
          <th>Rows</th>
          <th title="validation R² at training time">R²</th>
          <th title="validation information coefficient at training time">IC</th>
          <th title="decisions made in the window">Dec</th>
          <th title="out-of-sample IC on the window it traded, with its 95% interval (block bootstrap: overlapping labels)">
            OOS IC
          </th>
          <th title="out-of-sample directional hit rate on the window it traded">OOS hit</th>
        </tr>
      </thead>
      <tbody>
        {wf.windows.map((w) => (
          <tr key={w.window} className={w.trained ? '' : 'dim'} title={w.trained ? (w.model ?? '') : w.note}>
            <td>{w.window}</td>
            <td>
              {hms(w.tradeFrom)}–{hms(w.tradeTo)}
            </td>
            <td>
              {hms(w.trainFrom)}–{hms(w.trainTo)}
            </td>
            <td>{w.trained ? w.rows : '—'}</td>
            <td>{fmt(w.r2, 3)}</td>
            <td>{fmt(w.ic, 3)}</td>
            <td>{w.decisions}</td>
            <td
              className={w.oosIc === null ? '' : sign(w.oosIc)}
              title={w.oosIcCi ? `95% interval ${interval(w.oosIcCi)}` : undefined}
            >
              {fmt(w.oosIc, 3)}
              {w.oosIcCi && <span className="dim"> {interval(w.oosIcCi, 2)}</span>}
            </td>
            <td title={w.oosHitRateCi ? `95% interval ${interval(w.oosHitRateCi, 1, 100)} %` : undefined}>
              {pct(w.oosHitRate)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A labelled minutes field of the walk-forward settings (a bare number is minutes). */
function MinutesInput(p: { label: string; value: string; onChange: (v: string) => void; disabled: boolean }) {
  return (
    <label>
      {p.label}
      <input
        inputMode="decimal"
        value={p.value}
        onChange={(e) => p.onChange(e.target.value)}
        disabled={p.disabled}
        aria-label={p.label}
        title="minutes, or a duration such as 90m, 2h (as --train-window and --retrain-every)"
        className="minutes"
      />
      min
    </label>
  );
}
