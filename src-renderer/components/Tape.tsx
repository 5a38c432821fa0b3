// Signals and fills tape, newest first.
import type { ReactNode } from 'react';
import { useDesk } from '../store/desk.ts';
import { clock, fmt, midDecimals, priceDecimals, size } from '../format.ts';

type Row = {
  t: number;
  kind: 'signal' | 'fill';
  text: string;
  cls: string;
  px: number;
  /** A signal's price is the mid (between ticks), a fill's a level's. */
  dp: number;
  key: string;
};

/** `header` replaces the panel's title (the side tabs put theirs there; one of them names the panel). */
export function Tape({ header }: { header?: ReactNode } = {}) {
  const signals = useDesk((s) => s.signals);
  const fills = useDesk((s) => s.fills);
  const tickSize = useDesk((s) => s.book?.tickSize);
  const signalDp = midDecimals(tickSize);
  const fillDp = priceDecimals(tickSize);
  const rows: Row[] = [];
  for (let i = signals.length - 1; i >= 0 && rows.length < 60; i--) {
    const s = signals[i];
    if (s.signal === 0) continue;
    rows.push({
      t: s.t,
      kind: 'signal',
      text: `${s.signal > 0 ? 'BUY' : 'SELL'} signal ${fmt(s.prediction, 2)}`,
      cls: s.signal > 0 ? 'pos' : 'neg',
      px: s.price,
      dp: signalDp,
      key: `s${s.t}${i}`,
    });
  }
  for (let i = fills.length - 1; i >= 0 && i >= fills.length - 60; i--) {
    const f = fills[i];
    rows.push({
      t: f.t,
      kind: 'fill',
      text: `${f.side.toUpperCase()} ${size(f.size)} ${f.liquidity} (${f.reason})`,
      cls: f.side === 'Buy' ? 'pos strong' : 'neg strong',
      px: f.price,
      dp: fillDp,
      key: `f${f.t}${i}`,
    });
  }
  rows.sort((a, b) => b.t - a.t);
  return (
    <section data-panel="tape" className="panel tape-panel" id="tape-panel" aria-labelledby="tape-h">
      {header ?? <h2 id="tape-h">Signals &amp; fills</h2>}
      {rows.length === 0 ? (
        <div className="empty">No signals yet</div>
      ) : (
        <div className="scroll">
          <table className="tape" aria-label="Signals and fills">
            <colgroup>
              <col className="c-time" />
              <col />
              <col className="c-px" />
            </colgroup>
            <tbody>
              {rows.slice(0, 60).map((r) => (
                <tr key={r.key} className={r.kind}>
                  <td className="dim">{clock(r.t).slice(0, 8)}</td>
                  <td className={r.cls} title={r.text}>
                    {r.text}
                  </td>
                  <td className="num">{fmt(r.px, r.dp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
