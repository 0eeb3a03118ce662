/**
 * Consumer group timeouts, for the services that read their own group's timeouts from the
 * environment. The one definition: @seqcast/kafka's DEFAULT_GROUP_TIMEOUTS and groupTimeoutProblems
 * (which the consumer enforces) are these, so the environment is validated, by the service and by
 * the deployment checks, with exactly the consumer's rule.
 */
export interface ConsumerGroupTimeouts {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
}

/** The broker's minimum session (`group.min.session.timeout.ms`, 6 s by default), a heartbeat a second. */
export const CONSUMER_GROUP_TIMEOUT_DEFAULTS: ConsumerGroupTimeouts = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 30_000,
};

/** Problems with a set of timeouts, one line each (empty when valid). */
export function consumerGroupTimeoutProblems(timeouts: ConsumerGroupTimeouts): string[] {
  const problems: string[] = [];
  if (timeouts.heartbeatIntervalMs * 3 > timeouts.sessionTimeoutMs) {
    problems.push(
      `heartbeat interval ${timeouts.heartbeatIntervalMs} ms must be at most a third of the session timeout ` +
        `${timeouts.sessionTimeoutMs} ms, or one lost heartbeat evicts a live member`,
    );
  }
  if (timeouts.rebalanceTimeoutMs < timeouts.sessionTimeoutMs) {
    problems.push(
      `rebalance timeout ${timeouts.rebalanceTimeoutMs} ms must be at least the session timeout ` +
        `${timeouts.sessionTimeoutMs} ms`,
    );
  }
  return problems;
}
