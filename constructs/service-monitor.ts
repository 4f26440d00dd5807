import { Construct } from 'constructs';
import { METRICS_PORT } from '../config/monitoring-rules';
import { ServiceConfig, TargetConfig } from '../config/types';
import { ServiceMonitor as ServiceMonitorResource } from '../imports/servicemonitor-monitoring.coreos.com';
import { durationSeconds, formatDuration } from '../core/promql';
import { scrapeIntervalOf } from './alert-rules';
import { selectorLabels, serviceLabels } from './labels';

/** Prometheus's default scrape timeout; a scrape may never take longer than its interval. */
const DEFAULT_SCRAPE_TIMEOUT_SECONDS = 10;

/** How a service's `metrics` port is scraped: port, interval and timeout, the same for a ServiceMonitor and a PodMonitor. */
export function scrapeEndpointOf(config: TargetConfig, service: ServiceConfig): { port: string; interval: string; scrapeTimeout: string } {
  const interval = scrapeIntervalOf(config, service);
  return {
    port: METRICS_PORT,
    interval,
    // Prometheus refuses a timeout longer than the interval (a 5s interval needs 5s)
    scrapeTimeout: formatDuration(Math.min(DEFAULT_SCRAPE_TIMEOUT_SECONDS, durationSeconds(interval))),
  };
}

export interface ServiceMonitorProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
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
    const { config, service } = props;
    new ServiceMonitorResource(this, 'resource', {
      metadata: {
        name: service.name,
        labels: { ...serviceLabels(config, service), ...config.monitoring.selectorLabels },
      },
      spec: {
        selector: { matchLabels: selectorLabels(config, service) },
        namespaceSelector: { matchNames: [config.namespace] },
        endpoints: [scrapeEndpointOf(config, service)],
      },
    });
  }
}
