// Reconnect delays: exponential from `initialMs`, capped at `maxMs`, with a random share `jitter` taken off
// so that many clients dropped together do not reconnect in lockstep.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Fraction (0..1) of the delay drawn at random. */
  jitter: number;
}

/** Delay before reconnect attempt `attempt` (0 = first retry), in [base·(1-jitter), base], base = min(max, initial·2^attempt). */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const j = Math.min(1, Math.max(0, policy.jitter));
  return base * (1 - j * random());
}
