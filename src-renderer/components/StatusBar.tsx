// Status bar: source, connection, feed latency, messages/s, gaps, model.
import { fmt } from '../format.ts';
import { useDesk } from '../store/desk.ts';

export function StatusBar() {
  const s = useDesk((x) => x.status);
  const link = useDesk((x) => x.link);
  const conn = s?.connection ?? 'idle';
  const cls =
    link !== 'open' ? 'neg' : conn === 'subscribed' ? 'pos' : conn === 'reconnecting' ? 'warn' : 'dim';
  return (
    <footer data-panel="status-bar" className="statusbar" role="status" aria-label="Status">
      <span>
        UI link <b className={link === 'open' ? 'pos' : 'neg'}>{link}</b>
      </span>
      <span>
        Source{' '}
        <b data-testid="status-source">
          {s ? (s.source === 'replay' ? `replay #${s.sessionId}` : s.source) : '—'}
        </b>
      </span>
      <span>
        Feed <b className={cls}>{s && link === 'open' ? conn : '—'}</b>
      </span>
      <span>
        Latency <b>{s ? `${fmt(s.latencyMs, 0)} ms` : '—'}</b>
      </span>
      <span>
        Msgs/s <b>{s ? fmt(s.messagesPerSec, 0) : '—'}</b>
      </span>
      <span>
        Gaps <b className={s && s.gaps > 0 ? 'warn' : ''}>{s?.gaps ?? '—'}</b>
      </span>
      {s?.skippedDecisions ? (
        <span title="Decisions skipped because a feature was not finite (implausible data): the model never saw them">
          Skipped{' '}
          <b className="warn" data-testid="status-skipped">
            {s.skippedDecisions}
          </b>
        </span>
      ) : null}
      <span>
        Book <b className={s?.bookValid ? 'pos' : 'warn'}>{s ? (s.bookValid ? 'valid' : 'invalid') : '—'}</b>
      </span>
      <span className="grow" title={`Model ${s?.model?.name ?? 'none'}${s?.note ? ` · ${s.note}` : ''}`}>
        Model <b>{s?.model?.name ?? 'none'}</b>
        {s?.note && <span className="dim"> · {s.note}</span>}
      </span>
    </footer>
  );
}
