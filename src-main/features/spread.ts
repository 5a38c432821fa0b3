// Quoted spread in basis points of the mid: a liquidity / uncertainty state variable.
// spread_bps = (Pa - Pb) / ((Pa + Pb) / 2) * 1e4

export function spreadBps(bid: number, ask: number): number {
  const mid = (bid + ask) / 2;
  return ((ask - bid) / mid) * 1e4;
}
