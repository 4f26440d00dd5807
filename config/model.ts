/**
 * Facts derived from one target's configuration, shared by the rules that check it and the charts
 * and constructs that build from it. Nothing here validates or throws.
 */
import type { NodeLabel, NodeTaint, ServiceConfig, TargetConfig } from './types';

/**
 * The value a configuration map (services, externals, priorityClasses, ...) holds under `key`,
 * never a member every object inherits (`constructor`, `toString`): map keys are user input.
 */
export function ownValue<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** The instance label: the platform in one environment (the same in every region). */
export function instanceOf(config: TargetConfig): string {
  return `${config.platform.name}-${config.environment}`;
}

/** Whether a service is released blue/green (an Argo Rollouts Rollout) rather than rolled. */
export function isBlueGreen(service: ServiceConfig): boolean {
  return service.release?.strategy === 'blueGreen';
}

/** The Service that reaches only the new (green) pods before promotion. */
export const previewServiceNameOf = (service: ServiceConfig) => `${service.name}-preview`;
/** What a blue/green service's smoke-test Job, its pods' name label and NetworkPolicy add to the service name. */
export const SMOKE_TEST_SUFFIX = '-smoke-test';

/** An immutable release tag: a full semantic version (v1.2.3, 1.2.3-rc.1). */
export const IMMUTABLE_TAG = /^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/;

export interface ImageRef {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export function parseImage(image: string): ImageRef {
  const [named, digest] = image.split('@');
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const tag = colon > slash ? named.slice(colon + 1) : undefined;
  const repository = colon > slash ? named.slice(0, colon) : named;
  return { repository, tag, digest };
}

/** The version label: the image tag, or the digest's first 12 hex digits when only a digest is given. */
export function versionOf(service: ServiceConfig): string {
  const image = parseImage(service.image);
  const version = image.tag ?? (image.digest ? image.digest.replace('sha256:', '').slice(0, 12) : 'unknown');
  return version.slice(0, 63);
}

/** The replica range of a service: fixed replicas give min = max. */
export function replicaRange(service: ServiceConfig): { min: number; max: number } {
  return typeof service.replicas === 'number' ? { min: service.replicas, max: service.replicas } : service.replicas;
}

/** True when an HPA scales the service (a range with min < max). */
export function isAutoscaled(service: ServiceConfig): boolean {
  const { min, max } = replicaRange(service);
  return min < max;
}

/**
 * Whether a service's pods are Guaranteed QoS: it asks for it (`qos: guaranteed`) or for pinned
 * CPUs, which the CPU manager grants only to Guaranteed pods.
 */
export function isGuaranteed(service: Pick<ServiceConfig, 'qos' | 'cpuPinning'>): boolean {
  return service.qos === 'guaranteed' || service.cpuPinning === true;
}

/** What makes a service latency-critical: the configuration fields `latencyCriticalBecause` reads. */
export type LatencyFacts = Pick<ServiceConfig, 'qos' | 'cpuPinning' | 'monitoring'>;

/**
 * Why a service is latency-critical, from what its configuration already says (empty when it is
 * not): Guaranteed QoS or pinned CPUs (its container gets whole, exclusive cores) or an order
 * latency alert (its latency budget is the order path's). The one definition behind every rule
 * about such services: they always keep a warm pod (no scale to zero) and never run on spot
 * capacity, which is reclaimed at two minutes' notice.
 */
export function latencyCriticalBecause(service: LatencyFacts): string[] {
  const reasons: string[] = [];
  if (service.cpuPinning === true) reasons.push('cpuPinning: true');
  if (service.qos === 'guaranteed') reasons.push('qos: guaranteed');
  const orderLatency = service.monitoring?.alerts?.orderLatency;
  if (orderLatency)
    reasons.push(
      `an order latency alert (p${Math.round(orderLatency.quantile * 1000) / 10} under ${orderLatency.thresholdSeconds}s)`,
    );
  return reasons;
}

/** Whether a service keeps state on a volume of its own: a StatefulSet, or a service with storage. */
export function isStateful(service: Pick<ServiceConfig, 'workload' | 'storage'>): boolean {
  return service.workload === 'statefulset' || service.storage !== undefined;
}

/** The label and taint of a spot pool when `cluster.spot` does not say (Karpenter's capacity-type label). */
export const DEFAULT_SPOT_LABEL: NodeLabel = { key: 'karpenter.sh/capacity-type', value: 'spot' };

/** How the target's cluster labels and taints its spot nodes: `cluster.spot`, defaults filled in. */
export function spotPoolOf(config: Pick<TargetConfig, 'cluster'>): { label: NodeLabel; taint: NodeTaint } {
  const label = config.cluster.spot?.label ?? DEFAULT_SPOT_LABEL;
  return { label, taint: config.cluster.spot?.taint ?? { ...label, effect: 'NoSchedule' } };
}

/** The labels of the nodes whose kubelet runs the static CPU manager policy when `cluster.cpuPinning` does not say (OpenShift's convention). */
export const DEFAULT_PINNED_NODE_SELECTOR: Readonly<Record<string, string>> = { cpumanager: 'true' };

/** The labels pinned pods select their nodes by: `cluster.cpuPinning.nodeSelector`, or the default. */
export function pinnedNodeSelectorOf(config: Pick<TargetConfig, 'cluster'>): Record<string, string> {
  return { ...(config.cluster.cpuPinning?.nodeSelector ?? DEFAULT_PINNED_NODE_SELECTOR) };
}

/** The service mesh of a target when it is on (`mesh.mode` other than `off`), else undefined. */
export function meshOf(config: TargetConfig): NonNullable<TargetConfig['mesh']> | undefined {
  return config.mesh && config.mesh.mode !== 'off' ? config.mesh : undefined;
}

/** The trust domain of SPIFFE identities when `mesh.trustDomain` is not set (Istio's default). */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
