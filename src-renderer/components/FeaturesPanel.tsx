// Feature inspector: what drives the current prediction. Each feature of the running set with its value at the
// latest prediction, a z-score bar against its distribution over the session so far, and the model's gain
// importance (from its metadata; '—' when it has none), most important first.
import { useMemo, type ReactNode } from 'react';
import { clock, pct, signed } from '../format.ts';
import { compact, featureRows, zBar } from '../featureRows.ts';
import { useDesk } from '../store/desk.ts';

/** |z| from here on is drawn in the warning colour: an unusual value for this session. */
const HOT_Z = 2;

/** `header` replaces the panel's title (the side tabs put theirs there; one of them names the panel). */
export function FeaturesPanel({ header }: { header?: ReactNode } = {}) {
  const view = useDesk((s) => s.features);
  const importance = useDesk((s) => s.status?.model?.importance);
  const note = useDesk((s) => s.status?.note ?? null);
  const rows = useMemo(() => (view ? featureRows(view, importance) : []), [view, importance]);
  return (
    <section
      data-panel="features"
      className="panel features-panel"
      id="features-panel"
      aria-labelledby="features-h"
    >
      {header ?? <h2 id="features-h">Features</h2>}
      {!view ? (
        <div className="empty">{note ?? 'No predictions yet'}</div>
      ) : (
        <>
          <div className="small dim features-meta" data-testid="features-meta">
            at {clock(view.t).slice(0, 8)} · z against {view.n} decisions
            {importance ? '' : ' · no gain importance in this model'}
          </div>
          <div className="scroll">
            <table className="features" aria-label="Feature values">
              <colgroup>
                <col />
                <col className="c-val" />
                <col className="c-bar" />
                <col className="c-z" />
                <col className="c-gain" />
              </colgroup>
              <thead>
                <tr>
                  <th>Feature</th>
                  <th>Value</th>
                  <th
                    colSpan={2}
                    title="z-score: the value against this feature's mean and standard deviation over the session so far (bar clipped at ±3)"
                  >
                    z
                  </th>
                  <th title="the model's gain importance (share of its total gain)">Gain</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const bar = zBar(r.z);
                  const hot = Math.abs(r.z) >= HOT_Z;
                  return (
                    <tr key={r.name} data-feature={r.name}>
                      <td className="fname" title={r.name}>
                        {r.name}
                      </td>
                      <td>{compact(r.value)}</td>
                      <td
                        title={
                          Number.isFinite(r.z)
                            ? `z ${signed(r.z, 2)} (mean ${compact(r.mean)}, sd ${compact(r.std)})`
                            : 'not enough spread yet'
                        }
                      >
                        <div className="zbar">
                          <span
                            className={hot ? 'hot' : ''}
                            style={{ left: `${bar.left}%`, width: `${bar.width}%` }}
                          />
                        </div>
                      </td>
                      <td className={hot ? 'warn' : 'dim'}>{Number.isFinite(r.z) ? signed(r.z, 1) : '—'}</td>
                      <td>{r.importance === null ? '—' : pct(r.importance, r.importance < 0.1 ? 1 : 0)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
