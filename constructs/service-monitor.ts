import { Construct } from 'constructs';
import { METRICS_PORT } from '../config/monitoring-rules';
import { ServiceMonitor as ServiceMonitorResource } from '../imports/servicemonitor-monitoring.coreos.com';
import { durationSeconds, formatDuration } from '../core/promql';

/** Prometheus's default scrape timeout; a scrape may never take longer than its interval. */
const DEFAULT_SCRAPE_TIMEOUT_SECONDS = 10;

/** How a service's metrics port is scraped: port, interval and timeout, the same for a ServiceMonitor and a PodMonitor. */
export function scrapeEndpointOf(
  interval: string,
  port: string = METRICS_PORT,
): { port: string; interval: string; scrapeTimeout: string } {
  return {
    port,
    interval,
    // Prometheus refuses a timeout longer than the interval (a 5s interval needs 5s)
    scrapeTimeout: formatDuration(Math.min(DEFAULT_SCRAPE_TIMEOUT_SECONDS, durationSeconds(interval))),
  };
}

export interface ServiceMonitorProps {
  /** The monitor's name (the service's). */
  readonly name: string;
  /** Labels of the monitor, including those the Prometheus instance selects monitors by. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels selecting the Service (the service's selector labels). */
  readonly selector: Record<string, string>;
  /** The namespace the Service is in. */
  readonly namespace: string;
  /** Scrape interval (a Prometheus duration); the timeout is 10s or the interval when shorter. */
  readonly interval: string;
  /** The Service port's name. @default 'metrics' */
  readonly port?: string;
}

/**
 * The ServiceMonitor that makes Prometheus scrape a service's `metrics` port through its Service,
 * every `monitoring.interval` (default: the environment's `monitoring.scrapeInterval`). It carries
 * `monitoring.selectorLabels` so that the Prometheus instance selects it. Prometheus then labels
 * the series with `job` = the Service's name and `namespace` = its namespace, which the alert
 * rules select on. Used for workloads behind exactly one Service; pods behind an active and a
 * preview Service are scraped by a PodMonitor instead (constructs/pod-monitor.ts).
 */
export class ServiceMonitor extends Construct {
  constructor(scope: Construct, id: string, props: ServiceMonitorProps) {
    super(scope, id);
    new ServiceMonitorResource(this, 'resource', {
      metadata: { name: props.name, labels: props.labels },
      spec: {
        selector: { matchLabels: props.selector },
        namespaceSelector: { matchNames: [props.namespace] },
        endpoints: [scrapeEndpointOf(props.interval, props.port)],
      },
    });
  }
}
