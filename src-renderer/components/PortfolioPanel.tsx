// Position, P&L and the live equity curve with drawdown, plus the trading metrics.
import { fmt, duration, pct, sign, signed, size } from '../format.ts';
import { useDesk } from '../store/desk.ts';
import { equity } from '../store/series.ts';
import { EquityChart } from './EquityChart.tsx';

export function PortfolioPanel() {
  const p = useDesk((s) => s.portfolio);
  const m = p?.metrics;
  return (
    <section className="panel portfolio-panel" aria-labelledby="pf-h">
      <h2 id="pf-h">
        Position &amp; P&amp;L <span className="dim">(paper)</span>
      </h2>
      <dl className="kv cols2">
        <dt>Position</dt>
        <dd className={sign(p?.position ?? 0)} data-testid="position">
          {p ? size(p.position) : '—'}
        </dd>
        <dt>Entry</dt>
        <dd>{p && p.position !== 0 ? fmt(p.entryPrice, 1) : '—'}</dd>
        <dt>Equity</dt>
        <dd className="strong">{fmt(p?.equity)}</dd>
        <dt>Balance</dt>
        <dd>{fmt(p?.balance)}</dd>
        <dt>Unrealized</dt>
        <dd className={sign(p?.unrealizedPnl ?? 0)}>{signed(p?.unrealizedPnl)}</dd>
        <dt>Realized</dt>
        <dd className={sign(p?.realizedPnl ?? 0)}>{signed(p?.realizedPnl)}</dd>
        <dt>Fees</dt>
        <dd>{fmt(p?.fees)}</dd>
        <dt>Drawdown</dt>
        <dd className={p && p.drawdown > 0 ? 'neg' : ''}>{pct(p?.drawdown, 2)}</dd>
        <dt>Return</dt>
        <dd className={sign(m?.totalReturn ?? 0)}>{pct(m?.totalReturn, 3)}</dd>
        <dt>Sharpe</dt>
        <dd>{fmt(m?.sharpe)}</dd>
        <dt>Max DD</dt>
        <dd>{pct(m?.maxDrawdown, 2)}</dd>
        <dt title="round trips won after fees (before fees)">Hit rate</dt>
        <dd>{m && m.trades > 0 ? `${pct(m.hitRate)} (${pct(m.grossHitRate)})` : '—'}</dd>
        <dt>Trades</dt>
        <dd>{m ? m.trades : '—'}</dd>
        <dt>Turnover</dt>
        <dd>{fmt(m?.turnover, 0)}</dd>
        <dt>Avg hold</dt>
        <dd>{m && m.trades > 0 ? duration(m.avgHoldingMs) : '—'}</dd>
      </dl>
      <div className="equity-box">
        <EquityChart source={equity} label="Equity curve" />
      </div>
    </section>
  );
}
