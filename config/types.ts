/**
 * The typed configuration of one deployment target, as produced by `loadPlatform()` from
 * `environments/defaults.yaml`, one environment file and (for multi-region environments) one
 * region override. Every chart and construct reads these types, never raw YAML or process.env.
 *
 * The JSON Schema in `config/schema.ts` (published as `environments/schema.json`) is the
 * contract for the YAML; these interfaces mirror it after defaults are merged in.
 */

/** The tier an environment belongs to; policies (probes, digests, spread) depend on it. */
export type Tier = 'development' | 'staging' | 'production';

/** A Kubernetes quantity pair, e.g. `{ cpu: '250m', memory: '512Mi' }`. */
export interface ResourceAmounts {
  readonly cpu: string;
  readonly memory: string;
  /**
   * Local ephemeral storage (writable layers, logs, emptyDir such as /tmp), a memory-style quantity.
   * @default limitRange.defaultRequest / limitRange.default, else 256Mi requested, 1Gi limit
   */
  readonly ephemeralStorage?: string;
}

export interface Resources {
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
}

export interface PortConfig {
  /** IANA_SVC_NAME, e.g. `http`, `metrics`, `fix`. */
  readonly name: string;
  readonly port: number;
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP';
}

export interface ProbeConfig {
  /** HTTP GET on `path` at the named or numbered port. */
  readonly http?: { readonly path: string; readonly port: string | number };
  /** TCP connect to the named or numbered port. */
  readonly tcp?: { readonly port: string | number };
  /** gRPC health check on a numbered port. */
  readonly grpc?: { readonly port: number };
  readonly exec?: { readonly command: string[] };
  /** @default 0 */
  readonly initialDelaySeconds?: number;
  /** @default 10 */
  readonly periodSeconds?: number;
  /** @default 1 */
  readonly timeoutSeconds?: number;
  /** @default 3 */
  readonly failureThreshold?: number;
}

export interface ProbesConfig {
  readonly readiness?: ProbeConfig;
  readonly liveness?: ProbeConfig;
  readonly startup?: ProbeConfig;
}

/** Fixed replicas, or a range that an HPA scales within. */
export interface ReplicaRange {
  readonly min: number;
  readonly max: number;
}

export type HpaMetric =
  | { readonly type: 'resource'; readonly resource: 'cpu' | 'memory'; readonly targetUtilization: number }
  | { readonly type: 'pods'; readonly metric: string; readonly targetAverageValue: string }
  | {
    readonly type: 'external';
    readonly metric: string;
    readonly selector?: Record<string, string>;
    readonly targetValue?: string;
    readonly targetAverageValue?: string;
  };

export interface ScalingRule {
  /** Seconds of history the autoscaler considers before acting. */
  readonly stabilizationWindowSeconds: number;
  /** At most this many percent of current replicas per period. */
  readonly percent?: number;
  /** At most this many pods per period. */
  readonly pods?: number;
  readonly periodSeconds: number;
}

export interface ScalingBehavior {
  readonly scaleUp?: ScalingRule;
  readonly scaleDown?: ScalingRule;
}

export interface AutoscalingConfig {
  readonly metrics: HpaMetric[];
  /** @default the environment's `autoscaling.behavior`, per direction */
  readonly behavior?: ScalingBehavior;
}

/** Environment-wide autoscaling defaults. */
export interface AutoscalingDefaults {
  /**
   * HPA behaviour of every autoscaled service that does not set its own (per direction).
   * @default scale up fast (double or +4 pods every 15s), scale down slowly (300s window, 25% or 1 pod a minute)
   */
  readonly behavior?: ScalingBehavior;
}

export type VpaUpdateMode = 'Off' | 'Initial' | 'Recreate' | 'Auto';

export interface VpaConfig {
  /** @default 'Off' where an HPA exists, otherwise 'Initial' */
  readonly updateMode?: VpaUpdateMode;
  /** @default ['cpu', 'memory'] minus whatever an HPA scales on */
  readonly controlledResources?: Array<'cpu' | 'memory'>;
  readonly minAllowed?: Partial<ResourceAmounts>;
  readonly maxAllowed?: Partial<ResourceAmounts>;
}

/** A flow from this service to another service or to an external peer. */
export type Dependency =
  | { readonly service: string; readonly port: string | number }
  | { readonly external: string; readonly ports?: number[] };

/** One rule of access to the Kubernetes API. No wildcards, no Secrets. */
export interface ApiAccess {
  /** '' for the core group. */
  readonly apiGroup: string;
  readonly resources: string[];
  readonly verbs: string[];
  /** Restricts the rule to these object names. */
  readonly resourceNames?: string[];
  /** @default 'namespace' (a Role); 'cluster' makes a ClusterRole and must be declared. */
  readonly scope?: 'namespace' | 'cluster';
  /**
   * Why the rule needs a grant that can take over the cluster (core/rbac-risks.ts: exec, bind,
   * impersonate, ...). Required for such grants, which are refused in production even with it.
   */
  readonly reason?: string;
}

/** A secret the service reads, synced from the cloud secret manager by an ExternalSecret. */
export interface SecretRef {
  /** Environment variable the value is exposed as. */
  readonly env: string;
  /** Key in the secret manager, e.g. `trading/prod/database-url`. */
  readonly remoteKey: string;
  /** Property inside a JSON secret. */
  readonly property?: string;
}

export interface StorageConfig {
  readonly size: string;
  readonly mountPath: string;
}

/**
 * For a StatefulSet whose replicas form a group that needs a quorum before any member is ready
 * (Raft, Paxos, gossip clusters). Without it, replicas start one by one and appear in DNS only
 * once ready, which such a group can never reach.
 */
export interface PeersConfig {
  /** Start and scale all replicas at once (podManagementPolicy Parallel). @default false (OrderedReady) */
  readonly startTogether?: boolean;
  /**
   * Publish every replica in the headless Service's DNS from its start, before it is ready
   * (publishNotReadyAddresses), so members find each other to form the group. @default false
   */
  readonly discoverBeforeReady?: boolean;
  /**
   * The port (name or number) members talk to each other on. NetworkPolicies open it between the
   * service's own pods, and only it. @default none: the replicas never talk to each other
   */
  readonly port?: string | number;
}

export interface BlueGreenConfig {
  /** @default 30 */
  readonly scaleDownDelaySeconds?: number;
  /** Success-rate floor (0–1) the analysis requires before promotion. @default 0.99 */
  readonly successRate?: number;
  /** p99 latency ceiling in seconds the analysis requires before promotion. */
  readonly latencyP99Seconds?: number;
}

export interface ReleaseConfig {
  /** @default 'rolling' */
  readonly strategy: 'rolling' | 'blueGreen';
  readonly blueGreen?: BlueGreenConfig;
}

/** The alerts a service opts into; thresholds are data, the rules are built by constructs. */
export interface ServiceAlerts {
  /**
   * p95 latency over this many seconds for `thresholds.latency.for`: of
   * `http_request_duration_seconds`, or of `metrics.duration.histogram` for a non-HTTP service.
   */
  readonly latencyP95Seconds?: number;
  /** Mean latency (`metrics.duration.sum` / `count`) over this many seconds, for a non-HTTP service without a histogram. */
  readonly latencyMeanSeconds?: number;
  /** Order latency quantile alert (histogram `trading_order_latency_seconds`). */
  readonly orderLatency?: { readonly quantile: number; readonly thresholdSeconds: number; readonly for: string };
  /** Order rejection ratio over this for 5m (`trading_orders_total{status}`). */
  readonly orderRejectionRatio?: number;
  /** Market data older than this many seconds (`marketdata_last_update_timestamp_seconds`). */
  readonly marketDataStaleSeconds?: number;
  /** Drawdown ratio above this (`trading_pnl_drawdown_ratio`). */
  readonly drawdownRatio?: number;
  /** Extra, service-specific rules (e.g. consensus failures). */
  readonly custom?: CustomAlert[];
}

export interface CustomAlert {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'critical' | 'warning' | 'info';
  readonly summary: string;
  readonly description: string;
  /** Why this threshold. */
  readonly reason: string;
}

export interface ServiceMonitoringConfig {
  /** Scrape interval. @default monitoring.scrapeInterval */
  readonly interval?: string;
  /** Whether the service serves HTTP (`http_requests_total`, `http_request_duration_seconds`). @default true */
  readonly http?: boolean;
  readonly alerts?: ServiceAlerts;
  /**
   * Availability SLO in percent (e.g. 99.9), alerted by multi-window multi-burn-rate rules. Its
   * errors: 5xx responses of an HTTP service; else `metrics.errors` out of `metrics.requests`
   * when both are set; else orders with `status="error"` out of `trading_orders_total`.
   */
  readonly slo?: { readonly availability: number };
  /** This service's overrides of `monitoring.thresholds`, key by key. @default none */
  readonly thresholds?: ThresholdOverrides;
  /**
   * Rate, errors and duration of a service that does not serve HTTP, from metrics it (or its
   * exporter sidecar) exposes; they give its dashboard the RED panels and its latency alert.
   * @default none: the dashboard shows saturation only
   */
  readonly metrics?: ServiceMetrics;
}

/** Metric names of a non-HTTP service's rate, errors and duration. */
export interface ServiceMetrics {
  /** A counter of requests (commands, messages) handled. */
  readonly requests?: string;
  /** A counter of failed or rejected requests. */
  readonly errors?: string;
  /**
   * Duration: a histogram (`histogram`: the base name, without `_bucket`) for quantiles, or a
   * counter of seconds spent (`sum`) divided by a counter of requests (`count`, default `requests`).
   */
  readonly duration?: { readonly histogram: string } | { readonly sum: string; readonly count?: string };
}

/**
 * A helper container in every pod of a service (an exporter, a proxy). It gets the same restricted
 * security context and read-only root filesystem (with its own /tmp) as the service's container,
 * its own resources, and serves some of the service's ports.
 */
export interface SidecarConfig {
  /** The container name; unique in the pod and different from the service's name. */
  readonly name: string;
  /** Pinned image reference, as for the service. */
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  /** Names (or numbers) of the service's `ports` this container serves; they leave the main container. @default none */
  readonly ports?: Array<string | number>;
  readonly resources: Resources;
  /** Plain, non-secret environment variables. */
  readonly env?: Record<string, string>;
  /** @default none (required from staging on, as for the service) */
  readonly probes?: ProbesConfig;
}

export interface ServiceConfig {
  readonly name: string;
  readonly description: string;
  /** `app.kubernetes.io/component`. */
  readonly component: string;
  /** Image reference: `repo:tag`, `repo@sha256:…` or `repo:tag@sha256:…`. */
  readonly image: string;
  /** @default 'deployment' */
  readonly workload: 'deployment' | 'statefulset';
  readonly ports: PortConfig[];
  /** @default 'cluster' */
  readonly expose: 'public' | 'cluster';
  /** Path prefix on the public host. @default '/' */
  readonly ingressPath?: string;
  /** A number for fixed replicas, `{min, max}` for an HPA. */
  readonly replicas: number | ReplicaRange;
  readonly autoscaling?: AutoscalingConfig;
  readonly vpa?: VpaConfig;
  readonly resources: Resources;
  /** 'guaranteed' demands requests = limits and whole CPUs. */
  readonly qos?: 'guaranteed' | 'burstable';
  /** Key into `priorityClasses`. */
  readonly priority?: string;
  readonly probes: ProbesConfig;
  /** Plain, non-secret environment variables. */
  readonly env?: Record<string, string>;
  readonly secrets?: SecretRef[];
  /**
   * The credential the service demands of its clients (a Redis password): an ExternalSecret gives it,
   * as the env variable `auth.env`, to the service's own containers (sidecars included) and to every
   * service that `dependsOn` it. The value never reaches dist/. @default none: clients need no credential
   */
  readonly auth?: SecretRef;
  /** Non-secret configuration, rendered as a ConfigMap mounted at /etc/<service>. */
  readonly config?: Record<string, string>;
  readonly dependsOn?: Dependency[];
  readonly api?: ApiAccess[];
  readonly storage?: StorageConfig;
  /** How the replicas of a StatefulSet form a group (consensus, clustering). */
  readonly peers?: PeersConfig;
  readonly release?: ReleaseConfig;
  /**
   * How pods of this service spread when they cannot spread evenly, in production only: staging and
   * development always spread best-effort (ScheduleAnyway). @default 'ScheduleAnyway'
   */
  readonly spreadPolicy?: 'DoNotSchedule' | 'ScheduleAnyway';
  /**
   * Mount the feature-flags ConfigMap at /etc/feature-flags although the service owns no flag (it
   * reads flags of other services). A flag's owner mounts it anyway. @default false
   */
  readonly featureFlags?: boolean;
  readonly monitoring?: ServiceMonitoringConfig;
  /** Command and args override. */
  readonly command?: string[];
  readonly args?: string[];
  /** UID, GID and fsGroup, 10000 or more. @default 10001 */
  readonly runAsUser?: number;
  /** Helper containers in every pod of the service. @default none */
  readonly sidecars?: SidecarConfig[];
}

export interface ExternalPeer {
  readonly name: string;
  readonly description?: string;
  readonly cidrs: string[];
  readonly ports: PortConfig[];
  /**
   * Why the peer needs blocks that open (nearly) the whole internet (core/cidr.ts, wideCidrs):
   * required when its blocks, or the blocks of every peer a service depends on, are that wide.
   */
  readonly reason?: string;
  /** Publish an ExternalName Service for this peer (e.g. a managed database). */
  readonly externalName?: string;
}

export interface FeatureFlag {
  readonly name: string;
  readonly description?: string;
  /** The service that reads the flag: the feature-flags ConfigMap is mounted into its pods. */
  readonly owner: string;
  readonly enabled: boolean;
  readonly rolloutPercent: number;
}

export interface PriorityClassConfig {
  readonly name: string;
  readonly value: number;
  readonly description: string;
}

export interface BackupSchedule {
  readonly name: string;
  /** Cron, UTC. */
  readonly schedule: string;
  /** Retention, e.g. `720h`. */
  readonly ttl: string;
  /** Namespaces backed up together with the target namespace, e.g. `kube-system`. @default - the target namespace only */
  readonly extraNamespaces?: string[];
}

export interface SecretStoreConfig {
  readonly name: string;
  /** The ClusterSecretStore `spec.provider` object, passed through (no credentials). */
  readonly provider: Record<string, unknown>;
  /** @default '1h' */
  readonly refreshInterval?: string;
}

export interface AlertRoutingConfig {
  readonly pagerduty?: { readonly remoteKey: string; readonly severities: string[] };
  readonly slack?: { readonly remoteKey: string; readonly channel: string; readonly severities: string[] };
}

/** A threshold of a standard alert: how long it must hold, and why it is what it is. */
export interface ThresholdBase {
  /** How long the condition must hold before the alert fires (a Prometheus duration). */
  readonly for: string;
  /** Why the numbers are what they are; written to the alert's `threshold_reason` annotation. */
  readonly reason: string;
}

/**
 * The thresholds of the standard alerts every service gets (PLATFORM.md, "Monitoring"); set in
 * `monitoring.thresholds`, overridable per environment and, key by key, per service under
 * `services.<name>.monitoring.thresholds`. Ratios are between 0 and 1.
 */
export interface StandardThresholds {
  readonly targetDown: ThresholdBase;
  /** 5xx share of HTTP requests over `window`: warning and critical ratios. */
  readonly httpErrors: ThresholdBase & { readonly warning: number; readonly critical: number; readonly window: string };
  /** p95 (or mean) latency over the service's own threshold, measured over `window`. */
  readonly latency: ThresholdBase & { readonly window: string };
  /** More than `restarts` container restarts within `window` (the window is the persistence: no `for`). */
  readonly crashLooping: { readonly restarts: number; readonly window: string; readonly reason: string };
  /** Working set above `ratio` of the memory limit. */
  readonly memory: ThresholdBase & { readonly ratio: number };
  /** Share of CFS periods throttled over `window` above `ratio`. */
  readonly cpuThrottling: ThresholdBase & { readonly ratio: number; readonly window: string };
  /** The HPA at its maximum replicas. */
  readonly hpaAtMax: ThresholdBase;
}

/** Per-service overrides of the standard thresholds, key by key. */
export type ThresholdOverrides = { readonly [K in keyof StandardThresholds]?: Partial<StandardThresholds[K]> };

export interface MonitoringConfig {
  readonly namespace: string;
  /** Labels the Prometheus instance selects ServiceMonitors and rules by. */
  readonly selectorLabels: Record<string, string>;
  /**
   * Labels of the Prometheus pods in `namespace`: only they may reach the `metrics` ports.
   * @default { 'app.kubernetes.io/name': 'prometheus' } (the Prometheus Operator's pods)
   */
  readonly prometheusPodSelector?: Record<string, string>;
  /** @default '15s' */
  readonly scrapeInterval: string;
  /** `{alert}` is replaced with the alert name in lower-case kebab form. */
  readonly runbookUrlPattern: string;
  readonly grafana: { readonly dashboardLabel: string; readonly dashboardLabelValue: string; readonly folder?: string };
  readonly alerting?: AlertRoutingConfig;
  /** Severity of "target down". */
  readonly targetDownSeverity: 'critical' | 'warning';
  /** Thresholds of the standard alerts. */
  readonly thresholds: StandardThresholds;
  /** Prometheus HTTP API the blue/green analysis queries. @default 'http://prometheus-operated.monitoring.svc:9090' */
  readonly prometheusUrl?: string;
}

export interface DeliveryConfig {
  /** Git repository Argo CD reads `dist/` from. */
  readonly repoURL: string;
  readonly revision: string;
  /** Path of dist/ inside the repository. @default 'dist' */
  readonly path?: string;
  /** Argo CD destination server for this target. */
  readonly server: string;
  readonly sync: 'automated' | 'manual';
}

export interface IngressConfig {
  readonly className: string;
  readonly host: string;
  readonly controllerNamespace: string;
  readonly clusterIssuer: string;
  /**
   * HSTS max-age the ingress-nginx controller sends (its ConfigMap's `hsts-max-age`; HSTS is not set
   * on the Ingress), listed in dist/<target>/README.md.
   */
  readonly hstsMaxAgeSeconds: number;
  /** Requests per second per client (`limit-rps`). */
  readonly rateLimitRps: number;
}

export interface AvailabilityConfig {
  /** none: no spread; zones: spread over zones; zones-and-nodes: both. */
  readonly spread: 'none' | 'zones' | 'zones-and-nodes';
  readonly maxSurge: string | number;
  readonly maxUnavailable: string | number;
  readonly terminationGracePeriodSeconds: number;
  readonly preStopSeconds: number;
  /**
   * What the zone spread does when pods cannot spread evenly, and why this environment chose it
   * (required in production). A service's `spreadPolicy` overrides it in production.
   * @default ScheduleAnyway
   */
  readonly zoneSpread?: { readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway'; readonly reason: string };
}

/**
 * The node pool of a target's cluster (`cluster.nodes`): synth checks that every pod fits a node and
 * that the pool can spread and hold the quota; the live twin (test/live) creates these nodes.
 */
export interface NodePoolConfig {
  /** Zones of the pool (`topology.kubernetes.io/zone`). */
  readonly zones: string[];
  /** Nodes in each zone. */
  readonly perZone: number;
  /** Allocatable CPU and memory of one node. */
  readonly cpu: string;
  readonly memory: string;
  /** Allocatable pods of one node. */
  readonly pods: number;
}

export interface QuotaConfig {
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
  readonly pods: number;
}

export interface LimitRangeConfig {
  readonly defaultRequest: ResourceAmounts;
  readonly default: ResourceAmounts;
  readonly max: ResourceAmounts;
}

/** Everything one target needs. */
export interface TargetConfig {
  /** The dist/ folder name, e.g. `production-us-east-1`. */
  readonly target: string;
  readonly environment: string;
  readonly region?: string;
  readonly tier: Tier;
  /** Files that made this target, for error messages. */
  readonly sources: string[];
  readonly platform: { readonly name: string; readonly owner: string };
  readonly namespace: string;
  readonly cluster: { readonly name: string; readonly nodes?: NodePoolConfig };
  readonly podSecurity: { readonly level: 'restricted'; readonly version: string };
  /** Development scales every request by this factor (limits unchanged). @default 1 */
  readonly requestScale: number;
  readonly quota: QuotaConfig;
  /** Environment-wide HPA defaults (constructs/autoscaling.ts). */
  readonly autoscaling?: AutoscalingDefaults;
  readonly limitRange: LimitRangeConfig;
  readonly storageClass: string;
  readonly ingress: IngressConfig;
  readonly secretStore: SecretStoreConfig;
  readonly availability: AvailabilityConfig;
  readonly priorityClasses: Record<string, PriorityClassConfig>;
  readonly backups: BackupSchedule[];
  readonly delivery: DeliveryConfig;
  readonly monitoring: MonitoringConfig;
  readonly featureFlags: Record<string, FeatureFlag>;
  readonly externals: Record<string, ExternalPeer>;
  readonly services: Record<string, ServiceConfig>;
}

/**
 * Ephemeral storage when neither the container nor the LimitRange says: room for /tmp (an emptyDir
 * of at most 256Mi) and logs; a container over its limit is evicted alone, before it fills the node.
 */
export const DEFAULT_EPHEMERAL_STORAGE = { request: '256Mi', limit: '1Gi', max: '4Gi' } as const;
