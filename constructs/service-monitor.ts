import { Construct } from 'constructs';
import { METRICS_PORT } from '../config/monitoring-rules';
import { ServiceConfig, TargetConfig } from '../config/types';
import { ServiceMonitor as ServiceMonitorResource } from '../imports/servicemonitor-monitoring.coreos.com';
import { durationSeconds, formatDuration } from '../lib/promql';
import { scrapeIntervalOf } from './alert-rules';
import { selectorLabels, serviceLabels } from './labels';

/** Prometheus's default scrape timeout; a scrape may never take longer than its interval. */
const DEFAULT_SCRAPE_TIMEOUT_SECONDS = 10;

export interface ServiceMonitorProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
}

/**
 * The ServiceMonitor that makes Prometheus scrape a service's `metrics` port through its Service,
 * every `monitoring.interval` (default: the environment's `monitoring.scrapeInterval`). It carries
 * `monitoring.selectorLabels` so that the Prometheus instance selects it. Prometheus then labels
 * the series with `job` = the Service's name and `namespace` = its namespace, which the alert
 * rules select on.
 */
export class ServiceMonitor extends Construct {
  constructor(scope: Construct, id: string, props: ServiceMonitorProps) {
    super(scope, id);
    const { config, service } = props;
    const interval = scrapeIntervalOf(config, service);
    new ServiceMonitorResource(this, 'resource', {
      metadata: {
        name: service.name,
        labels: { ...serviceLabels(config, service), ...config.monitoring.selectorLabels },
      },
      spec: {
        selector: { matchLabels: selectorLabels(config, service) },
        namespaceSelector: { matchNames: [config.namespace] },
        endpoints: [{
          port: METRICS_PORT,
          interval,
          // Prometheus refuses a timeout longer than the interval (a 5s interval needs 5s)
          scrapeTimeout: formatDuration(Math.min(DEFAULT_SCRAPE_TIMEOUT_SECONDS, durationSeconds(interval))),
        }],
      },
    });
  }
}
