// Mid-price log return in basis points, over a look-back: ret_L = ln(mid_t / mid_{t-L}) * 1e4,
// where mid_{t-L} is the mid as of t-L (the last mid set at or before t-L).

export function logReturnBps(from: number, to: number): number {
  return Math.log(to / from) * 1e4;
}
