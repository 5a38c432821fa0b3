// Order-flow imbalance (Cont, Kukanov & Stoikov 2014): the net pressure of each best-quote change.
// e_n = 1{Pb_n >= Pb_{n-1}}·qb_n - 1{Pb_n <= Pb_{n-1}}·qb_{n-1} - 1{Pa_n <= Pa_{n-1}}·qa_n + 1{Pa_n >= Pa_{n-1}}·qa_{n-1}
// OFI_W = Σ_{t-W < t_n <= t} e_n / avg depth_W, over the book updates n that changed a best price or size;
// avg depth_W = mean over those same updates of (qb_n + qa_n) / 2, which makes windows and instruments
// comparable (OFI in units of "typical touch sizes").

export function ofiEvent(
  prevBid: number,
  prevBidSize: number,
  prevAsk: number,
  prevAskSize: number,
  bid: number,
  bidSize: number,
  ask: number,
  askSize: number,
): number {
  let e = 0;
  if (bid >= prevBid) e += bidSize;
  if (bid <= prevBid) e -= prevBidSize;
  if (ask <= prevAsk) e -= askSize;
  if (ask >= prevAsk) e += prevAskSize;
  return e;
}

/** Σe over a window divided by the window's mean touch depth; 0 for an empty window. */
export function normalisedOfi(sumE: number, sumDepth: number, count: number): number {
  if (count === 0 || !(sumDepth > 0)) return 0;
  return sumE / (sumDepth / count);
}
