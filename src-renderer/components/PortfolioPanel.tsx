// Position, P&L and the live equity curve with drawdown, plus the trading metrics and where the P&L went
// (execution costs: shortfall against the decision mids, split into latency drift and spread + walk; fees).
import { useEffect, useState } from 'react';
import { fmt, duration, midDecimals, pct, sign, signed, size } from '../format.ts';
import { useDesk } from '../store/desk.ts';
import { equity } from '../store/series.ts';
import { EquityChart } from './EquityChart.tsx';
import { Figure } from './Figure.tsx';
import { HaltNote } from './HaltNote.tsx';
import { hitRateReason, lossRatioReason, sharpeReason } from '../../src-shared/reliability.ts';

/** bps with 3 decimals (a BTCUSDT half spread is under 0.01 bps); a value that rounds to nothing is 0.000, not -0.000. */
const bps = (x: number) => signed(Math.abs(x) < 5e-4 ? 0 : x, 3);
/** Quote currency, 2 decimals; a P&L that rounds to nothing is 0.00, not -0.00. */
const cents = (x: number | undefined) => (x !== undefined && Math.abs(x) < 5e-3 ? 0 : x);
const money = (x: number | undefined) => signed(cents(x));

const MORE_KEY = 'l2desk.pfDetails';

/** The user's choice for the round-trip and cost figures, or null while they have made none. */
function storedMore(): boolean | null {
  try {
    const v = localStorage.getItem(MORE_KEY);
    return v === null ? null : v === 'open';
  } catch {
    return null; // Storage refused (private mode): follow the window height.
  }
}

/** Without a choice, open where the window is tall enough for them and the curve and tape below. */
const initialMore = () => storedMore() ?? window.innerHeight >= 900;

export function PortfolioPanel() {
  const [more, setMore] = useState(initialMore);
  // Until the user chooses, follow the window height as it is resized.
  useEffect(() => {
    const onResize = () => {
      if (storedMore() === null) setMore(window.innerHeight >= 900);
    };
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);
  const toggle = (open: boolean) => {
    // The browser also fires toggle for the initial `open`: that is no choice of the user's, keep it unstored.
    if (open === more) return;
    setMore(open);
    try {
      localStorage.setItem(MORE_KEY, open ? 'open' : 'closed');
    } catch {
      // Not remembered, still toggled.
    }
  };
  const p = useDesk((s) => s.portfolio);
  const tickSize = useDesk((s) => s.book?.tickSize);
  const m = p?.metrics;
  const c = m?.costs;
  // Execution costs once something traded (older peers send none).
  const costs = c !== undefined && m !== undefined && m.trades > 0;
  // Net P&L after fees (equals the equity's change from the starting balance).
  const net = p ? p.realizedPnl + p.unrealizedPnl - p.fees : undefined;
  // Reliability verdicts shared with the CLI and the HTML report (older peers send no round-trip count: trades decide).
  const trips = m ? hitRateReason(m.roundTrips ?? (m.trades > 0 ? 1 : 0)) : 'no data yet';
  const sharpeWhy = m
    ? sharpeReason({
        sharpe: m.sharpe,
        returns: m.returns,
        spanMs: m.spanMs,
        sharpeReliable: m.sharpeReliable,
      })
    : null;
  return (
    <section data-panel="portfolio" className="panel portfolio-panel" aria-labelledby="pf-h">
      <h2 id="pf-h">
        Position &amp; P&amp;L <span className="dim">(paper)</span>
      </h2>
      {/* The figures watched all day, large; the rest below them, small. */}
      <dl className="stats" aria-label="Key figures">
        <div>
          <dt>Equity</dt>
          <dd className="strong" title={fmt(p?.equity)}>
            {fmt(p?.equity)}
          </dd>
        </div>
        <div>
          <dt title="realized + unrealized − fees">Net P&amp;L</dt>
          <dd className={sign(cents(net) ?? 0)} data-testid="net-pnl" title={money(net)}>
            {money(net)}
          </dd>
        </div>
        <div>
          <dt>Position</dt>
          <dd
            className={sign(p?.position ?? 0)}
            data-testid="position"
            title={p ? size(p.position) : undefined}
          >
            {p ? size(p.position) : '—'}
          </dd>
        </div>
        <div>
          <dt>Drawdown</dt>
          <dd className={p && p.drawdown > 0 ? 'neg' : ''} title={pct(p?.drawdown, 2)}>
            {pct(p?.drawdown, 2)}
          </dd>
        </div>
        <div>
          <dt title="annualised Sharpe ratio of the equity curve; shown once it rests on at least 30 returns and a day of equity">
            Sharpe
          </dt>
          {m && sharpeWhy !== null ? (
            <dd
              data-testid="sharpe"
              className="dim"
              title={`Not shown: ${sharpeWhy}. Computed on this run: ${fmt(m.sharpe)}`}
            >
              — <span className="why">too short</span>
            </dd>
          ) : (
            <dd data-testid="sharpe" title={fmt(m?.sharpe)}>
              {fmt(m?.sharpe)}
            </dd>
          )}
        </div>
        <div>
          <dt>Return</dt>
          <dd className={sign(m?.totalReturn ?? 0)} title={pct(m?.totalReturn, 3)}>
            {pct(m?.totalReturn, 3)}
          </dd>
        </div>
      </dl>
      <dl className="kv cols2 details-kv" aria-label="Position details">
        <dt>Entry</dt>
        <dd>{p && p.position !== 0 ? fmt(p.entryPrice, midDecimals(tickSize)) : '—'}</dd>
        <dt>Balance</dt>
        <dd>{fmt(p?.balance)}</dd>
        <dt>Unrealized</dt>
        <dd className={sign(cents(p?.unrealizedPnl) ?? 0)}>{money(p?.unrealizedPnl)}</dd>
        <dt>Realized</dt>
        <dd className={sign(cents(p?.realizedPnl) ?? 0)}>{money(p?.realizedPnl)}</dd>
        <dt>Fees</dt>
        <dd>{fmt(p?.fees)}</dd>
        <dt>Max DD</dt>
        <dd>{pct(m?.maxDrawdown, 2)}</dd>
        <dt>Trades</dt>
        <dd>{m ? m.trades : '—'}</dd>
        <dt>Turnover</dt>
        <dd>{fmt(m?.turnover, 0)}</dd>
        <dt title="share of round trips that won, after fees (net) and before fees (gross); — before the first round trip">
          Hit net/gross
        </dt>
        <dd>
          <Figure reason={trips} testId="hit-rate">
            {m ? `${pct(m.hitRate, 0)} / ${pct(m.grossHitRate, 0)}` : ''}
          </Figure>
        </dd>
        <dt>Avg hold</dt>
        <dd>
          <Figure reason={trips}>{m ? duration(m.avgHoldingMs) : ''}</Figure>
        </dd>
      </dl>
      <details className="pf-more" open={more} onToggle={(e) => toggle(e.currentTarget.open)}>
        <summary>Round trips &amp; execution costs</summary>
        <dl className="kv details-kv wide-kv" aria-label="Round trips">
          <dt title="round trips: sum of wins / |sum of losses|, after fees (— while none lost)">
            Profit factor
          </dt>
          <dd>
            <Figure
              reason={
                m ? lossRatioReason(m.profitFactor, m.roundTrips ?? (m.trades > 0 ? 1 : 0)) : 'no data yet'
              }
            >
              {fmt(m?.profitFactor)}
            </Figure>
          </dd>
          <dt title="mean net P&L per round trip after fees, and in bps of the notional the trips put on">
            Expectancy
          </dt>
          <dd data-testid="expectancy" className={sign(m?.expectancy ?? 0)}>
            {m?.expectancy !== undefined && m.trades > 0
              ? `${signed(m.expectancy)} (${signed(m.expectancyBps, 1)} bps)`
              : '—'}
          </dd>
        </dl>
        <dl className="kv details-kv wide-kv" aria-label="Execution costs">
          <dt title="implementation shortfall = side × (fill − decision mid), bps of the decision notional (a cost is positive) = latency drift side × (arrival − decision mid) + spread and book walk side × (fill − arrival mid), negative on passive fills (spread earned)">
            Shortfall
          </dt>
          <dd data-testid="shortfall">
            {costs
              ? `${bps(c.shortfallBps)} bps (lat ${bps(c.latencyBps)}, spr ${bps(c.spreadWalkBps)})`
              : '—'}
          </dd>
          <dt title="fees in bps of the decision notional">Fee cost</dt>
          <dd>{costs ? `${fmt(c.feesBps, 3)} bps` : '—'}</dd>
          <dt title="gross alpha (the P&L had every fill traded at its decision mid) − spread+walk − latency − fees = net P&L">
            Alpha → net
          </dt>
          <dd data-testid="alpha-net">
            {costs ? (
              <>
                <span className={sign(c.grossAlpha)}>{signed(c.grossAlpha)}</span> →{' '}
                <span className={sign(c.netPnl)}>{signed(c.netPnl)}</span>
              </>
            ) : (
              '—'
            )}
          </dd>
        </dl>
      </details>
      <HaltNote halts={p?.halts} />
      <div className="equity-box">
        <EquityChart source={equity} halts={p?.halts} label="Equity curve" />
      </div>
    </section>
  );
}
