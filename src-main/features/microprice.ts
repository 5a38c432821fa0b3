// Microprice offset from the mid (Stoikov): the size-weighted fair price leans toward the thin side.
// microprice = (Pa·Vb + Pb·Va) / (Vb + Va);  offset_bps = (microprice - mid) / mid * 1e4, mid = (Pa + Pb) / 2

export function micropriceOffsetBps(bid: number, bidSize: number, ask: number, askSize: number): number {
  const depth = bidSize + askSize;
  const mid = (bid + ask) / 2;
  if (!(depth > 0)) return 0;
  const micro = (ask * bidSize + bid * askSize) / depth;
  return ((micro - mid) / mid) * 1e4;
}
