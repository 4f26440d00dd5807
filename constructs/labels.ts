import { ServiceConfig, TargetConfig } from '../config/types';
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

/** Labels every object of a target carries (stamped by the chart). */
export function platformLabels(config: TargetConfig): Record<string, string> {
  return {
    [LABEL.partOf]: config.platform.name,
    [LABEL.managedBy]: 'cdk8s',
  };
}

export { instanceOf };

/**
 * Labels that select a service's pods. Stable by construction: derived from the service name
 * and the environment, never from a construct path or a version, so they never change under a
 * live (immutable) selector.
 */
export function selectorLabels(config: TargetConfig, service: ServiceConfig): Record<string, string> {
  return {
    [LABEL.name]: service.name,
    [LABEL.instance]: instanceOf(config),
  };
}

export { versionOf };

/**
 * versionOf per service: every object of a service asks for it. Keyed by the service's
 * configuration object, so the entry dies with the configuration it was read from (one synthesis)
 * and a configuration loaded later, with another image, never reads it.
 */
const versions = new WeakMap<ServiceConfig, string>();

/** All labels of a service's objects and pods. */
export function serviceLabels(config: TargetConfig, service: ServiceConfig): Record<string, string> {
  let version = versions.get(service);
  if (version === undefined) versions.set(service, version = versionOf(service));
  return {
    ...selectorLabels(config, service),
    [LABEL.version]: version,
    [LABEL.component]: service.component,
    ...platformLabels(config),
  };
}

/** Labels of the target's shared objects (namespace, quota, policies that are not a service's). */
export function sharedLabels(config: TargetConfig, component: string): Record<string, string> {
  return {
    [LABEL.name]: config.platform.name,
    [LABEL.instance]: instanceOf(config),
    [LABEL.component]: component,
    ...platformLabels(config),
  };
}
