// Order book ladder: top 20 asks (worst at the top) over top 20 bids, with size bars on cumulative depth,
// spread and mid between them. Re-renders at most at the coalesced book rate (~20 Hz).
import { memo } from 'react';
import type { BookView } from '../../src-shared/ipc.ts';
import type { Level } from '../../src-shared/market.ts';
import { decimalsOf, fmt, size } from '../format.ts';
import { useDesk } from '../store/desk.ts';

const ROWS = 20;

function cumulative(levels: readonly Level[]): number[] {
  let c = 0;
  return levels.slice(0, ROWS).map(([, s]) => (c += s));
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

function Ladder({ book }: { book: BookView }) {
  const dp = decimalsOf(book.tickSize);
  const asks = book.asks.slice(0, ROWS);
  const bids = book.bids.slice(0, ROWS);
  const askCum = cumulative(asks);
  const bidCum = cumulative(bids);
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
          <td colSpan={2} className="num dim">
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
  return (
    <section className="panel book-panel" aria-labelledby="book-h">
      <h2 id="book-h">
        Order book <span className="dim">{book ? `${book.symbol} · tick ${book.tickSize}` : ''}</span>
        {book && !book.valid && <span className="badge warn">resyncing</span>}
      </h2>
      {book && (book.bids.length > 0 || book.asks.length > 0) ? (
        <Ladder book={book} />
      ) : (
        <div className="empty">Waiting for the order book…</div>
      )}
    </section>
  );
});
