/**
 * The typed configuration of one deployment target, as produced by `loadPlatform()` from
 * `environments/defaults.yaml`, one environment file and (for multi-region environments) one
 * region override. Every chart and construct reads these types, never raw YAML or process.env.
 *
 * Nothing here is written by hand twice: every type is `Static<>` of a definition in
 * config/schema.ts (the schema that validates the YAML, published as environments/schema.json),
 * where each field is documented. What the loader adds beyond the YAML (names taken from map keys,
 * defaults filled in, the target's identity) is stated here on top of those types.
 */
import type { Static } from '@sinclair/typebox';
import type { definitions, target } from './schema';

type Definitions = typeof definitions;
/** The type of the YAML a definition of config/schema.ts accepts. */
type Input<K extends keyof Definitions> = Static<Definitions[K]>;
/** `T` with the keys `K` always present: the loader fills in their defaults. */
type Defaulted<T, K extends keyof T> = Omit<T, K> & { readonly [P in K]-?: Exclude<T[P], undefined> };
/** An entry of a map in the YAML, with its key as `name`. */
type Named<T> = T & { readonly name: string };

type TargetInput = Static<typeof target>;
type ServiceInput = Input<'service'>;
type ServiceMonitoringInput = NonNullable<ServiceInput['monitoring']>;

/** The tier an environment belongs to; policies (probes, digests, spread) depend on it. */
export type Tier = TargetInput['tier'];

/** A Kubernetes quantity pair, e.g. `{ cpu: '250m', memory: '512Mi' }`. */
export type ResourceAmounts = Input<'resourceAmounts'>;
export type Resources = Input<'resources'>;
export type PortConfig = Input<'port'>;
export type ProbeConfig = Input<'probe'>;
export type ProbesConfig = ServiceInput['probes'];
/** Fixed replicas, or a range that an HPA scales within. */
export type ReplicaRange = Exclude<ServiceInput['replicas'], number>;
export type HpaMetric = Input<'hpaMetric'>;
export type ScalingRule = Input<'scalingRule'>;
export type ScalingBehavior = NonNullable<AutoscalingConfig['behavior']>;
export type AutoscalingConfig = NonNullable<ServiceInput['autoscaling']>;
/** Environment-wide autoscaling defaults. */
export type AutoscalingDefaults = NonNullable<TargetInput['autoscaling']>;
export type VpaConfig = NonNullable<ServiceInput['vpa']>;
export type VpaUpdateMode = NonNullable<VpaConfig['updateMode']>;
/** A flow from this service to another service or to an external peer. */
export type Dependency = Input<'dependency'>;
/** One rule of access to the Kubernetes API. No wildcards, no Secrets. */
export type ApiAccess = Input<'apiAccess'>;
/** A secret the service reads, synced from the cloud secret manager by an ExternalSecret. */
export type SecretRef = Input<'secretRef'>;
export type StorageConfig = NonNullable<ServiceInput['storage']>;
/** How the replicas of a StatefulSet that needs a quorum form their group. */
export type PeersConfig = NonNullable<ServiceInput['peers']>;
export type ReleaseConfig = NonNullable<ServiceInput['release']>;
export type BlueGreenConfig = NonNullable<ReleaseConfig['blueGreen']>;
/** The alerts a service opts into; thresholds are data, the rules are built by constructs. */
export type ServiceAlerts = NonNullable<ServiceMonitoringInput['alerts']>;
export type CustomAlert = Input<'customAlert'>;
export type ServiceMonitoringConfig = ServiceMonitoringInput;
/** Metric names of a non-HTTP service's rate, errors and duration. */
export type ServiceMetrics = NonNullable<ServiceMonitoringInput['metrics']>;
/** A helper container in every pod of a service (an exporter, a proxy). */
export type SidecarConfig = Input<'sidecar'>;

/** A service of the platform, named by its key under `services`, with the loader's defaults. */
export type ServiceConfig = Named<Defaulted<ServiceInput, 'workload' | 'expose'>>;
/** A peer outside the cluster, named by its key under `externals`. */
export type ExternalPeer = Named<Input<'externalPeer'>>;
/** A feature flag, named by its key under `featureFlags`. */
export type FeatureFlag = Named<Input<'featureFlag'>>;
export type PriorityClassConfig = Input<'priorityClass'>;
export type BackupSchedule = Input<'backup'>;
export type SecretStoreConfig = TargetInput['secretStore'];

export type MonitoringConfig = TargetInput['monitoring'];
/** The environment's distributed tracing (collector, protocol, sampling ratio). */
export type TracingConfig = NonNullable<TargetInput['tracing']>;
/** A service's part in the environment's tracing. */
export type ServiceTracingConfig = NonNullable<ServiceInput['tracing']>;
export type AlertRoutingConfig = NonNullable<MonitoringConfig['alerting']>;
/**
 * The thresholds of the standard alerts every service gets (PLATFORM.md, "Monitoring"); set in
 * `monitoring.thresholds`, overridable per environment and, key by key, per service under
 * `services.<name>.monitoring.thresholds`. Ratios are between 0 and 1.
 */
export type StandardThresholds = Input<'standardThresholds'>;
/** A threshold of a standard alert: how long it must hold, and why it is what it is. */
export type ThresholdBase = StandardThresholds['targetDown'];
/** Per-service overrides of the standard thresholds, key by key. */
export type ThresholdOverrides = Input<'thresholdOverrides'>;
export type DeliveryConfig = TargetInput['delivery'];
export type IngressConfig = TargetInput['ingress'];
export type AvailabilityConfig = TargetInput['availability'];
/**
 * The node pool of a target's cluster (`cluster.nodes`): synth checks that every pod fits a node and
 * that the pool can spread and hold the quota; the live twin (test/live) creates these nodes.
 */
export type NodePoolConfig = Input<'nodePool'>;
/** How the cluster labels and taints its spot pool (`cluster.spot`), as configured (model.ts fills the defaults). */
export type SpotConfig = NonNullable<TargetInput['cluster']['spot']>;
/** A node label, `key=value`. */
export type NodeLabel = NonNullable<SpotConfig['label']>;
/** A node taint, `key=value:effect`. */
export type NodeTaint = NonNullable<SpotConfig['taint']>;
/** Where a service's pods run: `on-demand` (the default) or `spot`. */
export type Placement = NonNullable<ServiceInput['placement']>;
export type QuotaConfig = TargetInput['quota'];
/** The Istio service mesh of a target (`mesh`): mode, mutual TLS and the identities of the exceptions. */
export type MeshConfig = NonNullable<TargetInput['mesh']>;
export type LimitRangeConfig = TargetInput['limitRange'];

/** Everything one target needs: the merged YAML, with defaults, names and the target's identity. */
export type TargetConfig = Defaulted<
  Omit<TargetInput, '$schema' | 'priorityClasses' | 'featureFlags' | 'externals' | 'services'>,
  'requestScale' | 'backups'
> & {
  /** The dist/ folder name, e.g. `production-us-east-1`. */
  readonly target: string;
  readonly environment: string;
  readonly region?: string;
  /** Files that made this target, for error messages. */
  readonly sources: string[];
  readonly priorityClasses: Record<string, PriorityClassConfig>;
  readonly featureFlags: Record<string, FeatureFlag>;
  readonly externals: Record<string, ExternalPeer>;
  readonly services: Record<string, ServiceConfig>;
};

/**
 * Ephemeral storage when neither the container nor the LimitRange says: room for /tmp (an emptyDir
 * of at most 256Mi) and logs; a container over its limit is evicted alone, before it fills the node.
 */
export const DEFAULT_EPHEMERAL_STORAGE = { request: '256Mi', limit: '1Gi', max: '4Gi' } as const;
