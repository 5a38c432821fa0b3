// Threshold slider: sets the live threshold at once and shows what it would have done over the recent window.
import { useEffect, useRef, useState } from 'react';
import type { Client } from '../api/client.ts';
import { fmt, pct, sign, signed } from '../format.ts';
import { reportError, useDesk } from '../store/desk.ts';

const MAX = 5;

export function ThresholdPanel({ client }: { client: Client }) {
  const live = useDesk((s) => s.threshold);
  const whatIf = useDesk((s) => s.whatIf);
  const loaded = useDesk((s) => s.loaded);
  const [value, setValue] = useState(live);
  // The threshold on show: the periodic what-if refresh must use it, not the live one, or a refresh landing between
  // a slider move and the engine's reply would overwrite the moved value's figures with the old threshold's.
  const shown = useRef(live);
  const dragging = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const seq = useRef(0);

  useEffect(() => {
    if (!dragging.current) {
      shown.current = live;
      setValue(live);
    }
  }, [live]);

  const refresh = (t: number) => {
    const mine = ++seq.current;
    client
      .invoke('trading/whatIf', { threshold: t })
      .then((r) => {
        if (mine === seq.current) useDesk.setState({ whatIf: r });
      })
      .catch((e) => reportError('what-if', e));
  };

  // Refresh the what-if as new predictions arrive, so the panel stays current while nobody drags.
  useEffect(() => {
    if (!loaded) return;
    refresh(shown.current);
    const id = setInterval(() => refresh(shown.current), 3000);
    return () => clearInterval(id);
  }, [loaded]);

  const onChange = (t: number) => {
    dragging.current = true;
    shown.current = t;
    setValue(t);
    refresh(t);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      client
        .invoke('trading/setThreshold', { threshold: t })
        .then(({ threshold }) => useDesk.setState({ threshold, signalCount: 0 }))
        .catch((e) => reportError('threshold', e))
        .finally(() => (dragging.current = false));
    }, 40);
  };

  return (
    <section data-panel="threshold" className="panel threshold-panel" aria-labelledby="thr-h">
      <h2 id="thr-h">
        Threshold
        <output className="thr-value right" data-testid="threshold-value">
          {fmt(value, 2)} <span className="dim">bps</span>
        </output>
      </h2>
      <input
        type="range"
        min={0}
        max={MAX}
        step={0.05}
        value={value}
        aria-label="Threshold"
        aria-valuetext={`${fmt(value, 2)} bps`}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      <div className="whatif" aria-label="What-if" role="group">
        <div className="dim small">
          If used over the last {whatIf ? Math.round(whatIf.windowMs / 60000) : '—'} min (
          {whatIf?.samples ?? 0} predictions):
        </div>
        {/* Each figure with its label, wrapping as a pair on a narrow panel. */}
        <dl className="kv">
          <div>
            <dt>Signals</dt>
            <dd data-testid="whatif-signals">{whatIf ? whatIf.signals : '—'}</dd>
          </div>
          <div>
            <dt>Trades</dt>
            <dd>{whatIf ? whatIf.trades : '—'}</dd>
          </div>
          <div>
            <dt>Hit rate</dt>
            <dd>{whatIf && whatIf.signals > 0 ? pct(whatIf.hitRate) : '—'}</dd>
          </div>
          <div>
            <dt>Net P&amp;L</dt>
            <dd className={sign(whatIf?.netPnl ?? 0)}>{whatIf ? signed(whatIf.netPnl) : '—'}</dd>
          </div>
          <div>
            <dt>Fees</dt>
            <dd>{whatIf ? fmt(whatIf.fees) : '—'}</dd>
          </div>
        </dl>
      </div>
    </section>
  );
}
