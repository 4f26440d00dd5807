import { ALERT } from '../core/alert-names';
import { matchers, num } from '../core/promql';
import type { AlertSpec, MonitoringScope } from './alert-rules';

/** What the replication alerts of a Sentinel set need to know of it. */
export interface SentinelScope {
  /** Pods of the set. */
  readonly replicas: number;
  /** Sentinels that must agree before a failover. */
  readonly quorum: number;
  /** The Sentinel container of each pod (kube-state-metrics reports its readiness). */
  readonly sentinelContainer: string;
  /** The StatefulSet's name: its pods are `<name>-<ordinal>`. */
  readonly workloadName: string;
}

/** A replica whose master stops answering for this long has lost its link for good, not for one failover. */
const LINK_DOWN_FOR = '2m';
/**
 * A replica acknowledges the master's stream every second: 10s without an acknowledgement is a
 * replica that stopped applying writes (a full sync of a 10Gi dataset takes longer, hence the 5m).
 */
const LAG_SECONDS = 10;
const LAG_FOR = '5m';
/** Sentinel fails over within seconds; a set without a master (or with two) for 1m did not recover on its own. */
const MASTER_FOR = '1m';

/**
 * The alerts of a Redis Sentinel set, from redis_exporter (the service's exporter sidecar scrapes
 * its own pod's server) and kube-state-metrics: no master, two masters, fewer Sentinels ready than
 * the quorum (no failover possible), a replica cut off from its master, a replica lagging.
 */
export function replicationAlerts(scope: MonitoringScope, set: SentinelScope): AlertSpec[] {
  const { app, namespace } = scope;
  const name = scope.service.name;
  const master = `redis_instance_info{${app},role="master"}`;
  const sentinels = matchers({ namespace, container: set.sentinelContainer });
  return [
    {
      alert: ALERT.replicationMasterMissing,
      expr: `absent(${master})`,
      for: MASTER_FOR,
      severity: 'critical',
      summary: `${name} has no master`,
      description: `None of the ${set.replicas} ${name} servers in namespace ${namespace} reports role master for 1 minute: writes fail until Sentinel elects one (it needs ${set.quorum} Sentinels).`,
      reason:
        'Sentinel elects a new master within seconds of down-after; a set still without one after 1m will not recover on its own',
    },
    {
      alert: ALERT.replicationSplitBrain,
      expr: `count by (namespace, job) (${master}) > 1`,
      for: MASTER_FOR,
      severity: 'critical',
      summary: `${name} has {{ $value }} masters`,
      description: `{{ $value }} ${name} servers in namespace ${namespace} report role master for 1 minute: clients may write to different masters, and the writes to all but one are lost when Sentinel reconciles them.`,
      reason:
        'a failover briefly shows two masters until the old one is turned into a replica; 1m is far longer than that',
    },
    {
      alert: ALERT.sentinelQuorumLost,
      expr: `sum by (namespace) (kube_pod_container_status_ready{${sentinels},pod=~"${set.workloadName}-[0-9]+"}) < ${num(set.quorum)}`,
      for: MASTER_FOR,
      severity: 'critical',
      summary: `${name} has fewer Sentinels ready than its quorum of ${set.quorum}`,
      description: `Only {{ $value }} of the ${set.replicas} ${name} Sentinels in namespace ${namespace} are ready, fewer than the quorum of ${set.quorum}: if the master fails now, no failover happens.`,
      reason: `the quorum (${set.quorum} of ${set.replicas}) is the number of votes a failover needs; below it for 1m is not a Sentinel restarting`,
    },
    {
      alert: ALERT.replicationLinkDown,
      expr: `redis_master_link_up{${app}} == 0`,
      for: LINK_DOWN_FOR,
      severity: 'warning',
      summary: `${name} replica {{ $labels.pod }} has lost its master`,
      description: `The ${name} replica {{ $labels.pod }} in namespace ${namespace} has had no link to its master for 2 minutes; it serves stale data and cannot be promoted safely.`,
      reason:
        'a failover or a master restart breaks the link for seconds; 2m is a replica that cannot reach (or authenticate to) the master',
    },
    {
      alert: ALERT.replicationLagHigh,
      expr: `max by (namespace, job, slave_ip) (redis_connected_slave_lag_seconds{${app}}) > ${num(LAG_SECONDS)}`,
      for: LAG_FOR,
      severity: 'warning',
      summary: `${name} replica {{ $labels.slave_ip }} lags its master`,
      description: `The ${name} master in namespace ${namespace} has had no acknowledgement from replica {{ $labels.slave_ip }} for {{ $value | humanizeDuration }}, for 5 minutes: a failover to it would lose those writes.`,
      reason: `replicas acknowledge every second, so ${LAG_SECONDS}s without one is a stalled replica; 5m lets a full sync finish`,
    },
  ];
}
