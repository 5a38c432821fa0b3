// Schema v220 (trading engineer): transaction-cost analysis per order. The mid of the book the decision saw when
// the order was sent, and the mid when it reached the exchange (after latency), beside avg_fill_price:
// shortfall = side × (avg_fill_price − decision_mid) = latency drift (arrival − decision) + spread & walk (fill − arrival).
// Nullable: orders of older runs have neither, and a mid is unknown while one side of the book is empty.
export const version = 220;
export const name = 'order_mids';
export const up = `
ALTER TABLE orders ADD COLUMN decision_mid REAL;
ALTER TABLE orders ADD COLUMN arrival_mid REAL;
`;
