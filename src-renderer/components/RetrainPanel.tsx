// Retrain: train a model on stored data in a worker; metrics stream in; the user accepts or rejects it. Training
// waits its turn in the engine's heavy-job queue (it says how many jobs are ahead) and can be cancelled.
import { useState } from 'react';
import type { Client } from '../api/client.ts';
import { fmt } from '../format.ts';
import { reportError, useDesk } from '../store/desk.ts';
import type { ModelInfo } from '../../src-shared/ipc.ts';
import { QUEUE_HINT } from './BacktestPanel.tsx';

/** Metrics by name; a 95% interval beside those that have one, flagged when it holds zero (no edge shown). */
function Metrics({ m, ci }: { m: Record<string, number>; ci?: Record<string, [number, number]> }) {
  const keys = Object.keys(m);
  if (keys.length === 0) return <span className="dim">—</span>;
  return (
    <span className="metrics">
      {keys.map((k) => {
        const c = ci?.[k];
        const d = Math.abs(m[k]) >= 100 ? 0 : 4;
        const holdsZero = c && k !== 'hitRate' && c[0] <= 0 && c[1] >= 0;
        return (
          <span key={k}>
            {k} <b>{fmt(m[k], d)}</b>
            {c && (
              <span
                className="dim"
                data-testid={`ci-${k}`}
                title="95% interval (block bootstrap: overlapping labels are not independent)"
              >
                {' '}
                [{fmt(c[0], d)}, {fmt(c[1], d)}]{holdsZero ? ' not distinguishable from zero' : ''}
              </span>
            )}
          </span>
        );
      })}
    </span>
  );
}

/** "Needs about 33 more minutes of data: keep the feed running or press Collect." (the rest are the facts). */
function needsLead(text: string): string {
  const end = text.indexOf('. ');
  return end < 0 ? text : text.slice(0, end + 1);
}

function modelLine(m: ModelInfo | null | undefined) {
  return m ? m.name : 'none';
}

export function RetrainPanel({ client }: { client: Client }) {
  const prog = useDesk((s) => s.retrainProgress);
  const res = useDesk((s) => s.retrain);
  const active = useDesk((s) => s.status?.model ?? null);
  const models = useDesk((s) => s.models);
  const busy = prog !== null && prog.phase !== 'done' && prog.phase !== 'failed';
  const [cancelling, setCancelling] = useState(false);
  const start = () => {
    setCancelling(false);
    useDesk.setState({
      retrain: null,
      retrainProgress: { jobId: '', phase: 'dataset', fraction: 0, message: 'starting…', metrics: {} },
    });
    client
      .invoke('model/retrain', {})
      // The reply names the job: from now on only its progress is shown here.
      .then(({ jobId }) =>
        useDesk.setState((s) =>
          s.retrainProgress && s.retrainProgress.jobId === ''
            ? { retrainProgress: { ...s.retrainProgress, jobId } }
            : {},
        ),
      )
      .catch((e) => {
        useDesk.setState({ retrainProgress: null });
        reportError('retrain', e);
      });
  };
  const jobId = busy && prog?.jobId ? prog.jobId : null;
  const cancel = () => {
    if (!jobId) return;
    setCancelling(true);
    client.invoke('jobs/cancel', { jobId }).catch((e) => {
      setCancelling(false);
      reportError('retrain', e);
    });
  };
  const decide = (accept: boolean) =>
    res &&
    client
      .invoke(accept ? 'model/accept' : 'model/reject', { jobId: res.jobId })
      .then((retrain) => useDesk.setState({ retrain }))
      .catch((e) => reportError('retrain', e));
  return (
    <section data-panel="retrain" className="panel job-panel" aria-labelledby="rt-h">
      <h2 id="rt-h">Retrain</h2>
      <div className="small">
        Active model: <b data-testid="active-model">{modelLine(active)}</b>
        {models.length > 1 && (
          <select
            aria-label="Model"
            className="model-pick"
            value={active?.name ?? ''}
            onChange={(e) =>
              client.invoke('model/use', { name: e.target.value }).catch((err) => reportError('model', err))
            }
          >
            {!active && <option value="">none</option>}
            {models.map((m) => (
              <option key={m.path} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        )}
        {/* A refusal or failure below takes the room: the panel is short at 1280×720. */}
        {active && res?.status !== 'pending' && res?.ok !== false && (
          <div className="dim">
            <Metrics m={active.metrics} ci={active.intervals} />
          </div>
        )}
      </div>
      <div className="form-row">
        <button
          onClick={start}
          disabled={busy}
          title="Learns from the feed the app records (the newest hours of it) and from collected sessions"
        >
          Retrain
        </button>
        {busy && (
          <button onClick={cancel} disabled={!jobId || cancelling} aria-label="Cancel retrain">
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      <progress aria-label="Retrain progress" max={1} value={prog?.fraction ?? 0} />
      {/* A failure is said once, by the result below. */}
      {prog && prog.phase !== 'done' && prog.phase !== 'failed' && (
        <div
          className={prog.phase === 'queued' ? 'small dim' : 'small'}
          data-testid="retrain-progress"
          title={prog.phase === 'queued' ? QUEUE_HINT : undefined}
        >
          {prog.phase === 'queued' ? (
            prog.message
          ) : (
            <>
              {prog.phase} · {prog.message} <Metrics m={prog.metrics} />
            </>
          )}
        </div>
      )}
      {res && (
        <div
          className={res.ok ? 'result' : 'result job-message'}
          role="region"
          aria-label="Retrain result"
          data-testid="retrain-result"
          data-status={res.status}
        >
          {res.ok && res.candidate && res.status !== 'pending' ? (
            <div className="small">
              {res.status === 'accepted' ? 'Accepted' : 'Rejected'} <b>{res.candidate.name}</b>{' '}
              <span className="dim">
                ({res.beatsCurrent ? 'beat' : 'did not beat'} the previous model out of sample;{' '}
                {res.status === 'accepted' ? 'now trading with it' : 'kept the current one'})
              </span>
            </div>
          ) : res.ok && res.candidate ? (
            <>
              <div className="small">
                Candidate <b>{res.candidate.name}</b>{' '}
                <span className={res.beatsCurrent ? 'badge ok' : 'badge warn'}>
                  {res.beatsCurrent ? 'beats current' : 'does not beat current'}
                </span>
              </div>
              <div className="form-row">
                <button onClick={() => decide(true)}>Accept</button>
                <button className="secondary" onClick={() => decide(false)}>
                  Reject
                </button>
              </div>
              <div className="small">
                Validation: <Metrics m={res.candidate.metrics} ci={res.candidate.intervals} />
              </div>
              {res.current && (
                <div className="small dim">
                  Current: <Metrics m={res.current.metrics} />
                </div>
              )}
            </>
          ) : /^Needs about \d+ more minutes? of data/.test(res.error ?? '') ? (
            // Not a failure: too little data yet, and what to do about it (guiWording.ts in the engine).
            <div className="small" data-testid="retrain-needs-data">
              <span className="warn">{needsLead(res.error ?? '')}</span>{' '}
              <span className="dim">{(res.error ?? '').slice(needsLead(res.error ?? '').length + 1)}</span>
            </div>
          ) : (
            <div className="neg small">
              {/\bcancelled$/.test(res.error ?? '') ? 'Training cancelled' : `Training failed: ${res.error}`}
            </div>
          )}
        </div>
      )}
    </section>
  );
}
