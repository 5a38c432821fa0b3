// Depth slope per side: the OLS slope of cumulative size against distance from the mid (bps) over the
// best n levels — how fast liquidity builds away from the touch (a steep book resists price moves).
// x_i = |P_i - mid| / mid * 1e4,  y_i = Σ_{k<=i} V_k,  slope = Σ(x_i - x̄)(y_i - ȳ) / Σ(x_i - x̄)²  (0 if < 2 levels)

export function depthSlope(prices: Float64Array, sizes: Float64Array, n: number, mid: number): number {
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  let cum = 0;
  for (let i = 0; i < n; i++) {
    cum += sizes[i];
    sx += (Math.abs(prices[i] - mid) / mid) * 1e4;
    sy += cum;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  cum = 0;
  for (let i = 0; i < n; i++) {
    cum += sizes[i];
    const dx = (Math.abs(prices[i] - mid) / mid) * 1e4 - mx;
    sxy += dx * (cum - my);
    sxx += dx * dx;
  }
  return sxx > 0 ? sxy / sxx : 0;
}
