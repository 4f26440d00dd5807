import { Construct } from 'constructs';
import { analysisSignalOf } from '../config/delivery-rules';
import { latencyHistogramOf } from '../config/monitoring-rules';
import { isBlueGreen, previewServiceNameOf } from '../config/rules';
import { ServiceConfig, TargetConfig } from '../config/types';
import {
  AnalysisTemplate,
  AnalysisTemplateSpecMetrics,
  AnalysisTemplateSpecMetricsCount,
  AnalysisTemplateSpecMetricsFailureLimit,
} from '../imports/analysistemplate-argoproj.io';
import { RolloutSpecStrategyBlueGreen } from '../imports/rollout-argoproj.io';
import { num, promqlError } from '../lib/promql';
import { LABEL, serviceLabels } from './labels';
import { ServiceEndpoints } from './service-endpoints';

/** Where the analysis finds Prometheus unless `monitoring.prometheusUrl` says otherwise. */
export const DEFAULT_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';
/** Success-rate floor when `release.blueGreen.successRate` is not set. */
export const DEFAULT_SUCCESS_RATE = 0.99;
/** Argo Rollouts' default delay before the previous (blue) ReplicaSet is scaled down. */
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30;
/** Status of `trading_orders_total` that counts as the service failing an order (exchange rejections are a business outcome, alerted separately). */
export const ORDER_FAILURE_STATUS = 'error';

/** How the analysis samples: five one-minute measurements over a two-minute rate, one bad minute tolerated. */
const MEASUREMENTS = { interval: '1m', count: 5, failureLimit: 1, rateWindow: '2m' };

export { isBlueGreen, previewServiceNameOf };
/** The AnalysisTemplate that gates promotion. */
export const analysisTemplateNameOf = (service: ServiceConfig) => `${service.name}-pre-promotion`;

export interface BlueGreenReleaseProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** The Service that carries production traffic (the Rollout's activeService). */
  readonly activeService: string;
  /** Labels selecting the service's pods. */
  readonly selector: Record<string, string>;
}

/**
 * The companions of a blue/green Rollout: a preview Service with the same ports and selector as
 * the active one (Argo Rollouts adds the `rollouts-pod-template-hash` of the new ReplicaSet to
 * both selectors), and an AnalysisTemplate that queries Prometheus for the new pods' success rate
 * and, when configured, p99 latency before anyone may promote. Promotion is manual
 * (`autoPromotionEnabled: false`): a passed analysis makes promotion possible, a failed one aborts.
 *
 * The preview Service's `app.kubernetes.io/name` is `<service>-preview`, so no ServiceMonitor
 * selecting Services by a service's name picks it up. Prometheus scrapes a Rollout's pods with a
 * PodMonitor (constructs/pod-monitor.ts), stable and preview alike, so the analysis finds the
 * new pods' series (`job` = the service, `pod` = `<service>-<hash>-…`).
 */
export class BlueGreenRelease extends Construct {
  /** The `strategy.blueGreen` block of the Rollout. */
  readonly strategy: RolloutSpecStrategyBlueGreen;
  readonly previewService: string;
  readonly analysisTemplate: string;

  constructor(scope: Construct, id: string, props: BlueGreenReleaseProps) {
    super(scope, id);
    const { config, service } = props;
    const blueGreen = service.release?.blueGreen ?? {};
    this.previewService = previewServiceNameOf(service);
    this.analysisTemplate = analysisTemplateNameOf(service);

    new ServiceEndpoints(this, 'preview', {
      config,
      service,
      name: this.previewService,
      selector: props.selector,
      labels: { ...serviceLabels(config, service), [LABEL.name]: this.previewService },
    });

    const metrics = analysisMetrics(config, service);
    new AnalysisTemplate(this, 'analysis', {
      metadata: { name: this.analysisTemplate, labels: serviceLabels(config, service) },
      spec: {
        args: [{ name: 'service-name' }, { name: 'namespace' }, { name: 'pod-template-hash' }],
        metrics,
      },
    });

    this.strategy = {
      activeService: props.activeService,
      previewService: this.previewService,
      autoPromotionEnabled: false,
      scaleDownDelaySeconds: blueGreen.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS,
      prePromotionAnalysis: {
        templates: [{ templateName: this.analysisTemplate }],
        args: [
          { name: 'service-name', value: service.name },
          { name: 'namespace', value: config.namespace },
          // the hash of the ReplicaSet being released: the green pods behind the preview Service
          { name: 'pod-template-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
        ],
      },
    };

    this.node.addValidation({ validate: () => analysisQueryErrors(config, service, metrics) });
    this.node.addValidation({
      validate: () => analysisSignalOf(service) ? [] : [
        `blue/green service "${service.name}" in ${config.target} has no metrics the analysis can query (no "metrics" port, or monitoring.http is false without order alerts); add them or release it with strategy: rolling`,
      ],
    });
  }
}

/**
 * The analysis metrics of a service, as Prometheus queries over the new ReplicaSet's pods only:
 * a Rollout's pods are named `<rollout>-<pod-template-hash>-<suffix>`, which every scrape config
 * of the Prometheus Operator records in the `pod` label. No data counts as a failure: the
 * preview must receive traffic (smoke tests) before it can be promoted.
 */
export function analysisMetrics(config: TargetConfig, service: ServiceConfig): AnalysisTemplateSpecMetrics[] {
  const address = config.monitoring.prometheusUrl ?? DEFAULT_PROMETHEUS_URL;
  const blueGreen = service.release?.blueGreen ?? {};
  const successRate = blueGreen.successRate ?? DEFAULT_SUCCESS_RATE;
  const pods = 'namespace="{{args.namespace}}", pod=~"{{args.service-name}}-{{args.pod-template-hash}}-.*"';
  const w = MEASUREMENTS.rateWindow;
  const signal = analysisSignalOf(service);
  const measured = (name: string, query: string, condition: string): AnalysisTemplateSpecMetrics => ({
    name,
    interval: MEASUREMENTS.interval,
    count: AnalysisTemplateSpecMetricsCount.fromNumber(MEASUREMENTS.count),
    failureLimit: AnalysisTemplateSpecMetricsFailureLimit.fromNumber(MEASUREMENTS.failureLimit),
    // an empty result (no traffic on the preview) or NaN fails: no evidence is not a pass
    successCondition: `len(result) > 0 && !isNaN(result[0]) && ${condition}`,
    provider: { prometheus: { address, query } },
  });

  const metrics: AnalysisTemplateSpecMetrics[] = [];
  if (signal === 'http') {
    metrics.push(measured('success-rate',
      `sum(rate(http_requests_total{${pods}, code!~"5.."}[${w}])) / sum(rate(http_requests_total{${pods}}[${w}]))`,
      `result[0] >= ${successRate}`));
  } else if (signal === 'orders') {
    metrics.push(measured('success-rate',
      `1 - ((sum(rate(trading_orders_total{${pods}, status="${ORDER_FAILURE_STATUS}"}[${w}])) or vector(0)) / sum(rate(trading_orders_total{${pods}}[${w}])))`,
      `result[0] >= ${successRate}`));
  }
  // the same histogram the service's latency alerts and dashboard read
  const histogram = latencyHistogramOf(service);
  if (signal && histogram && blueGreen.latencyP99Seconds !== undefined) {
    metrics.push(measured('latency-p99',
      `histogram_quantile(0.99, sum by (le) (rate(${histogram}_bucket{${pods}}[${w}])))`,
      `result[0] <= ${num(blueGreen.latencyP99Seconds)}`));
  }
  return metrics;
}

/**
 * Parses every Prometheus query of an analysis with the Prometheus grammar, its `{{args.*}}`
 * placeholders filled in as Argo Rollouts would, so that a query Prometheus would refuse fails
 * synthesis instead of every promotion. One message per broken query, naming target, service
 * and metric.
 */
export function analysisQueryErrors(config: TargetConfig, service: ServiceConfig, metrics: readonly AnalysisTemplateSpecMetrics[]): string[] {
  return metrics.flatMap((metric) => {
    const query = metric.provider.prometheus?.query;
    if (query === undefined) return [];
    const error = promqlError(query.replace(/\{\{\s*args\.[A-Za-z0-9_-]+\s*\}\}/g, 'placeholder'));
    return error ? [`AnalysisTemplate "${analysisTemplateNameOf(service)}" of service "${service.name}" in ${config.target}: metric "${metric.name}": invalid PromQL: ${error}; query: ${query}`] : [];
  });
}
