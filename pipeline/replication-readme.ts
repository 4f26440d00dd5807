import { replicationOf, sentinelFactsOf } from '../config/replication';
import { TargetConfig } from '../config/types';

/**
 * The README section of the target's Sentinel sets (`services.<name>.replication.mode: sentinel`):
 * how many pods, the quorum, how clients find the master and what keeps the quorum. A managed cache
 * needs no section of its own: it is an external peer, listed with the allowed traffic.
 */
export function renderReplicationSection(config: TargetConfig): string | undefined {
  const sets = Object.values(config.services).filter((s) => replicationOf(s, 'sentinel'));
  if (!sets.length) return undefined;
  const rows = sets.map((service) => {
    const f = sentinelFactsOf(service);
    return `| ${service.name} | ${f.replicas}, one per zone (DoNotSchedule) | ${f.quorum} of ${f.replicas} | \`${f.masterName}\` | \`${f.clientService}:${f.sentinelPort}\` | \`${f.clientEnv.hosts}\`, \`${f.clientEnv.master}\` | maxUnavailable 1: ${f.replicas - 1} of ${f.replicas} stay |`;
  });
  return [
    '## Replication (Redis Sentinel)',
    '',
    'Each pod of the StatefulSet runs a redis server and a Sentinel; pod 0 is the first master, the',
    'others its replicas, and afterwards the Sentinels decide (start scripts in the ConfigMap',
    '`<service>-sentinel-scripts`). Servers and Sentinels announce their pod DNS names through the',
    'headless Service. Clients ask Sentinel for the master of the set, then talk to it; the',
    'NetworkPolicies admit both ports for every caller and between the pods.',
    '',
    '| service | pods | quorum | master set | Sentinel for clients | env of callers | PDB |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
