// Realized volatility of mid log returns over a window, in basis points (not annualised):
// rv_W = sqrt( Σ_{t-W < t_n <= t} r_n² ),  r_n = ln(mid_n / mid_{n-1}) * 1e4 between consecutive valid books.

export function realizedVolBps(sumSquaredReturnsBps: number): number {
  return sumSquaredReturnsBps > 0 ? Math.sqrt(sumSquaredReturnsBps) : 0;
}
