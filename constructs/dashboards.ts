import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { k8s } from '../imports/k8s';
import { createHash } from 'crypto';
import { Construct } from 'constructs';
import { servesHttp } from '../config/monitoring-rules';
import { num, promqlError } from '../core/promql';
import { setOwn, sortedKeys } from '../core/sorted-keys';
import { MonitoringScope } from './alert-rules';
import {
  BUDGET_REMAINING_RECORD,
  BURN_RATE_WINDOWS,
  burnRateRecord,
  OBJECTIVE_RECORD,
  SLO_PERIOD_DAYS,
  sliOf,
} from './slo-burn-rate';

/** The datasource template variable every panel queries through. */
const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
/** Grafana's rate interval: at least four scrape intervals, from the datasource's scrape interval. */
const RATE = '$__rate_interval';

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: ReadonlyArray<{ readonly expr: string; readonly legend: string }>;
  /** Alert thresholds drawn as dashed lines. */
  readonly thresholds?: number[];
  readonly min?: number;
}

interface RowSpec {
  readonly title: string;
  readonly panels: PanelSpec[];
}

/** The golden signals of a service as rows of panels: rate, errors, duration, saturation. */
export function dashboardRows(scope: MonitoringScope): RowSpec[] {
  const { service, app, pods } = scope;
  const alerts = service.monitoring?.alerts ?? {};
  const t = scope.thresholds;
  const rows: RowSpec[] = [];
  if (scope.scraped && servesHttp(service)) {
    const total = `sum(rate(http_requests_total{${app}}[${RATE}]))`;
    rows.push({
      title: 'HTTP: rate, errors, duration',
      panels: [
        {
          title: 'Rate: requests per second by status',
          description: 'http_requests_total, summed over all pods, by status code',
          unit: 'reqps',
          queries: [{ expr: `sum by (code) (rate(http_requests_total{${app}}[${RATE}]))`, legend: '{{code}}' }],
          min: 0,
        },
        {
          title: 'Errors: 5xx ratio',
          description: `Share of requests answered with a 5xx status; the alerts warn at ${num(t.httpErrors.warning * 100)}% and page at ${num(t.httpErrors.critical * 100)}% (${t.httpErrors.for})`,
          unit: 'percentunit',
          queries: [
            { expr: `sum(rate(http_requests_total{${app},code=~"5.."}[${RATE}])) / ${total}`, legend: '5xx ratio' },
          ],
          thresholds: [t.httpErrors.warning, t.httpErrors.critical],
          min: 0,
        },
        {
          title: 'Duration: request latency',
          description: 'Quantiles of http_request_duration_seconds over all pods',
          unit: 's',
          queries: [0.5, 0.95, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${app}}[${RATE}])))`,
            legend: `p${num(q * 100)}`,
          })),
          thresholds: alerts.latencyP95Seconds !== undefined ? [alerts.latencyP95Seconds] : undefined,
          min: 0,
        },
      ],
    });
  }
  const orders =
    scope.scraped &&
    (alerts.orderLatency ||
      alerts.orderRejectionRatio !== undefined ||
      (service.monitoring?.slo && !servesHttp(service)));
  // a service without HTTP gets its rate, errors and duration from the metrics it names, unless
  // the orders row below already shows them
  const red = scope.scraped && !servesHttp(service) && !orders ? redRow(scope) : undefined;
  if (red) rows.push(red);
  if (orders) {
    const total = `sum(rate(trading_orders_total{${app}}[${RATE}]))`;
    rows.push({
      title: 'Orders: rate, errors, duration',
      panels: [
        {
          title: 'Rate: orders per second by status',
          description: 'trading_orders_total, summed over all pods, by status',
          unit: 'ops',
          queries: [{ expr: `sum by (status) (rate(trading_orders_total{${app}}[${RATE}]))`, legend: '{{status}}' }],
          min: 0,
        },
        {
          title: 'Errors: rejected and failed orders',
          description: 'Share of orders rejected by the venue and of orders that failed (status "error")',
          unit: 'percentunit',
          queries: ['rejected', 'error'].map((status) => ({
            expr: `sum(rate(trading_orders_total{${app},status="${status}"}[${RATE}])) / ${total}`,
            legend: status,
          })),
          thresholds: alerts.orderRejectionRatio !== undefined ? [alerts.orderRejectionRatio] : undefined,
          min: 0,
        },
        {
          title: 'Duration: order latency',
          description: 'Quantiles of trading_order_latency_seconds over all pods',
          unit: 's',
          queries: [0.5, 0.99, 0.999].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(trading_order_latency_seconds_bucket{${app}}[${RATE}])))`,
            legend: `p${num(q * 100)}`,
          })),
          thresholds: alerts.orderLatency ? [alerts.orderLatency.thresholdSeconds] : undefined,
          min: 0,
        },
      ],
    });
  }
  const trading: PanelSpec[] = [];
  if (scope.scraped && alerts.marketDataStaleSeconds !== undefined) {
    trading.push({
      title: 'Market data age',
      description: 'Age of the last market data update at scrape time, per pod',
      unit: 's',
      queries: [
        {
          expr: `timestamp(marketdata_last_update_timestamp_seconds{${app}}) - marketdata_last_update_timestamp_seconds{${app}}`,
          legend: '{{pod}}',
        },
      ],
      thresholds: [alerts.marketDataStaleSeconds],
      min: 0,
    });
  }
  if (scope.scraped && alerts.drawdownRatio !== undefined) {
    trading.push({
      title: 'Drawdown',
      description: 'Peak-to-trough loss (trading_pnl_drawdown_ratio)',
      unit: 'percentunit',
      queries: [{ expr: `max without (instance, pod) (trading_pnl_drawdown_ratio{${app}})`, legend: 'drawdown' }],
      thresholds: [alerts.drawdownRatio],
      min: 0,
    });
  }
  const slo = service.monitoring?.slo;
  if (scope.scraped && slo) {
    const budget = Number((1 - slo.availability / 100).toPrecision(12));
    trading.push({
      title: `SLO ${num(slo.availability)}%: error budget burn rate`,
      description: `Error ratio (${sliOf(scope).description}) divided by the error budget (${num(budget * 100)}%); 1 spends the budget in exactly 30 days. The burn-rate alerts fire at 14.4, 6, 3 and 1`,
      unit: 'x',
      queries: ['1h', '6h', '1d', '3d'].map((w) => ({ expr: `${burnRateRecord(w)}{${app}}`, legend: w })),
      thresholds: BURN_RATE_WINDOWS.map((w) => w.burnRate),
      min: 0,
    });
    trading.push({
      title: `SLO ${num(slo.availability)}%: error budget remaining`,
      description: `Share of the ${SLO_PERIOD_DAYS}-day error budget (${num(budget * 100)}% of requests) not yet spent, and the objective; below 0 the SLO is missed`,
      unit: 'percentunit',
      queries: [
        { expr: `${BUDGET_REMAINING_RECORD}{${app}}`, legend: 'budget remaining' },
        { expr: `${OBJECTIVE_RECORD}{${app}}`, legend: 'objective' },
      ],
      thresholds: [0],
    });
  }
  if (trading.length) rows.push({ title: 'Trading and SLO', panels: trading });

  const saturation: PanelSpec[] = [
    {
      title: 'Saturation: CPU',
      description: 'CPU used per pod (cores) against the container limit',
      unit: 'short',
      queries: [
        { expr: `sum by (pod) (rate(container_cpu_usage_seconds_total{${pods}}[${RATE}]))`, legend: '{{pod}}' },
        { expr: `max(kube_pod_container_resource_limits{${pods},resource="cpu"})`, legend: 'limit' },
      ],
      min: 0,
    },
    {
      title: 'Saturation: memory',
      description: `Working set per pod against the container limit; the alert fires at ${num(t.memory.ratio * 100)}% for ${t.memory.for}`,
      unit: 'bytes',
      queries: [
        { expr: `max by (pod) (container_memory_working_set_bytes{${pods}})`, legend: '{{pod}}' },
        { expr: `max(kube_pod_container_resource_limits{${pods},resource="memory"})`, legend: 'limit' },
      ],
      min: 0,
    },
    {
      title: 'Saturation: CPU throttling',
      description: `Share of CFS periods in which the container was throttled; the alert fires at ${num(t.cpuThrottling.ratio * 100)}% for ${t.cpuThrottling.for}`,
      unit: 'percentunit',
      queries: [
        {
          expr: `sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{${pods}}[${RATE}])) / sum by (pod) (rate(container_cpu_cfs_periods_total{${pods}}[${RATE}]))`,
          legend: '{{pod}}',
        },
      ],
      thresholds: [t.cpuThrottling.ratio],
      min: 0,
    },
    {
      title: `Restarts (${t.crashLooping.window})`,
      description: `Container restarts over ${t.crashLooping.window}; more than ${t.crashLooping.restarts} is crash looping`,
      unit: 'short',
      queries: [
        {
          expr: `increase(kube_pod_container_status_restarts_total{${pods}}[${t.crashLooping.window}])`,
          legend: '{{pod}}',
        },
      ],
      thresholds: [t.crashLooping.restarts],
      min: 0,
    },
  ];
  if (scope.autoscaled) {
    saturation.push({
      title: 'Replicas against the HPA maximum',
      description: `Current replicas and the HorizontalPodAutoscaler maximum; ${t.hpaAtMax.for} at the maximum alerts`,
      unit: 'short',
      queries: [
        {
          expr: `max(kube_horizontalpodautoscaler_status_current_replicas{namespace="${scope.namespace}",horizontalpodautoscaler="${scope.hpaName}"})`,
          legend: 'current',
        },
        {
          expr: `max(kube_horizontalpodautoscaler_spec_max_replicas{namespace="${scope.namespace}",horizontalpodautoscaler="${scope.hpaName}"})`,
          legend: 'max',
        },
      ],
      min: 0,
    });
  }
  if (scope.scraped) {
    saturation.push({
      title: 'Scrape targets up',
      description: 'Pods Prometheus scrapes successfully',
      unit: 'short',
      queries: [{ expr: `sum(up{${app}})`, legend: 'up' }],
      min: 0,
    });
  }
  rows.push({ title: 'Saturation', panels: saturation });
  return rows;
}

/**
 * Rate, errors and duration of a service that does not serve HTTP, from the metrics its
 * configuration names (`monitoring.metrics`, e.g. redis_exporter's command counters); undefined
 * when it names none.
 */
function redRow(scope: MonitoringScope): RowSpec | undefined {
  const { service, app } = scope;
  const metrics = service.monitoring?.metrics;
  const alerts = service.monitoring?.alerts ?? {};
  if (!metrics) return undefined;
  const panels: PanelSpec[] = [];
  if (metrics.requests) {
    panels.push({
      title: 'Rate: requests per second',
      description: `${metrics.requests}, summed over all pods`,
      unit: 'ops',
      queries: [{ expr: `sum(rate(${metrics.requests}{${app}}[${RATE}]))`, legend: 'requests' }],
      min: 0,
    });
  }
  if (metrics.errors) {
    panels.push({
      title: 'Errors: failures per second',
      description: `${metrics.errors}, summed over all pods${metrics.requests ? `, and as a share of ${metrics.requests}` : ''}`,
      unit: 'ops',
      queries: [
        { expr: `sum(rate(${metrics.errors}{${app}}[${RATE}]))`, legend: 'errors/s' },
        ...(metrics.requests
          ? [
              {
                expr: `sum(rate(${metrics.errors}{${app}}[${RATE}])) / sum(rate(${metrics.requests}{${app}}[${RATE}]))`,
                legend: 'error ratio',
              },
            ]
          : []),
      ],
      min: 0,
    });
  }
  const duration = metrics.duration;
  if (duration && 'histogram' in duration) {
    panels.push({
      title: 'Duration: latency',
      description: `Quantiles of ${duration.histogram} over all pods`,
      unit: 's',
      queries: [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (rate(${duration.histogram}_bucket{${app}}[${RATE}])))`,
        legend: `p${num(q * 100)}`,
      })),
      thresholds: alerts.latencyP95Seconds !== undefined ? [alerts.latencyP95Seconds] : undefined,
      min: 0,
    });
  } else if (duration && (duration.count ?? metrics.requests)) {
    const count = duration.count ?? metrics.requests;
    panels.push({
      title: 'Duration: mean latency',
      description: `Time spent (${duration.sum}) per request (${count}), over all pods`,
      unit: 's',
      queries: [
        { expr: `sum(rate(${duration.sum}{${app}}[${RATE}])) / sum(rate(${count}{${app}}[${RATE}]))`, legend: 'mean' },
      ],
      thresholds: alerts.latencyMeanSeconds !== undefined ? [alerts.latencyMeanSeconds] : undefined,
      min: 0,
    });
  }
  return panels.length ? { title: 'Rate, errors, duration', panels } : undefined;
}

function panel(spec: PanelSpec): timeseries.PanelBuilder {
  const builder = new timeseries.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .gridPos({ x: 0, y: 0, w: 8, h: 8 })
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    );
  if (spec.min !== undefined) builder.min(spec.min);
  spec.queries.forEach((q, i) =>
    builder.withTarget(
      new prometheus.DataqueryBuilder()
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend)
        .refId(String.fromCharCode(65 + i)),
    ),
  );
  if (spec.thresholds?.length) {
    builder
      .thresholds(
        new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
          { value: null, color: 'green' },
          ...spec.thresholds.map((value, i) => ({
            value,
            color: i === spec.thresholds!.length - 1 ? 'red' : 'orange',
          })),
        ]),
      )
      .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  return builder;
}

/** The dashboard model of a service, with a stable uid (no random ids). */
export function serviceDashboard(
  scope: MonitoringScope,
  tags: readonly string[] = [scope.service.name],
): dashboard.Dashboard {
  const { service, namespace, region } = scope;
  // named by service, namespace and region: a global Grafana tells the regions of one environment apart
  const builder = new dashboard.DashboardBuilder(`${service.name} (${namespace}${region ? `, ${region}` : ''})`)
    .uid(dashboardUid(service.name, namespace, region))
    .description(
      `${service.description}: rate, errors, duration and saturation. Generated by cdk8s from environments/; edits in Grafana are overwritten.`,
    )
    .tags([...tags])
    .editable()
    .timezone('utc')
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .withVariable(new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
  for (const row of dashboardRows(scope)) {
    builder.withRow(new dashboard.RowBuilder(row.title));
    for (const spec of row.panels) builder.withPanel(panel(spec));
  }
  return builder.build();
}

/** Grafana's limit on a dashboard uid. */
export const MAX_DASHBOARD_UID = 40;

/**
 * `<service>-<namespace>`, `-<region>` appended for a target of a multi-region environment: unique
 * per namespace and region, so a global Grafana (or one cluster's Grafana provisioned with another
 * region's dashboards) keeps the regions apart. Longer than Grafana's 40 characters,
 * it is cut and ends in 8 hex digits of the full name's SHA-256, so two long names that share
 * their first characters still get different uids.
 */
export function dashboardUid(service: string, namespace: string, region?: string): string {
  const full = `${service}-${namespace}${region ? `-${region}` : ''}`;
  if (full.length <= MAX_DASHBOARD_UID) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_DASHBOARD_UID - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** JSON with keys sorted at every level, so the output never depends on insertion order. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sorted(value), null, 2)}\n`;
}

/** A copy of `value` with the keys of every object in sorted order (one object per level, no entry arrays). */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of sortedKeys(value)) setOwn(out, key, sorted((value as Record<string, unknown>)[key]));
  return out;
}

export interface ServiceDashboardProps {
  /** What the panels show (`monitoringScope`). */
  readonly scope: MonitoringScope;
  /** Labels of the ConfigMap, including the one the Grafana sidecar loads dashboards by. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** The Grafana folder (annotation `grafana_folder`). @default - Grafana's default folder */
  readonly folder?: string;
  /** The dashboard's tags. @default the service's name */
  readonly tags?: readonly string[];
}

/**
 * A Grafana dashboard for one service as a ConfigMap the Grafana sidecar loads: labelled with
 * `monitoring.grafana.dashboardLabel: dashboardLabelValue`, filed in `monitoring.grafana.folder`
 * (annotation `grafana_folder`). The sidecar must watch the target namespace (kube-prometheus-stack:
 * `grafana.sidecar.dashboards.searchNamespace: ALL`).
 */
export class ServiceDashboard extends Construct {
  readonly model: dashboard.Dashboard;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const { service } = props.scope;
    this.model = serviceDashboard(props.scope, props.tags);
    new k8s.KubeConfigMap(this, 'resource', {
      metadata: {
        name: `${service.name}-dashboard`,
        labels: props.labels,
        annotations: props.folder ? { grafana_folder: props.folder } : undefined,
      },
      data: { [`${service.name}.json`]: stableJson(this.model) },
    });
    this.node.addValidation({
      validate: () =>
        (this.model.panels ?? []).flatMap((p) =>
          ('targets' in p ? (p.targets ?? []) : []).flatMap((t) => {
            const expr = (t as { expr?: string }).expr ?? '';
            // Grafana's own variables are not PromQL: check the query as Grafana sends it
            const error = promqlError(expr.replace(/\$__rate_interval/g, '5m'));
            return error ? [`service "${service.name}": dashboard panel "${p.title}": ${error}; query: ${expr}`] : [];
          }),
        ),
    });
  }
}
