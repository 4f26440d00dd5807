import type { TargetConfig } from '../config/types';
import { Manifest } from './manifest';
import { withSortedKeys } from './sorted-keys';

/** Argo CD's annotations read per object. */
export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
export const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/**
 * The order Argo CD applies a target in (lower waves first, each wave healthy before the next):
 * the namespace and its guard rails, then identities, then configuration and secrets, then the
 * network and the Services a workload needs, then workloads, then what watches or scales them.
 * Within a wave Argo CD orders by kind itself. Kinds not listed go in the workload wave (0).
 */
export const WAVES = {
  namespace: -10,
  guardRails: -9,
  identity: -8,
  secretStores: -7,
  config: -6,
  network: -5,
  services: -4,
  analysis: -3,
  workloads: 0,
  scaling: 5,
  monitoring: 10,
  backups: 20,
} as const;

const WAVE_OF_KIND: Record<string, number> = {
  Namespace: WAVES.namespace,
  ResourceQuota: WAVES.guardRails,
  LimitRange: WAVES.guardRails,
  PriorityClass: WAVES.guardRails,
  ServiceAccount: WAVES.identity,
  Role: WAVES.identity,
  RoleBinding: WAVES.identity,
  ClusterRole: WAVES.identity,
  ClusterRoleBinding: WAVES.identity,
  ClusterSecretStore: WAVES.secretStores,
  SecretStore: WAVES.secretStores,
  ExternalSecret: WAVES.config,
  Secret: WAVES.config,
  ConfigMap: WAVES.config,
  NetworkPolicy: WAVES.network,
  // the mesh's policies are the network's second layer: in place before a pod can call
  PeerAuthentication: WAVES.network,
  AuthorizationPolicy: WAVES.network,
  Service: WAVES.services,
  PersistentVolumeClaim: WAVES.services,
  PodDisruptionBudget: WAVES.services,
  // a Rollout refers to its AnalysisTemplate and both Services by name
  AnalysisTemplate: WAVES.analysis,
  Deployment: WAVES.workloads,
  StatefulSet: WAVES.workloads,
  Rollout: WAVES.workloads,
  DaemonSet: WAVES.workloads,
  Job: WAVES.workloads,
  CronJob: WAVES.workloads,
  Ingress: WAVES.scaling,
  HorizontalPodAutoscaler: WAVES.scaling,
  ScaledObject: WAVES.scaling,
  VerticalPodAutoscaler: WAVES.scaling,
  ServiceMonitor: WAVES.monitoring,
  PodMonitor: WAVES.monitoring,
  PrometheusRule: WAVES.monitoring,
  AlertmanagerConfig: WAVES.monitoring,
  Schedule: WAVES.backups,
};

/**
 * Objects above this size are applied server-side: a client-side apply stores the whole object
 * in the `last-applied-configuration` annotation, and all annotations together may not exceed
 * 256 KiB. Server-side apply is not set on the whole Application because Argo Rollouts'
 * blue/green misbehaves under it (argoproj/argo-rollouts#3437).
 */
export const SERVER_SIDE_APPLY_BYTES = 128 * 1024;

/** The sync wave of an object: Grafana dashboards (ConfigMaps for the sidecar) count as monitoring. */
export function syncWaveOf(config: TargetConfig, manifest: Manifest): number {
  const grafana = config.monitoring.grafana;
  if (manifest.kind === 'ConfigMap' && manifest.metadata.labels?.[grafana.dashboardLabel] !== undefined)
    return WAVES.monitoring;
  return WAVE_OF_KIND[manifest.kind] ?? WAVES.workloads;
}

/** Whether an object must be applied server-side. */
export function needsServerSideApply(
  config: TargetConfig,
  manifest: Manifest,
  bound = jsonBytesAtMost(manifest),
): boolean {
  const dashboard =
    manifest.kind === 'ConfigMap' && manifest.metadata.labels?.[config.monitoring.grafana.dashboardLabel] !== undefined;
  return (
    dashboard ||
    (bound > SERVER_SIDE_APPLY_BYTES && Buffer.byteLength(JSON.stringify(manifest)) > SERVER_SIDE_APPLY_BYTES)
  );
}

/** `jsonBytesAtMost` of the manifests `withDeliveryAnnotations` returned, computed as they were made. */
const sizeBounds = new WeakMap<object, number>();

/** `jsonBytesAtMost(manifest)`, without walking it again when `withDeliveryAnnotations` made it. */
export function jsonBytesBound(manifest: Manifest): number {
  return sizeBounds.get(manifest) ?? jsonBytesAtMost(manifest);
}

/**
 * An upper bound of the size of `value` as UTF-8 JSON, several times cheaper than writing it:
 * a UTF-16 unit of a string takes at most 6 bytes (`\u001f`), a number at most 24 characters.
 * Nearly every object is far below the server-side apply limit, so only the few near it are
 * written out to be measured exactly.
 */
export function jsonBytesAtMost(value: unknown): number {
  if (typeof value === 'string') return 6 * value.length + 2;
  if (typeof value !== 'object' || value === null) return 24;
  let bytes = 2;
  if (Array.isArray(value)) {
    for (const item of value) bytes += jsonBytesAtMost(item) + 1;
    return bytes;
  }
  for (const key of Object.keys(value))
    bytes += 6 * key.length + 4 + jsonBytesAtMost((value as Record<string, unknown>)[key]);
  return bytes;
}

/**
 * Adds Argo CD's per-object annotations to every manifest of a target, whoever created it: the
 * sync wave, and server-side apply for dashboards (they grow) and objects too large for a
 * client-side apply. An annotation a construct set itself is kept.
 */
export function withDeliveryAnnotations(config: TargetConfig, manifest: Manifest): Manifest {
  const annotations: Record<string, string> = { ...(manifest.metadata.annotations ?? {}) };
  annotations[SYNC_WAVE] ??= String(syncWaveOf(config, manifest));
  const bound = jsonBytesAtMost(manifest);
  if (needsServerSideApply(config, manifest, bound) && !annotations[SYNC_OPTIONS])
    annotations[SYNC_OPTIONS] = 'ServerSideApply=true';
  // keys in the order cdk8s writes them
  const metadata = withSortedKeys({
    ...manifest.metadata,
    annotations: withSortedKeys(annotations),
  }) as Manifest['metadata'];
  const result = { ...manifest, metadata };
  // the old annotations are counted twice: still a bound, and the walk is not repeated
  sizeBounds.set(result, bound + jsonBytesAtMost(annotations) + 6 * 'annotations'.length + 4);
  return result;
}
