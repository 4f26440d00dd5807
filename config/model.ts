/**
 * Facts derived from one target's configuration, shared by the rules that check it and the charts
 * and constructs that build from it. Nothing here validates or throws.
 */
import type { ServiceConfig, TargetConfig } from './types';

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

/** The service mesh of a target when it is on (`mesh.mode` other than `off`), else undefined. */
export function meshOf(config: TargetConfig): NonNullable<TargetConfig['mesh']> | undefined {
  return config.mesh && config.mesh.mode !== 'off' ? config.mesh : undefined;
}

/** The trust domain of SPIFFE identities when `mesh.trustDomain` is not set (Istio's default). */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
