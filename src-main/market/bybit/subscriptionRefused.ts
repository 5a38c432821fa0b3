// A subscription the exchange refused (an unknown symbol, a symbol of the other category): no retry can fix it,
// so the feed stops at once with an error that names the symbol and category and says what to do.
import type { Category } from '../../../src-shared/market.ts';

/** Where Bybit lists the symbols it serves, per category. */
export function instrumentsListUrl(category: Category): string {
  return `https://api.bybit.com/v5/market/instruments-info?category=${category}`;
}

export class SubscriptionRefusedError extends Error {
  override name = 'SubscriptionRefusedError';
  constructor(
    /** The refused symbols (one or more). */
    readonly symbols: readonly string[],
    readonly category: Category,
    /** The exchange's own words (ret_msg), as received. */
    readonly retMsg: string,
  ) {
    const which = symbols.length === 1 ? symbols[0] : symbols.join(', ');
    super(
      `the exchange refused the subscription to ${which} on ${category} (${retMsg || 'no reason given'}): ` +
        `check the symbol and --category (linear or spot); Bybit lists symbols at ${instrumentsListUrl(category)}`,
    );
  }
}

const TOPIC_IN_TEXT = /\b(?:orderbook\.\d+\.[A-Z0-9]+|publicTrade\.[A-Z0-9]+)\b/g;

/** The topics an error text names (Bybit: "error:handler not found,topic:orderbook.50.X", "Invalid symbol :[…]"). */
export function topicsNamedIn(retMsg: string): string[] {
  return [...new Set(retMsg.match(TOPIC_IN_TEXT) ?? [])];
}

/** The symbol of a v5 public topic (`orderbook.50.BTCUSDT`, `publicTrade.BTCUSDT`). */
export function symbolOfTopic(topic: string): string {
  return topic.slice(topic.lastIndexOf('.') + 1);
}

/**
 * A failed subscribe that a retry cannot fix. "already subscribed" (a resubscription racing its own reply) is not
 * one: the topic is live.
 */
export function isRefusal(retMsg: string): boolean {
  return !/already subscribed/i.test(retMsg);
}
