import { Construct } from 'constructs';
import { servesHttp } from '../config/monitoring-rules';
import { ServiceMonitoringConfig, StandardThresholds } from '../config/types';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/prometheusrule-monitoring.coreos.com';
import { ALERT } from '../core/alert-names';
import { escapeTemplate } from '../core/go-template';
import { durationSeconds, formatDuration, matchers, num, promqlError, scopeSelectors } from '../core/promql';
import { replicationAlerts, SentinelScope } from './replication-alerts';
import { sloRuleGroup } from './slo-burn-rate';

export type Severity = 'critical' | 'warning' | 'info';

/**
 * An alerting rule before rendering. `reason` says why the threshold is what it is; YAML comments
 * do not survive synthesis, so it is written to the alert's `threshold_reason` annotation where
 * the on-call engineer (and a reviewer of dist/) reads it next to the rule.
 */
export interface AlertSpec {
  readonly alert: string;
  readonly expr: string;
  /** @default - fires on the first evaluation that matches */
  readonly for?: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly description: string;
  readonly reason: string;
  /** Extra labels, e.g. the windows of a burn-rate alert. */
  readonly labels?: Record<string, string>;
}

export interface RecordSpec {
  readonly record: string;
  readonly expr: string;
  /** Labels set on the recorded series (e.g. namespace and job of a constant). @default none */
  readonly labels?: Record<string, string>;
}

export interface RuleGroupSpec {
  readonly name: string;
  /** @default - Prometheus's global evaluation interval */
  readonly interval?: string;
  readonly rules: ReadonlyArray<AlertSpec | RecordSpec>;
}

/** The service a scope monitors: its name and what its monitoring configuration asks for. */
export interface MonitoredService {
  readonly name: string;
  /** What the service does, for its dashboard. @default none */
  readonly description?: string;
  /** Its alerts, metrics, SLO, scrape interval and threshold overrides. @default none: the standard alerts only */
  readonly monitoring?: ServiceMonitoringConfig;
}

/** What the rules of one service select on, derived once by `monitoringScope`. */
export interface MonitoringScope {
  readonly service: MonitoredService;
  /** The namespace the service runs in. */
  readonly namespace: string;
  /** The region of a multi-region environment, labelled on every alert. @default none */
  readonly region?: string;
  /** The standard thresholds, the service's overrides applied. */
  readonly thresholds: StandardThresholds;
  /** Severity of "target down". */
  readonly targetDownSeverity: 'critical' | 'warning';
  /** The service's scrape interval (a Prometheus duration). */
  readonly interval: string;
  /** Whether an HPA scales the service. */
  readonly autoscaled: boolean;
  /**
   * Matchers for the service's own metrics. The ServiceMonitor scrapes through the Service of
   * the same name, so Prometheus sets `job` to the Service name and `namespace` to its namespace;
   * a PodMonitor (Rollouts) sets `job` from the pods' `app.kubernetes.io/name`, the same name.
   */
  readonly app: string;
  /** Matchers for kube-state-metrics and cAdvisor series of the service's containers. */
  readonly pods: string;
  /** The service's scrape interval in seconds. */
  readonly intervalSeconds: number;
  /** Whether Prometheus scrapes the service (it has a `metrics` port). */
  readonly scraped: boolean;
  /** The name of the HorizontalPodAutoscaler: the workload's, or the one KEDA makes for a ScaledObject. */
  readonly hpaName: string;
  /** The service's Sentinel set, whose replication is alerted on. @default - not replicated */
  readonly sentinel?: SentinelScope;
}

export interface MonitoringScopeOptions {
  readonly service: MonitoredService;
  readonly namespace: string;
  /** @default none */
  readonly region?: string;
  /** The environment's standard thresholds; the service's `monitoring.thresholds` override them key by key. */
  readonly thresholds: StandardThresholds;
  /** @default 'critical' */
  readonly targetDownSeverity?: 'critical' | 'warning';
  /** The environment's scrape interval; the service's `monitoring.interval` overrides it. */
  readonly scrapeInterval: string;
  /** Whether Prometheus scrapes the service (it has a `metrics` port). */
  readonly scraped: boolean;
  /** Whether an HPA scales the service. @default false */
  readonly autoscaled?: boolean;
  /** The workload's name (the HPA is named after it). @default the service's name */
  readonly workloadName?: string;
  /** The service's Sentinel set. @default - not replicated */
  readonly sentinel?: SentinelScope;
  /** The HPA's name when it is not the workload's (KEDA's `keda-hpa-<name>`). @default workloadName */
  readonly hpaName?: string;
}

export function monitoringScope(options: MonitoringScopeOptions): MonitoringScope {
  const { service, namespace } = options;
  const interval = scrapeIntervalOf(options.scrapeInterval, service);
  return {
    service,
    namespace,
    region: options.region,
    thresholds: thresholdsOf(options.thresholds, service),
    targetDownSeverity: options.targetDownSeverity ?? 'critical',
    interval,
    autoscaled: options.autoscaled ?? false,
    app: matchers({ namespace, job: service.name }),
    // the container is named after the service (charts/service-props.ts)
    pods: matchers({ namespace, container: service.name }),
    intervalSeconds: durationSeconds(interval),
    scraped: options.scraped,
    hpaName: options.hpaName ?? options.workloadName ?? service.name,
    sentinel: options.sentinel,
  };
}

/** The scrape interval of a service: its own, else the environment's. */
export function scrapeIntervalOf(environmentInterval: string, service: MonitoredService): string {
  return service.monitoring?.interval ?? environmentInterval;
}

/**
 * The window of `rate()` for fast alerts: at least four scrapes, so that one missed scrape
 * never empties the window, and at least 1m.
 */
export function rateWindow(scope: MonitoringScope): string {
  return formatDuration(Math.max(60, 4 * scope.intervalSeconds));
}

/** `HTTPErrorRateHigh` → `http-error-rate-high`, the `{alert}` of the runbook URL pattern. */
export function runbookSlug(alert: string): string {
  return alert
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** `0.0001` → `100µs`, `0.25` → `250ms`, `2` → `2s`. */
export function humanSeconds(seconds: number): string {
  if (seconds < 0.001) return `${num(seconds * 1e6)}µs`;
  if (seconds < 1) return `${num(seconds * 1e3)}ms`;
  return `${num(seconds)}s`;
}

export function percent(ratio: number): string {
  return `${num(ratio * 100)}%`;
}

/** The standard thresholds of a service: the environment's, with the service's overrides key by key. */
export function thresholdsOf(base: StandardThresholds, service: MonitoredService): StandardThresholds {
  const own = service.monitoring?.thresholds ?? {};
  return Object.fromEntries(
    Object.entries(base).map(([k, v]) => [k, { ...v, ...(own as Record<string, object>)[k] }]),
  ) as unknown as StandardThresholds;
}

/** Where a standard threshold is set, for the reason annotation. */
function thresholdSource(service: MonitoredService, key: keyof StandardThresholds): string {
  return service.monitoring?.thresholds?.[key]
    ? `services.${service.name}.monitoring.thresholds.${key}`
    : `monitoring.thresholds.${key}`;
}

/** `reason` of a standard threshold with where it is set, as written to `threshold_reason`. */
function standardReason(service: MonitoredService, t: StandardThresholds, key: keyof StandardThresholds): string {
  return `${t[key].reason} (${thresholdSource(service, key)} in environments/)`;
}

/** The latency a non-HTTP service is alerted on, from its configured metrics. */
export function nonHttpLatency(scope: MonitoringScope, window: string): { expr: string; what: string } | undefined {
  const { service, app } = scope;
  const metrics = service.monitoring?.metrics;
  const alerts = service.monitoring?.alerts ?? {};
  const duration = metrics?.duration;
  if (!duration) return undefined;
  if ('histogram' in duration && alerts.latencyP95Seconds !== undefined) {
    return {
      expr: `histogram_quantile(0.95, sum by (namespace, job, le) (rate(${duration.histogram}_bucket{${app}}[${window}]))) > ${num(alerts.latencyP95Seconds)}`,
      what: `p95 latency (${duration.histogram})`,
    };
  }
  if ('sum' in duration && alerts.latencyMeanSeconds !== undefined) {
    const count = duration.count ?? metrics?.requests;
    if (!count) return undefined;
    return {
      expr: `(\nsum by (namespace, job) (rate(${duration.sum}{${app}}[${window}]))\n  /\nsum by (namespace, job) (rate(${count}{${app}}[${window}]))\n) > ${num(alerts.latencyMeanSeconds)}`,
      what: `mean latency (${duration.sum} / ${count})`,
    };
  }
  return undefined;
}

/**
 * The alerts every service gets (PLATFORM.md, "Monitoring"): availability of the scrape target,
 * HTTP errors and latency where the service serves HTTP (else latency from its configured
 * metrics), and the Kubernetes view (restarts, memory, CPU throttling, HPA ceiling) from
 * kube-state-metrics and cAdvisor. Every number comes from `monitoring.thresholds` (per
 * environment, overridable per service) and the service's own alerts.
 */
export function standardAlerts(scope: MonitoringScope): { service: AlertSpec[]; kubernetes: AlertSpec[] } {
  const { service, app, pods, namespace } = scope;
  const name = service.name;
  const t = scope.thresholds;
  const out: AlertSpec[] = [];
  if (scope.scraped) {
    out.push({
      alert: ALERT.targetDown,
      expr: `up{${app}} == 0`,
      for: t.targetDown.for,
      severity: scope.targetDownSeverity,
      summary: `${name} metrics target {{ $labels.instance }} is down`,
      description: `Prometheus has not scraped ${name} pod {{ $labels.pod }} in namespace ${namespace} for ${spelled(t.targetDown.for)}; the pod is gone, hung or not ready to serve /metrics.`,
      reason: standardReason(service, t, 'targetDown'),
    });
  }
  if (scope.scraped) {
    // TargetDown needs a target; when there is none at all (all pods gone, the ServiceMonitor or
    // its selector lost) only absent() notices
    out.push({
      alert: ALERT.metricsAbsent,
      expr: `absent(up{${app}})`,
      for: t.targetDown.for,
      severity: scope.targetDownSeverity,
      summary: `${name} has no metrics target at all`,
      description: `Prometheus has no scrape target for ${name} in namespace ${namespace} for ${spelled(t.targetDown.for)}: every pod is gone, or the ServiceMonitor (or its selector) no longer finds them. Every other alert of ${name} is blind meanwhile.`,
      reason: standardReason(service, t, 'targetDown'),
    });
  }
  const latencyPath = `services.${name}.monitoring.alerts`;
  if (scope.scraped && servesHttp(service)) {
    const e = t.httpErrors;
    const ratio = `sum by (namespace, job) (rate(http_requests_total{${app},code=~"5.."}[${e.window}]))\n  /\nsum by (namespace, job) (rate(http_requests_total{${app}}[${e.window}]))`;
    for (const [severity, threshold] of [
      ['warning', e.warning],
      ['critical', e.critical],
    ] as const) {
      out.push({
        alert: ALERT.httpErrorRateHigh,
        expr: `(\n${ratio}\n) > ${num(threshold)}`,
        for: e.for,
        severity,
        summary: `${name} answers more than ${percent(threshold)} of requests with 5xx`,
        description: `{{ $value | humanizePercentage }} of ${name} requests failed with a 5xx status over the last ${spelled(e.window)} (threshold ${percent(threshold)}).`,
        reason: standardReason(service, t, 'httpErrors'),
      });
    }
    const p95 = service.monitoring?.alerts?.latencyP95Seconds;
    if (p95 !== undefined) {
      out.push({
        alert: ALERT.httpLatencyHigh,
        expr: `histogram_quantile(0.95, sum by (namespace, job, le) (rate(http_request_duration_seconds_bucket{${app}}[${t.latency.window}]))) > ${num(p95)}`,
        for: t.latency.for,
        severity: 'warning',
        summary: `${name} p95 latency is above ${humanSeconds(p95)}`,
        description: `The 95th percentile of ${name} request latency has been {{ $value | humanizeDuration }} for ${spelled(t.latency.for)} (threshold ${humanSeconds(p95)}).`,
        reason: `${humanSeconds(p95)} is the service's latency objective, set at ${latencyPath}.latencyP95Seconds in environments/ (the comment there says why); ${standardReason(service, t, 'latency')}`,
      });
    }
  } else if (scope.scraped) {
    const latency = nonHttpLatency(scope, t.latency.window);
    const alerts = service.monitoring?.alerts ?? {};
    const threshold = alerts.latencyP95Seconds ?? alerts.latencyMeanSeconds;
    if (latency && threshold !== undefined) {
      const key = alerts.latencyP95Seconds !== undefined ? 'latencyP95Seconds' : 'latencyMeanSeconds';
      out.push({
        alert: ALERT.latencyHigh,
        expr: latency.expr,
        for: t.latency.for,
        severity: 'warning',
        summary: `${name} ${key === 'latencyP95Seconds' ? 'p95' : 'mean'} latency is above ${humanSeconds(threshold)}`,
        description: `The ${latency.what} of ${name} has been {{ $value | humanizeDuration }} for ${spelled(t.latency.for)} (threshold ${humanSeconds(threshold)}).`,
        reason: `${humanSeconds(threshold)} is the service's latency objective, set at ${latencyPath}.${key} in environments/ (the comment there says why); ${standardReason(service, t, 'latency')}`,
      });
    }
  }

  const c = t.crashLooping;
  const kubernetes: AlertSpec[] = [
    {
      alert: ALERT.podCrashLooping,
      expr: `increase(kube_pod_container_status_restarts_total{${pods}}[${c.window}]) > ${num(c.restarts)}`,
      severity: 'warning',
      summary: `${name} pod {{ $labels.pod }} is crash looping`,
      description: `Container ${name} of pod {{ $labels.pod }} restarted {{ $value | humanize }} times in the last ${spelled(c.window)}.`,
      reason: standardReason(service, t, 'crashLooping'),
    },
    {
      alert: ALERT.containerMemoryNearLimit,
      expr: `(\nmax by (namespace, pod, container) (container_memory_working_set_bytes{${pods}})\n  /\nmax by (namespace, pod, container) (kube_pod_container_resource_limits{${pods},resource="memory"})\n) > ${num(t.memory.ratio)}`,
      for: t.memory.for,
      severity: 'warning',
      summary: `${name} pod {{ $labels.pod }} uses more than ${percent(t.memory.ratio)} of its memory limit`,
      description: `Container ${name} of pod {{ $labels.pod }} has used {{ $value | humanizePercentage }} of its memory limit for ${spelled(t.memory.for)}; at 100% it is OOM-killed.`,
      reason: standardReason(service, t, 'memory'),
    },
    {
      alert: ALERT.containerCpuThrottled,
      expr: `(\nsum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{${pods}}[${t.cpuThrottling.window}]))\n  /\nsum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{${pods}}[${t.cpuThrottling.window}]))\n) > ${num(t.cpuThrottling.ratio)}`,
      for: t.cpuThrottling.for,
      severity: 'warning',
      summary: `${name} pod {{ $labels.pod }} is CPU throttled`,
      description: `Container ${name} of pod {{ $labels.pod }} was throttled in {{ $value | humanizePercentage }} of its CFS periods over ${spelled(t.cpuThrottling.window)}, for ${spelled(t.cpuThrottling.for)}; its CPU limit is too low for its load.`,
      reason: standardReason(service, t, 'cpuThrottling'),
    },
  ];
  if (scope.autoscaled) {
    const hpa = matchers({ namespace, horizontalpodautoscaler: scope.hpaName });
    kubernetes.push({
      alert: ALERT.hpaAtMaxReplicas,
      expr: `max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{${hpa}})\n  >=\nmax by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${hpa}})`,
      for: t.hpaAtMax.for,
      severity: 'warning',
      summary: `${name} has run at its maximum replicas for ${spelled(t.hpaAtMax.for)}`,
      description: `The HorizontalPodAutoscaler ${scope.hpaName} has been at its maximum of {{ $value }} replicas for ${spelled(t.hpaAtMax.for)}; more load cannot be absorbed. Raise replicas.max or find the cause of the load.`,
      reason: standardReason(service, t, 'hpaAtMax'),
    });
  }
  return { service: out, kubernetes };
}

/** `2m` → `2 minutes`, `30s` → `30 seconds`, `1h30m` → `1h30m` (as written when compound). */
export function spelled(duration: string): string {
  const one = /^([0-9]+)(s|m|h|d)$/.exec(duration);
  if (!one) return duration;
  const unit = { s: 'second', m: 'minute', h: 'hour', d: 'day' }[one[2] as 's' | 'm' | 'h' | 'd'];
  return `${one[1]} ${unit}${one[1] === '1' ? '' : 's'}`;
}

/** Trading alerts, each only where the service's configuration asks for it. */
export function tradingAlerts(scope: MonitoringScope): AlertSpec[] {
  const { service, app } = scope;
  const name = service.name;
  const alerts = service.monitoring?.alerts ?? {};
  const path = `services.${name}.monitoring.alerts`;
  const out: AlertSpec[] = [];
  if (alerts.orderLatency) {
    const { quantile, thresholdSeconds, for: forDuration } = alerts.orderLatency;
    const q = `p${num(quantile * 100)}`;
    out.push({
      alert: ALERT.orderLatencyHigh,
      expr: `histogram_quantile(${num(quantile)}, sum by (namespace, job, le) (rate(trading_order_latency_seconds_bucket{${app}}[${rateWindow(scope)}]))) > ${num(thresholdSeconds)}`,
      for: forDuration,
      severity: 'critical',
      summary: `${name} ${q} order latency is above ${humanSeconds(thresholdSeconds)}`,
      description: `The ${q} of ${name} order latency has been {{ $value | humanizeDuration }} for ${forDuration} (threshold ${humanSeconds(thresholdSeconds)}).`,
      reason: `${humanSeconds(thresholdSeconds)} is the order path's latency budget (set at ${path}.orderLatency in environments/, the comment there says why); the rate window is ${rateWindow(scope)} (four scrapes, at least 1m) so that ${forDuration} of slow orders is seen within one window`,
    });
  }
  if (alerts.orderRejectionRatio !== undefined) {
    const ratio = alerts.orderRejectionRatio;
    out.push({
      alert: ALERT.orderRejectionRatioHigh,
      expr: `(\nsum by (namespace, job) (rate(trading_orders_total{${app},status="rejected"}[5m]))\n  /\nsum by (namespace, job) (rate(trading_orders_total{${app}}[5m]))\n) > ${num(ratio)}`,
      for: '5m',
      severity: 'warning',
      summary: `${name} has more than ${percent(ratio)} of orders rejected`,
      description: `{{ $value | humanizePercentage }} of ${name} orders were rejected over the last 5 minutes (threshold ${percent(ratio)}).`,
      reason: `${percent(ratio)} is set at ${path}.orderRejectionRatio in environments/ (see the comment there); 5m filters out a single burst of bad orders`,
    });
  }
  if (alerts.marketDataStaleSeconds !== undefined) {
    const stale = alerts.marketDataStaleSeconds;
    out.push({
      alert: ALERT.marketDataStale,
      // the age of the data when it was scraped: time() - value would add the time since the
      // last scrape (up to one interval) and fire falsely whenever the interval exceeds the limit
      expr: `timestamp(marketdata_last_update_timestamp_seconds{${app}}) - marketdata_last_update_timestamp_seconds{${app}} > ${num(stale)}`,
      severity: 'critical',
      summary: `${name} market data is older than ${num(stale)}s`,
      description: `Pod {{ $labels.pod }} of ${name} served market data {{ $value | humanizeDuration }} old when last scraped (threshold ${num(stale)}s); strategies trade on stale prices.`,
      reason: `${num(stale)}s is set at ${path}.marketDataStaleSeconds in environments/ (the comment there says why); prices older than that are not tradable, so it fires on the first evaluation. Measured at scrape time (timestamp() - value) so that the scrape interval never adds to the age`,
    });
  }
  if (alerts.drawdownRatio !== undefined) {
    const ratio = alerts.drawdownRatio;
    out.push({
      alert: ALERT.drawdownHigh,
      expr: `max without (instance, pod) (trading_pnl_drawdown_ratio{${app}}) > ${num(ratio)}`,
      severity: 'critical',
      summary: `${name} drawdown is above ${percent(ratio)}`,
      description: `The peak-to-trough loss reported by ${name} is {{ $value | humanizePercentage }} (threshold ${percent(ratio)}); stop or reduce trading.`,
      reason: `${percent(ratio)} is set at ${path}.drawdownRatio in environments/ (see the comment there); a loss over the risk budget needs a human at once, so it fires on the first evaluation`,
    });
  }
  return out;
}

/**
 * Custom alerts from the configuration. Their selectors are scoped to the service: every vector
 * selector gets `namespace` and `job` matchers unless it sets them itself.
 */
export function customAlerts(scope: MonitoringScope): AlertSpec[] {
  const { service, namespace } = scope;
  return (service.monitoring?.alerts?.custom ?? []).map((c) => ({
    alert: c.alert,
    expr: promqlError(c.expr) ? c.expr : scopeSelectors(c.expr, { namespace, job: service.name }),
    for: c.for,
    severity: c.severity,
    summary: c.summary,
    description: c.description,
    reason: c.reason,
  }));
}

/** Every rule group of a service, in evaluation order; empty groups are left out. */
export function serviceRuleGroups(scope: MonitoringScope): RuleGroupSpec[] {
  const name = scope.service.name;
  // alerts on the service's own metrics are evaluated as often as they are scraped, so that a
  // `for: 30s` means 30s and not "30s rounded up to the global evaluation interval"
  const { interval } = scope;
  const standard = standardAlerts(scope);
  const groups: RuleGroupSpec[] = [
    { name: `${name}.service`, interval, rules: standard.service },
    { name: `${name}.trading`, interval, rules: tradingAlerts(scope) },
    { name: `${name}.custom`, interval, rules: customAlerts(scope) },
    { name: `${name}.kubernetes`, rules: standard.kubernetes },
  ];
  if (scope.sentinel) groups.push({ name: `${name}.replication`, rules: replicationAlerts(scope, scope.sentinel) });
  const slo = sloRuleGroup(scope);
  if (slo) groups.push(slo);
  return groups.filter((g) => g.rules.length > 0);
}

export function isAlert(rule: AlertSpec | RecordSpec): rule is AlertSpec {
  return 'alert' in rule;
}

export interface ServiceAlertRulesProps {
  /** What the rules select on (`monitoringScope`). */
  readonly scope: MonitoringScope;
  /** Labels of the PrometheusRule, including those the Prometheus instance selects rules by. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** The runbook URL of an alert: `{alert}` is replaced with its name in lower-case kebab form. */
  readonly runbookUrlPattern: string;
}

/**
 * The PrometheusRule of one service. Every expression is parsed with the Prometheus grammar at
 * synth; a syntax error fails the synth with the target, the service and the alert named.
 */
export class ServiceAlertRules extends Construct {
  readonly groups: RuleGroupSpec[];

  constructor(scope: Construct, id: string, props: ServiceAlertRulesProps) {
    super(scope, id);
    const { scope: monitored } = props;
    const { service, namespace, region } = monitored;
    this.groups = serviceRuleGroups(monitored);
    const runbook = (alert: string) => props.runbookUrlPattern.replace('{alert}', runbookSlug(alert));

    new PrometheusRule(this, 'resource', {
      metadata: {
        name: service.name,
        // the Prometheus instance picks rules up by these labels
        labels: props.labels,
      },
      spec: {
        groups: this.groups.map((group) => ({
          name: group.name,
          interval: group.interval,
          rules: group.rules.map((rule) =>
            isAlert(rule)
              ? {
                  alert: rule.alert,
                  expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr),
                  for: rule.for,
                  // namespace and service on every alert: the AlertmanagerConfig of the namespace
                  // only receives alerts labelled with it, whatever the expression aggregates away
                  // and region in a multi-region environment: a global Alertmanager tells the regions apart
                  labels: {
                    severity: rule.severity,
                    namespace,
                    service: service.name,
                    ...(region ? { region } : {}),
                    ...rule.labels,
                  },
                  annotations: {
                    summary: rule.summary,
                    description: rule.description,
                    runbook_url: runbook(rule.alert),
                    // plain text: Prometheus would read a "{{" in it as a template
                    threshold_reason: escapeTemplate(rule.reason),
                  },
                }
              : {
                  record: rule.record,
                  expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr),
                  labels: rule.labels,
                },
          ),
        })),
      },
    });

    this.node.addValidation({
      validate: () =>
        this.groups.flatMap((group) =>
          group.rules.flatMap((rule) => {
            const error = promqlError(rule.expr);
            const what = isAlert(rule) ? `alert "${rule.alert}"` : `recording rule "${rule.record}"`;
            return error
              ? [`service "${service.name}": ${what} in rule group "${group.name}": ${error}; expression: ${rule.expr}`]
              : [];
          }),
        ),
    });
  }
}
