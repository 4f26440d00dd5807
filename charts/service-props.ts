/**
 * The one place that translates a target's configuration into the narrow props of the constructs
 * (names, labels, selectors, ports, peers, resources): the constructs never read the configuration,
 * so each can be built and tested alone; the charts call these functions.
 */
import { instanceOf } from '../config/model';
import { ServiceConfig, TargetConfig } from '../config/types';
import { serviceLabels, selectorLabelsOf, sharedLabels, TargetLabels } from '../constructs/labels';

/** What the labels of every object of a target are made of. */
export function targetLabelsOf(config: TargetConfig): TargetLabels {
  return { platform: config.platform.name, instance: instanceOf(config) };
}

/** Labels of the target's shared objects of one component (namespace, quota, policies that are not a service's). */
export function sharedLabelsOf(config: TargetConfig, component: string): Record<string, string> {
  return sharedLabels(targetLabelsOf(config), component);
}

/** The name, object labels and pod selector of one service. */
export interface ServiceIdentity {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
}

export function identityOf(config: TargetConfig, service: ServiceConfig): ServiceIdentity {
  return { name: service.name, labels: serviceLabels(config, service), selector: selectorLabelsOf(service.name, instanceOf(config)) };
}

export { serviceLabels };
