// Exchange fees as a small interface (hftbacktest style): the broker asks for the fee of each fill.
// Default: Bybit linear perpetuals, non-VIP: taker 0.055 %, maker 0.02 % of notional.
import type { Category } from '../../src-shared/market.ts';
import type { Liquidity } from './types.ts';

export interface FeeModel {
  /** Fee in quote currency for a fill of `qty` at `price`; negative is a rebate. */
  fee(price: number, qty: number, liquidity: Liquidity): number;
}

export const BYBIT_LINEAR_FEES = { taker: 0.00055, maker: 0.0002 } as const;

/** The fee rates of a symbol's category in the trading config (spot and linear differ at Bybit). */
export function categoryFees(
  t: { taker_fee: number; maker_fee: number; spot_taker_fee: number; spot_maker_fee: number },
  category: Category,
): { taker: number; maker: number } {
  return category === 'spot'
    ? { taker: t.spot_taker_fee, maker: t.spot_maker_fee }
    : { taker: t.taker_fee, maker: t.maker_fee };
}

/** A fixed rate of notional per liquidity side. */
export class NotionalFees implements FeeModel {
  constructor(
    readonly taker: number = BYBIT_LINEAR_FEES.taker,
    readonly maker: number = BYBIT_LINEAR_FEES.maker,
  ) {}

  fee(price: number, qty: number, liquidity: Liquidity): number {
    return price * qty * (liquidity === 'taker' ? this.taker : this.maker);
  }
}
