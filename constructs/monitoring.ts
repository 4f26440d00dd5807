import { Construct } from 'constructs';
import { METRICS_PORT } from '../config/monitoring-rules';
import { ServiceConfig, TargetConfig } from '../config/types';
import { ServiceAlertRules } from './alert-rules';
import { ServiceDashboard } from './dashboards';
import { PodMonitor } from './pod-monitor';
import { ServiceMonitor } from './service-monitor';
import { WorkloadRef } from './workload';

export interface ServiceMonitoringProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** The workload the service runs as; its HPA (if any) carries the same name. */
  readonly workload: WorkloadRef;
}

/**
 * The monitoring bundle of one service, as kube-prometheus emits it with each component: when the
 * service has a `metrics` port, exactly one scrape config for it (a ServiceMonitor through its
 * Service, or a PodMonitor on the pods when they sit behind an active and a preview Service, so
 * that the new pods are scraped before promotion and no pod twice), a PrometheusRule (standard,
 * trading, custom and SLO burn-rate alerts) and a Grafana dashboard.
 */
export class ServiceMonitoring extends Construct {
  readonly rules: ServiceAlertRules;

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    const { config, service, workload } = props;
    if (service.ports.some((p) => p.name === METRICS_PORT)) {
      if (workload.previewService) new PodMonitor(this, 'pod-monitor', { config, service, selector: workload.selector });
      else new ServiceMonitor(this, 'service-monitor', { config, service });
    }
    this.rules = new ServiceAlertRules(this, 'rules', { config, service, workloadName: workload.name });
    new ServiceDashboard(this, 'dashboard', { config, service, workloadName: workload.name });
  }
}
