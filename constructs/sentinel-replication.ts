import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { PortConfig } from '../config/types';
import { ServiceEndpoints } from './service-endpoints';

/** The ConfigMap of a Sentinel set's start scripts. */
export const sentinelScriptsNameOf = (service: { readonly name: string }) => `${service.name}-sentinel-scripts`;

export interface SentinelReplicationProps {
  /** The service (its StatefulSet, pods `<name>-0` … `<name>-<replicas-1>`). */
  readonly name: string;
  /** Labels of the ConfigMap and the client Service. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels selecting the set's pods. */
  readonly selector: Record<string, string>;
  /** The namespace the set runs in (the pods' DNS names are `<pod>.<headlessService>.<namespace>.svc.<clusterDomain>`). */
  readonly namespace: string;
  /** The headless Service that governs the StatefulSet and gives each pod its DNS name. */
  readonly headlessService: string;
  /** The Service clients ask Sentinel through (ClusterIP, Sentinel's port only, ready pods only). */
  readonly clientService: string;
  /** Pods of the set (redis server and Sentinel in each); at least 3. */
  readonly replicas: number;
  /** Sentinels that must agree the master is down; a majority of `replicas`. */
  readonly quorum: number;
  /** The name of the master set clients ask Sentinel for. */
  readonly masterName: string;
  /** The port redis-server serves (and replicas replicate) on. */
  readonly dataPort: PortConfig;
  /** Sentinel's port. */
  readonly sentinelPort: number;
  /** Seconds without an answer before a Sentinel deems the master down. @default 5 */
  readonly downAfterSeconds?: number;
  /**
   * The env variable that holds the password, in every container of the pod (from the service's
   * Secret): redis-server requires it, replicas present it to the master, Sentinel to both, and
   * Sentinel requires it of its clients. @default - no authentication
   */
  readonly authEnv?: string;
  /** @default 'cluster.local' */
  readonly clusterDomain?: string;
}

/**
 * Redis replication with Sentinel, the layout of the Bitnami redis chart with `sentinel.enabled`:
 * one StatefulSet whose every pod runs a redis server and a Sentinel beside it (this construct
 * writes their start scripts and the Service clients ask Sentinel through; the workload, with the
 * `sentinel` sidecar, the PDB and the NetworkPolicy are the service's own, config/replication.ts).
 * A Sentinel beside each server keeps votes and servers in the same failure domains, one pod per
 * zone, so that losing a zone loses one server and one vote, never the quorum.
 *
 * Who is master: the Sentinels know once the set has run; a starting server or Sentinel asks them
 * first (through the client Service, ready pods only). When none answers (the set's first start,
 * or every pod restarted at once) the pod with ordinal 0 is the master, the others its replicas:
 * one deterministic choice, never a race. Servers and Sentinels announce their pod's DNS name
 * (`resolve-hostnames`, `announce-hostnames`), so a master's address survives a pod's new IP.
 */
export class SentinelReplication extends Construct {
  /** The scripts' ConfigMap, mounted in every container of the pod. */
  readonly scriptsConfigMap: string;

  constructor(scope: Construct, id: string, props: SentinelReplicationProps) {
    super(scope, id);
    if (props.replicas < 3)
      throw new Error(
        `SentinelReplication "${props.name}": replicas (${props.replicas}) must be at least 3: with fewer, losing one pod loses the Sentinels' majority`,
      );
    const majority = Math.floor(props.replicas / 2) + 1;
    if (props.quorum < majority || props.quorum > props.replicas)
      throw new Error(
        `SentinelReplication "${props.name}": quorum (${props.quorum}) must be a majority of the ${props.replicas} Sentinels: ${majority} to ${props.replicas}`,
      );
    this.scriptsConfigMap = sentinelScriptsNameOf(props);
    new k8s.KubeConfigMap(this, 'scripts', {
      metadata: { name: this.scriptsConfigMap, labels: props.labels },
      data: sentinelScripts(props),
    });
    new ServiceEndpoints(this, 'client-service', {
      name: props.clientService,
      labels: props.labels,
      selector: props.selector,
      ports: [{ name: 'sentinel', port: props.sentinelPort }],
    });
  }
}

/** The start scripts of a redis server and of its Sentinel, by file name. */
export function sentinelScripts(props: SentinelReplicationProps): Record<string, string> {
  const domain = `${props.headlessService}.${props.namespace}.svc.${props.clusterDomain ?? 'cluster.local'}`;
  const values: Record<string, string> = {
    DOMAIN: domain,
    FIRST: `${props.name}-0.${domain}`,
    CLIENT: `${props.clientService}.${props.namespace}.svc.${props.clusterDomain ?? 'cluster.local'}`,
    MASTER_NAME: props.masterName,
    QUORUM: String(props.quorum),
    PORT: String(props.dataPort.port),
    SENTINEL_PORT: String(props.sentinelPort),
    DOWN_AFTER_MS: String((props.downAfterSeconds ?? 5) * 1000),
    AUTH: props.authEnv ? `"\${${props.authEnv}}"` : '""',
  };
  const fill = (text: string) => text.replace(/@([A-Z_]+)@/g, (_, key: string) => values[key]);
  return { 'start-redis.sh': fill(START_REDIS), 'start-sentinel.sh': fill(START_SENTINEL) };
}

// Common to both: the pod's own DNS name, the password (if any) for redis-cli, and the master as
// the Sentinels know it, else the first pod. Written for POSIX sh (the official image's /bin/sh).
const FIND_MASTER = `set -eu
self="\${HOSTNAME:-$(hostname)}.@DOMAIN@"
auth=@AUTH@
export REDISCLI_AUTH="$auth"
# the Sentinels know the master once the set has run: ask them (any ready one answers)
master="$(timeout 5 redis-cli -h @CLIENT@ -p @SENTINEL_PORT@ --raw sentinel get-master-addr-by-name @MASTER_NAME@ 2>/dev/null | head -n 1 || true)"
# none answers (the first start, or every pod restarted): the pod with ordinal 0 is the master
if [ -z "$master" ]; then master="@FIRST@"; fi
echo "master of @MASTER_NAME@: $master (this pod: $self)"
`;

const START_REDIS = `#!/bin/sh
# Starts redis-server (the command line given as arguments) as the master of @MASTER_NAME@ or as a
# replica of it (constructs/sentinel-replication.ts).
${FIND_MASTER}
set -- "$@" --port @PORT@ --replica-announce-ip "$self" --replica-announce-port @PORT@
if [ -n "$auth" ]; then set -- "$@" --masterauth "$auth"; fi
if [ "$master" != "$self" ]; then set -- "$@" --replicaof "$master" @PORT@; fi
exec "$@"
`;

const START_SENTINEL = `#!/bin/sh
# Starts the Sentinel of this pod, watching @MASTER_NAME@ with a quorum of @QUORUM@
# (constructs/sentinel-replication.ts). Sentinel rewrites its configuration file: it lives in /tmp.
${FIND_MASTER}
# Sentinel resolves the master's name when it reads its configuration: wait until DNS has it
tries=0
until getent hosts "$master" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "cannot resolve $master" >&2; exit 1; fi
  sleep 1
done
umask 077
conf=/tmp/sentinel.conf
cat > "$conf" <<EOF
port @SENTINEL_PORT@
dir /tmp
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $self
sentinel announce-port @SENTINEL_PORT@
sentinel monitor @MASTER_NAME@ $master @PORT@ @QUORUM@
sentinel down-after-milliseconds @MASTER_NAME@ @DOWN_AFTER_MS@
sentinel failover-timeout @MASTER_NAME@ 60000
sentinel parallel-syncs @MASTER_NAME@ 1
EOF
if [ -n "$auth" ]; then
  printf 'sentinel auth-pass %s %s\\nrequirepass %s\\n' @MASTER_NAME@ "$auth" "$auth" >> "$conf"
fi
exec redis-server "$conf" --sentinel
`;
