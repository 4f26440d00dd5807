/**
 * High availability of a stateful cache per environment (`services.<name>.replication`): the rules
 * that refuse a replication that cannot work, and the expansion that turns `mode: sentinel` or
 * `mode: managed` into the plain configuration every other rule, chart and check already reads
 * (ports, a sidecar, the callers' env, secrets and dependencies). The loader checks these rules on
 * the configuration as written, then expands it once (config/load.ts); nothing after that needs to
 * know a replication was asked for except the parts that build what only it has (the Sentinel
 * scripts, the client Service, the replication alerts: constructs/sentinel-replication.ts).
 */
import { ConfigIssue, formatPath, listNames, PathSegment, show } from './errors';
import { ownValue, replicaRange } from './model';
import { METRICS_PORT } from './monitoring-rules';
import type {
  Dependency,
  PortConfig,
  ProbesConfig,
  Resources,
  ServiceConfig,
  SidecarConfig,
  TargetConfig,
} from './types';

export type ReplicationConfig = NonNullable<ServiceConfig['replication']>;

/** Sentinel's port by convention. */
export const SENTINEL_PORT = 26379;
/** The name of Sentinel's port and of its container. */
export const SENTINEL = 'sentinel';
/** Where the Sentinel scripts ConfigMap is mounted in every container of the pod. */
export const SENTINEL_SCRIPTS_DIR = '/opt/sentinel';
/** Sentinel's requests and limits unless `replication.sentinelResources` says otherwise: it only pings and votes. */
export const DEFAULT_SENTINEL_RESOURCES: Resources = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { cpu: '200m', memory: '128Mi' },
};
/** The fewest replicas a Sentinel set may have: with two, losing either loses the majority. */
export const MIN_SENTINEL_REPLICAS = 3;

/** The replication of a service, when it asks for `mode`. */
export function replicationOf(service: ServiceConfig, mode: 'sentinel'): ReplicationConfig | undefined {
  return service.replication?.mode === mode ? service.replication : undefined;
}

/** The smallest majority of `replicas` voters. */
export const majorityOf = (replicas: number) => Math.floor(replicas / 2) + 1;

/** What a Sentinel set of a service is: the numbers the scripts, Services, alerts and README use. */
export interface SentinelFacts {
  readonly replicas: number;
  readonly quorum: number;
  readonly masterName: string;
  /** The port clients and the redis servers use (the first port that is not `metrics`). */
  readonly dataPort: PortConfig;
  readonly sentinelPort: number;
  readonly downAfterSeconds: number;
  /** The Service clients ask Sentinel through (`<service>-sentinel`). */
  readonly clientService: string;
  /** The env variables callers get: the Sentinel address and the master set's name. */
  readonly clientEnv: { readonly hosts: string; readonly master: string };
}

/** The Service clients ask Sentinel through. */
export const sentinelServiceNameOf = (service: { readonly name: string }) => `${service.name}-${SENTINEL}`;

/** `redis` → `REDIS`, `quote-cache` → `QUOTE_CACHE`: the prefix of the env variables callers get. */
export const envPrefixOf = (name: string) => name.toUpperCase().replace(/-/g, '_');

export function sentinelFactsOf(service: ServiceConfig): SentinelFacts {
  const replication = service.replication ?? { mode: 'sentinel' };
  const replicas = replicaRange(service).max;
  const prefix = envPrefixOf(service.name);
  return {
    replicas,
    quorum: replication.quorum ?? majorityOf(replicas),
    masterName: replication.masterName ?? service.name,
    dataPort: service.ports.find((p) => p.name !== METRICS_PORT && p.name !== SENTINEL) ?? service.ports[0],
    sentinelPort: replication.sentinelPort ?? SENTINEL_PORT,
    downAfterSeconds: replication.downAfterSeconds ?? 5,
    clientService: sentinelServiceNameOf(service),
    clientEnv: { hosts: `${prefix}_SENTINEL_HOSTS`, master: `${prefix}_SENTINEL_MASTER` },
  };
}

type Locator = (p: PathSegment[], key?: boolean) => { file: string; line?: number; prefix: PathSegment[] };

/** Problems of every `replication` block of a target, on the configuration as written (before {@link expandReplication}). */
export function checkReplicationRules(config: TargetConfig, locate: Locator): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (p: PathSegment[], message: string) => {
    const where = locate(p);
    issues.push({
      file: where.file,
      line: where.line,
      path: formatPath([...where.prefix, ...p]),
      message: `${message} (in target ${config.target})`,
    });
  };
  for (const service of Object.values(config.services)) {
    const replication = service.replication;
    if (!replication) continue;
    const base = ['services', service.name, 'replication'];
    const callers = Object.values(config.services).filter((s) =>
      (s.dependsOn ?? []).some((d) => 'service' in d && d.service === service.name),
    );
    if (replication.mode === 'managed') {
      for (const key of ['quorum', 'masterName', 'sentinelPort', 'downAfterSeconds', 'sentinelResources'] as const) {
        if (replication[key] !== undefined)
          at([...base, key], `${key} belongs to mode "sentinel"; a managed cache is run by its provider: remove it`);
      }
      if (replication.external === undefined) {
        at(
          [...base, 'mode'],
          `mode "managed" needs external: the name of the peer under externals that stands in for "${service.name}" (e.g. external: ${service.name}-cache, with its cidrs, ports and externalName)`,
        );
        continue;
      }
      const peer = ownValue(config.externals, replication.external);
      if (!peer) {
        const known = Object.keys(config.externals);
        at(
          [...base, 'external'],
          `${show(replication.external)} is not declared under externals; allowed: ${known.length ? listNames(known.map((k) => `"${k}"`)) : 'none declared yet: add the managed cache under externals'}`,
        );
        continue;
      }
      // each caller's port must be one the managed cache serves
      for (const caller of callers) {
        (caller.dependsOn ?? []).forEach((dep, i) => {
          if (!('service' in dep) || dep.service !== service.name) return;
          const port = portOf(service.ports, dep.port);
          if (port && !portOf(peer.ports, port.name) && !portOf(peer.ports, port.port))
            at(
              ['services', caller.name, 'dependsOn', i],
              `"${caller.name}" calls "${service.name}" on port ${show(port.name)} (${port.port}), which the external peer "${peer.name}" that stands in for it does not serve; allowed: ${peer.ports.map((p) => `${p.name} (${p.port})`).join(', ')}`,
            );
        });
      }
      continue;
    }

    // sentinel
    if (replication.external !== undefined)
      at([...base, 'external'], 'external belongs to mode "managed"; a Sentinel set runs in the cluster: remove it');
    if (service.workload !== 'statefulset')
      at(
        ['services', service.name, 'workload'],
        `${show(service.workload)}: Sentinel replication needs workload: statefulset (stable pod names the replicas and Sentinels announce, a volume per redis server)`,
      );
    if (!service.storage)
      at(
        ['services', service.name, 'storage'],
        "is missing: with Sentinel replication a replica writes the master's snapshot to its data directory during a full sync (the root filesystem is read-only); add storage: { size, mountPath }",
      );
    const range = replicaRange(service);
    if (range.min !== range.max) {
      at(
        ['services', service.name, 'replicas'],
        `${show(service.replicas)}: Sentinel replication needs a fixed number of replicas (the quorum counts them); an autoscaler cannot add redis replicas; set replicas: ${Math.max(MIN_SENTINEL_REPLICAS, range.max)}`,
      );
      continue;
    }
    const replicas = range.max;
    if (replicas < MIN_SENTINEL_REPLICAS) {
      at(
        ['services', service.name, 'replicas'],
        `${replicas}: Sentinel replication needs at least ${MIN_SENTINEL_REPLICAS} replicas, one per zone, so that losing one pod (or zone) leaves a majority of Sentinels to fail over; set replicas: 3`,
      );
      continue;
    }
    const facts = sentinelFactsOf(service);
    if (facts.quorum < majorityOf(replicas) || facts.quorum > replicas)
      at(
        [...base, 'quorum'],
        `${facts.quorum} is not a majority of the ${replicas} Sentinels: with fewer, two partitions can each elect a master; allowed: ${majorityOf(replicas)} to ${replicas} (the default is ${majorityOf(replicas)})`,
      );
    const zones = config.cluster.nodes?.zones;
    if (zones && zones.length < replicas)
      at(
        ['services', service.name, 'replicas'],
        `${replicas} Sentinel replicas need ${replicas} zones, one pod per zone (a zone outage must take out at most one vote), but cluster.nodes.zones lists ${zones.length} (${zones.join(', ')}); use fewer replicas (at least ${MIN_SENTINEL_REPLICAS}), more zones, or mode: managed`,
      );
    if (service.ports.some((p) => p.name === SENTINEL || p.port === facts.sentinelPort))
      at(
        ['services', service.name, 'ports'],
        `a port named "${SENTINEL}" or numbered ${facts.sentinelPort} is declared, but Sentinel replication adds that port itself; remove it (or set replication.sentinelPort)`,
      );
    if ((service.sidecars ?? []).some((sc) => sc.name === SENTINEL))
      at(
        ['services', service.name, 'sidecars'],
        `a sidecar is named "${SENTINEL}", the name of the container Sentinel replication adds; rename it`,
      );
    // the headless Service reaches every pod, replicas included, which refuse writes: a caller
    // that addresses the service's data port directly would write to a replica two times in three
    const direct = new RegExp(`(^|[/@])${service.name}(\\.[a-z0-9.-]*)?:${facts.dataPort.port}(?![0-9])`);
    for (const caller of callers) {
      for (const [name, value] of Object.entries(caller.env ?? {})) {
        if (direct.test(value) && name !== facts.clientEnv.hosts)
          at(
            ['services', caller.name, 'env', name],
            `${show(value)} addresses "${service.name}" on ${facts.dataPort.port} directly; with Sentinel replication that reaches any of its pods, and replicas refuse writes: ask Sentinel (${facts.clientEnv.hosts}, ${facts.clientEnv.master}) and set ${name} only in the environments without Sentinel`,
          );
      }
      for (const name of [facts.clientEnv.hosts, facts.clientEnv.master]) {
        if (caller.env?.[name] !== undefined)
          at(
            ['services', caller.name, 'env', name],
            `is set by the Sentinel replication of "${service.name}" (callers get ${facts.clientEnv.hosts} and ${facts.clientEnv.master}); remove it`,
          );
      }
    }
  }
  return issues;
}

function portOf(ports: readonly PortConfig[], ref: string | number | undefined): PortConfig | undefined {
  return ports.find((p) => p.name === ref || p.port === ref);
}

/**
 * The configuration with every `replication` made plain, for everything after the rules:
 * - `sentinel`: the service gets Sentinel's port, a `sentinel` sidecar (the same image, its own
 *   probes and resources), a command that starts redis-server as the master or a replica
 *   (constructs/sentinel-replication.ts writes the script), its replicas as a group that finds each
 *   other before ready on the data port; its callers get the Sentinel address and master name.
 * - `managed`: the service is gone; each `{ service, port }` dependency on it becomes one on its
 *   external peer (that port), and its `auth` secret becomes a secret of each caller.
 * Returns the same object when nothing is replicated.
 */
export function expandReplication(config: TargetConfig): TargetConfig {
  const services = Object.values(config.services);
  if (!services.some((s) => s.replication)) return config;
  const managed = new Map(
    services.filter((s) => s.replication?.mode === 'managed' && s.replication.external).map((s) => [s.name, s]),
  );
  const sentinels = new Map(services.filter((s) => replicationOf(s, 'sentinel')).map((s) => [s.name, s]));
  const out: Record<string, ServiceConfig> = {};
  for (const service of services) {
    if (managed.has(service.name)) continue;
    let env = service.env;
    let secrets = service.secrets;
    const dependsOn: Dependency[] = [];
    for (const dep of service.dependsOn ?? []) {
      const callee = 'service' in dep ? managed.get(dep.service) : undefined;
      const sentinel = 'service' in dep ? sentinels.get(dep.service) : undefined;
      if (callee && 'service' in dep) {
        const peer = config.externals[callee.replication!.external!];
        const port = portOf(callee.ports, dep.port);
        const served = port && (portOf(peer.ports, port.name) ?? portOf(peer.ports, port.port));
        dependsOn.push({ external: peer.name, ...(served ? { ports: [served.port] } : {}) });
        if (callee.auth && !(secrets ?? []).some((s) => s.env === callee.auth!.env))
          secrets = [...(secrets ?? []), callee.auth];
        continue;
      }
      if (sentinel) {
        const facts = sentinelFactsOf(sentinel);
        env = {
          ...env,
          [facts.clientEnv.hosts]: `${facts.clientService}:${facts.sentinelPort}`,
          [facts.clientEnv.master]: facts.masterName,
        };
      }
      dependsOn.push(dep);
    }
    let expanded: ServiceConfig = { ...service, env, secrets, dependsOn };
    if (sentinels.has(service.name)) expanded = withSentinel(expanded);
    out[service.name] = expanded;
  }
  return { ...config, services: out };
}

/** A service with its Sentinel parts made plain (see {@link expandReplication}). */
function withSentinel(service: ServiceConfig): ServiceConfig {
  const facts = sentinelFactsOf(service);
  const authProbe = service.auth ? `REDISCLI_AUTH="$${service.auth.env}" ` : '';
  const probes: ProbesConfig = {
    // Sentinel waits for the master's name in DNS before it starts (at most 60s)
    startup: { tcp: { port: SENTINEL }, periodSeconds: 2, failureThreshold: 45 },
    // ready when Sentinel answers a command; alive while its port accepts connections
    readiness: {
      exec: { command: ['sh', '-c', `test "$(${authProbe}redis-cli -p ${facts.sentinelPort} ping)" = PONG`] },
      periodSeconds: 5,
      timeoutSeconds: 2,
    },
    liveness: { tcp: { port: SENTINEL }, periodSeconds: 10, failureThreshold: 6 },
  };
  const sentinel: SidecarConfig = {
    name: SENTINEL,
    image: service.image,
    command: ['sh', `${SENTINEL_SCRIPTS_DIR}/start-sentinel.sh`],
    ports: [SENTINEL],
    resources: service.replication?.sentinelResources ?? DEFAULT_SENTINEL_RESOURCES,
    probes,
  };
  return {
    ...service,
    ports: [...service.ports, { name: SENTINEL, port: facts.sentinelPort }],
    // the configured command line is redis-server's; the script adds the replication options
    command: ['sh', `${SENTINEL_SCRIPTS_DIR}/start-redis.sh`],
    args: [...(service.command ?? ['redis-server']), ...(service.args ?? [])],
    peers: { ...service.peers, discoverBeforeReady: true, port: service.peers?.port ?? facts.dataPort.name },
    sidecars: [sentinel, ...(service.sidecars ?? [])],
  };
}
