/**
 * The names of the alerts the platform generates, decided here once: the constructs that write the
 * rules (constructs/alert-rules.ts, constructs/slo-burn-rate.ts), the configuration check that keeps
 * custom alerts from taking one of them (config/monitoring-rules.ts), the runbook URLs and the tests
 * all read them from this table. Renaming one here renames it everywhere; an alert's name is also
 * the `{alert}` of `monitoring.runbookUrlPattern`, so a rename moves its runbook.
 */
export const ALERT = {
  /** A scrape target of the service is down. */
  targetDown: 'TargetDown',
  /** The service has no scrape target at all. */
  metricsAbsent: 'MetricsAbsent',
  /** Too many 5xx answers (warning and critical). */
  httpErrorRateHigh: 'HTTPErrorRateHigh',
  /** HTTP p95 latency above the service's objective. */
  httpLatencyHigh: 'HTTPLatencyHigh',
  /** Latency of a service that does not serve HTTP, from its configured metrics. */
  latencyHigh: 'LatencyHigh',
  podCrashLooping: 'PodCrashLooping',
  containerMemoryNearLimit: 'ContainerMemoryNearLimit',
  containerCpuThrottled: 'ContainerCPUThrottled',
  hpaAtMaxReplicas: 'HPAAtMaxReplicas',
  orderLatencyHigh: 'OrderLatencyHigh',
  orderRejectionRatioHigh: 'OrderRejectionRatioHigh',
  marketDataStale: 'MarketDataStale',
  drawdownHigh: 'DrawdownHigh',
  /** A Sentinel set has no master (constructs/replication-alerts.ts). */
  replicationMasterMissing: 'ReplicationMasterMissing',
  /** A Sentinel set has more than one master: a split brain. */
  replicationSplitBrain: 'ReplicationSplitBrain',
  /** Fewer Sentinels ready than the quorum: no failover is possible. */
  sentinelQuorumLost: 'SentinelQuorumLost',
  /** A replica has lost its link to the master. */
  replicationLinkDown: 'ReplicationLinkDown',
  /** A replica has not acknowledged the master's stream for too long. */
  replicationLagHigh: 'ReplicationLagHigh',
  /** The SLO's multi-window burn-rate alerts (one per window pair). */
  errorBudgetBurn: 'ErrorBudgetBurn',
} as const;

export type AlertName = (typeof ALERT)[keyof typeof ALERT];

/** Every generated alert name. */
export const ALERT_NAMES: ReadonlySet<string> = new Set(Object.values(ALERT));
