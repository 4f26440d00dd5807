import { instanceOf, versionOf } from '../config/model';

/** The `app.kubernetes.io/*` label keys. */
export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  version: 'app.kubernetes.io/version',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** What the labels of a target's objects are made of: the platform, and the platform in one environment. */
export interface TargetLabels {
  /** `app.kubernetes.io/part-of`, e.g. `trading-platform`. */
  readonly platform: string;
  /** `app.kubernetes.io/instance`: the platform in one environment, e.g. `trading-platform-staging`. */
  readonly instance: string;
}

/** What the labels of one service's objects are made of, besides the target's. */
export interface ServiceLabelsOptions extends TargetLabels {
  /** `app.kubernetes.io/name`: the service's name. */
  readonly name: string;
  /** `app.kubernetes.io/version`: the image tag (or digest prefix). */
  readonly version: string;
  /** `app.kubernetes.io/component`. */
  readonly component: string;
}

/** Labels every object of a target carries (stamped by the chart). */
export function platformLabels(platform: string): Record<string, string> {
  return {
    [LABEL.partOf]: platform,
    [LABEL.managedBy]: 'cdk8s',
  };
}

export { instanceOf };

/**
 * Labels that select a service's pods. Stable by construction: derived from the service name
 * and the environment, never from a construct path or a version, so they never change under a
 * live (immutable) selector.
 */
export function selectorLabelsOf(name: string, instance: string): Record<string, string> {
  return {
    [LABEL.name]: name,
    [LABEL.instance]: instance,
  };
}

export { versionOf };

/** All labels of a service's objects and pods. */
export function serviceLabelsOf(options: ServiceLabelsOptions): Record<string, string> {
  return {
    ...selectorLabelsOf(options.name, options.instance),
    [LABEL.version]: options.version,
    [LABEL.component]: options.component,
    ...platformLabels(options.platform),
  };
}

/** Labels of the target's shared objects (namespace, quota, policies that are not a service's). */
export function sharedLabels(target: TargetLabels, component: string): Record<string, string> {
  return {
    [LABEL.name]: target.platform,
    [LABEL.instance]: target.instance,
    [LABEL.component]: component,
    ...platformLabels(target.platform),
  };
}
