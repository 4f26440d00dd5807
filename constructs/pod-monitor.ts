import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { PodMonitor as PodMonitorResource } from '../imports/podmonitor-monitoring.coreos.com';
import { LABEL } from './labels';
import { scrapeEndpointOf } from './service-monitor';

export interface PodMonitorProps {
  /** The monitor's name: the service's, which the series' `job` must be. */
  readonly name: string;
  /** Labels of the monitor, including those the Prometheus instance selects monitors by. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels of the workload's pods (its selector); every pod carrying them is scraped. */
  readonly selector: Record<string, string>;
  /** The namespace the pods are in. */
  readonly namespace: string;
  /** Scrape interval (a Prometheus duration); the timeout is 10s or the interval when shorter. */
  readonly interval: string;
  /** The container port's name. @default 'metrics' */
  readonly port?: string;
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
    const { name } = props;
    new PodMonitorResource(this, 'resource', {
      metadata: { name, labels: props.labels },
      spec: {
        selector: { matchLabels: props.selector },
        namespaceSelector: { matchNames: [props.namespace] },
        jobLabel: LABEL.name,
        podMetricsEndpoints: [scrapeEndpointOf(props.interval, props.port)],
      },
    });
    this.node.addValidation({
      validate: () =>
        props.selector[LABEL.name] === name
          ? []
          : [
              `PodMonitor of service "${name}" in ${Chart.of(this).node.id} selects pods whose ${LABEL.name} is "${props.selector[LABEL.name]}", but jobLabel takes job from it and the rules expect job="${name}"; select the workload's pods by the service's selector labels`,
            ],
    });
  }
}
