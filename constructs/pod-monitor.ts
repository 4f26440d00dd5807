import { Construct } from 'constructs';
import { ServiceConfig, TargetConfig } from '../config/types';
import { PodMonitor as PodMonitorResource } from '../imports/podmonitor-monitoring.coreos.com';
import { LABEL, serviceLabels } from './labels';
import { scrapeEndpointOf } from './service-monitor';

export interface PodMonitorProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** Labels of the workload's pods (its selector); every pod carrying them is scraped. */
  readonly selector: Record<string, string>;
}

/**
 * The PodMonitor that makes Prometheus scrape a service's `metrics` port on every pod of its
 * workload directly, not through a Service. For pods behind more than one Service (the active
 * and preview Services of a blue/green Rollout) a ServiceMonitor would either scrape them twice
 * or, through the active Service alone, miss the new pods until promotion, which is exactly when
 * the pre-promotion analysis needs their metrics. Selecting the pods by the workload's selector
 * scrapes the stable and the new ReplicaSet alike, once each.
 *
 * `jobLabel` takes `job` from the pod's `app.kubernetes.io/name` (the service's name), so the
 * series carry the same `job` and `namespace` as those scraped by a ServiceMonitor, and the alert
 * rules, recording rules, dashboards and analysis select them unchanged. Interval and timeout are
 * those of the ServiceMonitor (constructs/service-monitor.ts).
 */
export class PodMonitor extends Construct {
  constructor(scope: Construct, id: string, props: PodMonitorProps) {
    super(scope, id);
    const { config, service } = props;
    new PodMonitorResource(this, 'resource', {
      metadata: {
        name: service.name,
        labels: { ...serviceLabels(config, service), ...config.monitoring.selectorLabels },
      },
      spec: {
        selector: { matchLabels: props.selector },
        namespaceSelector: { matchNames: [config.namespace] },
        jobLabel: LABEL.name,
        podMetricsEndpoints: [scrapeEndpointOf(config, service)],
      },
    });
    this.node.addValidation({
      validate: () => props.selector[LABEL.name] === service.name ? [] : [
        `PodMonitor of service "${service.name}" in ${config.target} selects pods whose ${LABEL.name} is "${props.selector[LABEL.name]}", but jobLabel takes job from it and the rules expect job="${service.name}"; select the workload's pods by the service's selector labels`,
      ],
    });
  }
}
