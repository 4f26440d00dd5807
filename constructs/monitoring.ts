import { Construct } from 'constructs';
import { MonitoringScope, ServiceAlertRules } from './alert-rules';
import { ServiceDashboard, ServiceDashboardProps } from './dashboards';
import { PodMonitor } from './pod-monitor';
import { ServiceMonitor } from './service-monitor';
import { WorkloadRef } from './workload';

export interface ServiceMonitoringProps {
  /** The workload the service runs as; its HPA is `scope.hpaName` (the same name, or KEDA's `keda-hpa-<name>`). */
  readonly workload: WorkloadRef;
  /** What the scrape, the rules and the dashboard select on (`monitoringScope`); scraped only when `scope.scraped`. */
  readonly scope: MonitoringScope;
  /** Labels of the scrape config and the PrometheusRule, including those the Prometheus instance selects them by. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels selecting the service's Service, which a ServiceMonitor scrapes through. @default the workload's selector */
  readonly serviceSelector?: Record<string, string>;
  /** The runbook URL of an alert: `{alert}` is replaced with its name in lower-case kebab form. */
  readonly runbookUrlPattern: string;
  /** The dashboard's labels, folder and tags. @default - no labels, folder or tags beyond the service's name */
  readonly dashboard?: Omit<ServiceDashboardProps, 'scope'>;
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
    const { scope: monitored, workload } = props;
    if (monitored.scraped) {
      const monitor = {
        name: monitored.service.name,
        labels: props.labels,
        namespace: monitored.namespace,
        interval: monitored.interval,
      };
      if (workload.previewService) new PodMonitor(this, 'pod-monitor', { ...monitor, selector: workload.selector });
      else
        new ServiceMonitor(this, 'service-monitor', {
          ...monitor,
          selector: props.serviceSelector ?? workload.selector,
        });
    }
    this.rules = new ServiceAlertRules(this, 'rules', {
      scope: monitored,
      labels: props.labels,
      runbookUrlPattern: props.runbookUrlPattern,
    });
    new ServiceDashboard(this, 'dashboard', { ...props.dashboard, scope: monitored });
  }
}
