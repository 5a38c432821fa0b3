// Seconds since the last public trade, capped: a quiet tape is informative, but "never" and "a minute"
// mean the same to the model. time_since_trade_s = min((t - t_last) / 1000, cap); cap when no trade seen.

export function timeSinceTradeS(now: number, lastTradeTs: number, capS: number): number {
  if (!Number.isFinite(lastTradeTs)) return capS;
  const s = (now - lastTradeTs) / 1000;
  return s < 0 ? 0 : s > capS ? capS : s;
}
