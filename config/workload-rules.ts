/**
 * Invariants of a service's pods, each written once. Two checks apply them:
 *
 * - the configuration check (config/rules.ts) applies them to the configured values and points at
 *   the file, line and path that set them (`services.gateway.resources`);
 * - the policy check (pipeline/policy.ts) applies the same functions to the synthesized objects,
 *   which also holds what the configuration check cannot see: values a construct changed on the
 *   way (development's requestScale) and objects no configuration made (a hand-written construct).
 *   It maps each object back to the configuration path of its service (`servicePathOf`).
 *
 * Each function takes plain values (what a manifest and a configuration both hold) and returns
 * what is wrong with them, with the fix, or nothing.
 */
import { cpuMillis, memoryBytes } from '../core/quantity';
import { show } from './errors';
import { IMMUTABLE_TAG, parseImage } from './model';
import type { ServiceConfig, TargetConfig, Tier } from './types';

/** Tags that are moved on purpose and so never pin anything. */
export const FLOATING_TAGS: ReadonlySet<string> = new Set([
  'latest',
  'stable',
  'main',
  'master',
  'edge',
  'nightly',
  'dev',
]);

/**
 * Why an image reference does not pin what runs, with the fix, or undefined when it does: a tag
 * that does not move (no tag at all, or one of FLOATING_TAGS, pins nothing), and in production a
 * digest or a full version.
 */
export function imagePinProblem(reference: string, tier: Tier): string | undefined {
  const image = parseImage(reference);
  if (!image.tag && !image.digest) {
    return `${show(reference)} is not pinned; add a version tag (":1.4.2") or a digest ("@sha256:...")`;
  }
  if (image.tag && FLOATING_TAGS.has(image.tag.toLowerCase()) && !image.digest) {
    return `${show(reference)} uses the moving tag "${image.tag}"; pin a version tag (":1.4.2") or a digest ("@sha256:...")`;
  }
  if (tier === 'production' && !image.digest && !IMMUTABLE_TAG.test(image.tag ?? '')) {
    return `${show(reference)} is not immutable; production images need a digest ("@sha256:...") or a full version tag such as ":1.4.2"`;
  }
  return undefined;
}

/** CPU and memory of a container's requests and limits, as configured or as rendered. */
export interface QosResources {
  readonly requests?: { readonly cpu?: string | number; readonly memory?: string | number };
  readonly limits?: { readonly cpu?: string | number; readonly memory?: string | number };
}

/** One way a container breaks Guaranteed QoS; `field` is relative to the container's resources. */
export interface QosProblem {
  readonly field: '' | 'limits.cpu';
  readonly message: string;
}

/**
 * What keeps a container of a Guaranteed-QoS pod from it: Kubernetes gives a pod Guaranteed QoS
 * only when every container's requests equal its limits (CPU and memory), and the CPU manager
 * gives exclusive cores only to a container with whole CPUs. `exclusiveCores` is true for the
 * service's own container (the latency-critical one); a sidecar shares the node's other cores, so
 * a fractional CPU keeps the pod Guaranteed.
 */
export function guaranteedQosProblems(resources: QosResources, exclusiveCores: boolean): QosProblem[] {
  const { requests = {}, limits = {} } = resources;
  const millis = (q: string | number | undefined) => (q === undefined ? NaN : cpuMillis(String(q)));
  const bytes = (q: string | number | undefined) => (q === undefined ? NaN : memoryBytes(String(q)));
  const problems: QosProblem[] = [];
  if (!(millis(requests.cpu) === millis(limits.cpu) && bytes(requests.memory) === bytes(limits.memory))) {
    problems.push({
      field: '',
      message: `Guaranteed QoS needs requests equal to limits${exclusiveCores ? '' : ' in every container of the pod'} (got requests ${show(requests)}, limits ${show(limits)})`,
    });
  }
  if (exclusiveCores && millis(limits.cpu) % 1000 !== 0) {
    problems.push({
      field: 'limits.cpu',
      message: `Guaranteed QoS with exclusive cores needs whole CPUs; ${show(limits.cpu)} is fractional`,
    });
  }
  return problems;
}

/** The environment files a target is made of, for messages: `environments/defaults.yaml, environments/production.yaml`. */
export function filesOf(config: TargetConfig): string {
  return config.sources.join(', ');
}

/**
 * Where a container of a service's pods is configured: `services.<name>` for the service's own
 * container (named after the service, constructs/pod-template.ts), `services.<name>.sidecars[i]`
 * for a sidecar; undefined for a container no configuration declares.
 */
export function containerPathOf(service: ServiceConfig, containerName: string): string | undefined {
  if (containerName === service.name) return `services.${service.name}`;
  const i = (service.sidecars ?? []).findIndex((sc) => sc.name === containerName);
  return i < 0 ? undefined : `services.${service.name}.sidecars[${i}]`;
}
