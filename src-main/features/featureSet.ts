// The versioned, ordered feature list: models record it, and the predictor refuses a model whose list differs.
// Bump `version` whenever a formula, window or the order changes.

export const FEATURE_SET = {
  version: 'l2f-1',
  names: [
    'spread_bps',
    'microprice_bps',
    'imb_l1',
    'imb_l5',
    'imb_l10',
    'imb_weighted',
    'ofi_1s',
    'ofi_5s',
    'ofi_30s',
    'tfi_5s',
    'tfi_30s',
    'trade_rate_5s',
    'trade_rate_30s',
    'trade_vol_5s',
    'trade_vol_30s',
    'rv_5s',
    'rv_30s',
    'depth_slope_bid',
    'depth_slope_ask',
    'ret_1s',
    'ret_5s',
    'ret_30s',
    'time_since_trade_s',
  ],
} as const satisfies { version: string; names: readonly string[] };

export type FeatureName = (typeof FEATURE_SET.names)[number];

export const N_FEATURES = FEATURE_SET.names.length;

/** Windows (ms) behind the names above; the longest is the warm-up and the dataset's feature look-back. */
export const OFI_WINDOWS_MS = [1_000, 5_000, 30_000] as const;
export const TRADE_WINDOWS_MS = [5_000, 30_000] as const;
export const RV_WINDOWS_MS = [5_000, 30_000] as const;
export const RETURN_LOOKBACKS_MS = [1_000, 5_000, 30_000] as const;
export const TIME_SINCE_TRADE_CAP_S = 60;
export const MAX_LOOKBACK_MS = 30_000;
/** Levels per side the features read. */
export const BOOK_LEVELS = 10;

export function featureIndex(name: FeatureName): number {
  return (FEATURE_SET.names as readonly string[]).indexOf(name);
}
