// Trade-flow imbalance and trade intensity over a window of public trades (aggressor side from Bybit `S`).
// tfi_W = (V_buy - V_sell) / (V_buy + V_sell) in [-1, 1] (0 without trades);
// trade_rate_W = trades / W (per second); trade_vol_W = (V_buy + V_sell) / W (base units per second)

export function tradeFlowImbalance(buyVolume: number, sellVolume: number): number {
  const v = buyVolume + sellVolume;
  return v > 0 ? (buyVolume - sellVolume) / v : 0;
}

export function perSecond(amount: number, windowMs: number): number {
  return amount / (windowMs / 1000);
}
