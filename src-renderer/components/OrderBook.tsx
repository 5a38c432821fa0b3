// Order book ladder: the top asks (worst at the top) over the top bids, as many levels a side as the panel has room
// for (up to 20), with size bars on cumulative depth, spread and mid between them. Re-renders at most at the
// coalesced book rate (~20 Hz).
import { memo, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import type { BookView } from '../../src-shared/ipc.ts';
import type { Level } from '../../src-shared/market.ts';
import { decimalsOf, fmt, size } from '../format.ts';
import { useDesk } from '../store/desk.ts';

const MAX_ROWS = 20;
/** Fewer levels than this and the ladder says little: the panel would rather scroll. */
const MIN_ROWS = 5;

function cumulative(levels: readonly Level[], rows: number): number[] {
  let c = 0;
  return levels.slice(0, rows).map(([, s]) => (c += s));
}

/**
 * Levels a side that fit the panel below its heading, the column heads and the spread row (measured from the rows
 * drawn, so a denser font on short screens gives more levels): the ladder never runs past the panel's bottom.
 */
function useFittedRows(panel: RefObject<HTMLElement | null>, shown: boolean): number {
  const [rows, setRows] = useState(MAX_ROWS);
  useLayoutEffect(() => {
    const el = panel.current;
    if (!el || !shown) return;
    const fit = () => {
      const head = el.querySelector('table.book thead');
      const spread = el.querySelector('table.book tr.spread');
      const row = el.querySelector('table.book tr[data-side]');
      if (!head || !spread || !row) return;
      const cs = getComputedStyle(el);
      const bottom =
        el.getBoundingClientRect().bottom - parseFloat(cs.paddingBottom) - parseFloat(cs.borderBottomWidth);
      const room = bottom - head.getBoundingClientRect().bottom - spread.getBoundingClientRect().height;
      const perSide = Math.floor((room + 0.5) / row.getBoundingClientRect().height / 2);
      setRows(Math.max(MIN_ROWS, Math.min(MAX_ROWS, perSide)));
    };
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(el);
    return () => ro.disconnect();
  }, [panel, shown]);
  return rows;
}

function Row({
  side,
  price,
  sz,
  cum,
  max,
  dp,
}: {
  side: 'bid' | 'ask';
  price: number;
  sz: number;
  cum: number;
  max: number;
  dp: number;
}) {
  const w = max > 0 ? Math.min(100, (cum / max) * 100) : 0;
  const color = side === 'bid' ? 'var(--bid-bar)' : 'var(--ask-bar)';
  return (
    <tr
      className={side}
      data-side={side}
      data-price={price}
      style={{ background: `linear-gradient(to left, ${color} ${w}%, transparent ${w}%)` }}
    >
      <td className="px">{fmt(price, dp)}</td>
      <td className="num">{size(sz)}</td>
      <td className="num dim">{size(cum)}</td>
    </tr>
  );
}

function Ladder({ book, rows }: { book: BookView; rows: number }) {
  const dp = decimalsOf(book.tickSize);
  const asks = book.asks.slice(0, rows);
  const bids = book.bids.slice(0, rows);
  const askCum = cumulative(asks, rows);
  const bidCum = cumulative(bids, rows);
  const max = Math.max(askCum[askCum.length - 1] ?? 0, bidCum[bidCum.length - 1] ?? 0);
  const spreadBps = book.mid > 0 ? (book.spread / book.mid) * 1e4 : NaN;
  return (
    <table className="book" aria-label="Order book" data-recv-ts={book.recvTs}>
      <thead>
        <tr>
          <th scope="col">Price</th>
          <th scope="col">Size</th>
          <th scope="col">Total</th>
        </tr>
      </thead>
      <tbody>
        {asks
          .map(([p, s], i) => (
            <Row key={`a${i}`} side="ask" price={p} sz={s} cum={askCum[i]} max={max} dp={dp} />
          ))
          .reverse()}
        <tr className="spread" aria-label="Spread and mid">
          <td className="px mid" data-mid={book.mid}>
            {fmt(book.mid, dp + 1)}
          </td>
          <td
            colSpan={2}
            className="num dim"
            title={`spread ${fmt(book.spread, dp)} · ${fmt(spreadBps, 2)} bps`}
          >
            spread {fmt(book.spread, dp)} · {fmt(spreadBps, 2)} bps
          </td>
        </tr>
        {bids.map(([p, s], i) => (
          <Row key={`b${i}`} side="bid" price={p} sz={s} cum={bidCum[i]} max={max} dp={dp} />
        ))}
      </tbody>
    </table>
  );
}

export const OrderBook = memo(function OrderBook() {
  const book = useDesk((s) => s.book);
  const panel = useRef<HTMLElement>(null);
  const shown = book !== null && (book.bids.length > 0 || book.asks.length > 0);
  const rows = useFittedRows(panel, shown);
  return (
    <section ref={panel} data-panel="order-book" className="panel book-panel" aria-labelledby="book-h">
      <h2 id="book-h">
        Order book <span className="dim">{book ? `${book.symbol} · tick ${book.tickSize}` : ''}</span>
        {book && !book.valid && <span className="badge warn">resyncing</span>}
      </h2>
      {book && shown ? (
        <Ladder book={book} rows={rows} />
      ) : (
        <div className="empty">Waiting for the order book…</div>
      )}
    </section>
  );
});
