import { Chart } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import type { AnalysisSignal } from '../config/delivery-rules';
import { isBlueGreen, previewServiceNameOf, SMOKE_TEST_SUFFIX } from '../config/model';
import { PortConfig, ServiceConfig } from '../config/types';
import {
  AnalysisTemplate,
  AnalysisTemplateSpecMetrics,
  AnalysisTemplateSpecMetricsCount,
  AnalysisTemplateSpecMetricsFailureLimit,
  AnalysisTemplateSpecMetricsInconclusiveLimit,
} from '../imports/analysistemplate-argoproj.io';
import { RolloutSpecStrategyBlueGreen } from '../imports/rollout-argoproj.io';
import { num, promqlError } from '../core/promql';
import { LABEL } from './labels';
import { ServiceEndpoints } from './service-endpoints';

/** Where the analysis finds Prometheus unless `monitoring.prometheusUrl` says otherwise. */
export const DEFAULT_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';
/** Success-rate floor when `release.blueGreen.successRate` is not set. */
export const DEFAULT_SUCCESS_RATE = 0.99;
/** Argo Rollouts' default delay before the previous (blue) ReplicaSet is scaled down. */
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30;
/** Status of `trading_orders_total` that counts as the service failing an order (exchange rejections are a business outcome, alerted separately). */
export const ORDER_FAILURE_STATUS = 'error';

/**
 * How the analysis samples: five one-minute measurements over a two-minute rate, one bad minute
 * tolerated, one minute without data tolerated; the first measurement after one minute, when the
 * smoke test's requests (pre-promotion) or the switched traffic (post-promotion) have been scraped.
 */
const MEASUREMENTS = {
  interval: '1m',
  count: 5,
  failureLimit: 1,
  inconclusiveLimit: 1,
  rateWindow: '2m',
  initialDelay: '1m',
};

/**
 * The smoke test of the preview: a Job (an Argo Rollouts `job` metric) that sends one request every
 * two seconds for a minute through the preview Service, every one of which must succeed.
 */
export const SMOKE_TEST = { requests: 30, intervalSeconds: 2, timeoutSeconds: 2, deadlineSeconds: 180 };
/** The smoke test's image: BusyBox's wget (HTTP) and nc (TCP), nothing else; pinned. */
export const SMOKE_TEST_IMAGE = 'busybox:1.37.0';
/** The unprivileged user the smoke test runs as (BusyBox's `nobody`). */
const SMOKE_TEST_UID = 65534;

export { isBlueGreen, previewServiceNameOf };
/** The AnalysisTemplate that gates promotion. */
export const analysisTemplateNameOf = (service: { readonly name: string }) => `${service.name}-pre-promotion`;
/** The AnalysisTemplate that runs on the live traffic after promotion; a failure switches back. */
export const postPromotionTemplateNameOf = (service: { readonly name: string }) => `${service.name}-post-promotion`;
/** The name (label and NetworkPolicy) of the smoke test's pods. */
export const smokeTestNameOf = (service: { readonly name: string }) => `${service.name}${SMOKE_TEST_SUFFIX}`;

/**
 * Labels of the smoke test's pods, from the service's: never the service's own
 * `app.kubernetes.io/name`, so no Service, PDB or monitor selects them.
 */
export function smokeTestLabels(serviceLabels: Record<string, string>, service: string): Record<string, string> {
  return { ...serviceLabels, [LABEL.name]: smokeTestNameOf({ name: service }), [LABEL.component]: 'smoke-test' };
}

/** What the smoke test asks of the preview: a GET of `path` on `port` (2xx), or a TCP connection to `port` when there is no path. */
export interface SmokeTestTarget {
  readonly port: PortConfig;
  /** @default - a TCP connection, no HTTP request */
  readonly path?: string;
}

/**
 * What the smoke test asks of the preview: the readiness probe's HTTP path and port when the
 * readiness probe is HTTP (a GET must answer 2xx), else a TCP connection to the startup or
 * readiness probe's TCP port, else to the service's first port.
 */
export function smokeTestTargetOf(service: Pick<ServiceConfig, 'ports' | 'probes'>): SmokeTestTarget {
  const portOf = (ref: string | number | undefined) => service.ports.find((p) => p.name === ref || p.port === ref);
  const readiness = service.probes?.readiness;
  const httpPort = readiness?.http ? portOf(readiness.http.port) : undefined;
  if (readiness?.http && httpPort) return { port: httpPort, path: readiness.http.path };
  const tcp = service.probes?.startup?.tcp ?? readiness?.tcp;
  return { port: (tcp && portOf(tcp.port)) || service.ports[0] };
}

/** What the analysis of a release measures, and the bounds it holds the new pods to. */
export interface BlueGreenAnalysisOptions {
  /** Prometheus' HTTP API. @default DEFAULT_PROMETHEUS_URL */
  readonly prometheusUrl?: string;
  /**
   * What the success rate is measured on: HTTP responses or orders (`analysisSignalOf`).
   * @default - nothing to measure, which the release refuses
   */
  readonly signal?: AnalysisSignal;
  /** Success-rate floor (0–1) before promotion. @default DEFAULT_SUCCESS_RATE */
  readonly successRate?: number;
  /** The latency histogram (its base name, without `_bucket`) the p99 gate reads. @default - no latency gate */
  readonly latencyHistogram?: string;
  /** p99 latency ceiling in seconds, with `latencyHistogram`. @default - no latency gate */
  readonly latencyP99Seconds?: number;
}

export interface BlueGreenReleaseProps {
  /** The service's name (the Rollout's): the names of the preview Service, templates and smoke test derive from it. */
  readonly name: string;
  /** Labels of the service's objects. */
  readonly labels: Record<string, string>;
  /** Labels selecting the service's pods. */
  readonly selector: Record<string, string>;
  /** The namespace the Rollout runs in (the smoke test reaches the preview Service there). */
  readonly namespace: string;
  /** The ports of the preview Service (the active Service's). */
  readonly ports: readonly PortConfig[];
  /** The Service that carries production traffic (the Rollout's activeService). */
  readonly activeService: string;
  /** The Service that reaches only the new pods before promotion (`previewServiceNameOf`). */
  readonly previewService: string;
  /** What the smoke test asks of the preview (`smokeTestTargetOf`). */
  readonly smokeTest: SmokeTestTarget;
  readonly analysis: BlueGreenAnalysisOptions;
  /** @default DEFAULT_SCALE_DOWN_DELAY_SECONDS */
  readonly scaleDownDelaySeconds?: number;
  /**
   * A ServiceAccount of its own for the smoke test (created here, without a token), so that a
   * service mesh can admit its identity alone. @default - the namespace's `default` ServiceAccount
   */
  readonly smokeTestServiceAccount?: string;
  /**
   * Ports the smoke test's pods also reach the service's pods on, besides the smoke-tested one: a
   * service mesh's tunnel (Istio ambient's HBONE, 15008). @default - none
   */
  readonly tunnelPorts?: readonly PortConfig[];
}

/**
 * The companions of a blue/green Rollout: a preview Service with the same ports and selector as
 * the active one (Argo Rollouts adds the `rollouts-pod-template-hash` of the new ReplicaSet to
 * both selectors), a pre-promotion AnalysisTemplate, a post-promotion AnalysisTemplate and the
 * smoke test's NetworkPolicy.
 *
 * Before promotion nothing but the smoke test reaches the preview (no preview Ingress; the
 * service's pods accept traffic from ingress-nginx only). So the pre-promotion analysis runs the
 * smoke test, a Job that must get an answer to every request it sends through the preview Service
 * (its failure aborts the release), and the service's Prometheus metrics over the new pods, which
 * fail on bad data and are inconclusive without data (the release then pauses for a human).
 * Promotion is manual (`autoPromotionEnabled: false`). After promotion the same Prometheus metrics
 * run on the live traffic (post-promotion analysis); their failure aborts the release, which
 * switches the active Service back to the previous ReplicaSet, still running for
 * `scaleDownDelaySeconds`.
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
  readonly postPromotionTemplate: string;

  constructor(scope: Construct, id: string, props: BlueGreenReleaseProps) {
    super(scope, id);
    const { name, labels } = props;
    this.previewService = props.previewService;
    this.analysisTemplate = analysisTemplateNameOf(props);

    new ServiceEndpoints(this, 'preview', {
      name: this.previewService,
      selector: props.selector,
      labels: { ...labels, [LABEL.name]: this.previewService },
      ports: props.ports,
    });

    const metrics = analysisMetrics(props.analysis);
    new AnalysisTemplate(this, 'analysis', {
      metadata: { name: this.analysisTemplate, labels },
      spec: {
        args: [{ name: 'service-name' }, { name: 'namespace' }, { name: 'pod-template-hash' }],
        metrics: [
          smokeTestMetric({
            ...props,
            previewService: this.previewService,
            serviceAccount: props.smokeTestServiceAccount,
          }),
          ...metrics,
        ],
      },
    });
    this.postPromotionTemplate = postPromotionTemplateNameOf(props);
    if (metrics.length) {
      new AnalysisTemplate(this, 'post-promotion', {
        metadata: { name: this.postPromotionTemplate, labels },
        spec: { args: [{ name: 'service-name' }, { name: 'namespace' }, { name: 'pod-template-hash' }], metrics },
      });
    }
    new SmokeTestNetworkPolicy(this, 'smoke-test-network', {
      name,
      labels,
      selector: props.selector,
      port: props.smokeTest.port,
      tunnelPorts: props.tunnelPorts,
    });
    if (props.smokeTestServiceAccount) {
      new k8s.KubeServiceAccount(this, 'smoke-test-account', {
        metadata: { name: props.smokeTestServiceAccount, labels: smokeTestLabels(labels, name) },
        automountServiceAccountToken: false,
      });
    }

    const analysisArgs = [
      { name: 'service-name', value: name },
      { name: 'namespace', value: props.namespace },
      // the hash of the ReplicaSet being released: the green pods behind the preview Service
      { name: 'pod-template-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
    ];
    this.strategy = {
      activeService: props.activeService,
      previewService: this.previewService,
      autoPromotionEnabled: false,
      // the previous ReplicaSet stays up this long after the switch, and until the post-promotion
      // analysis passed: an abort or undo in that time switches back without starting a pod
      scaleDownDelaySeconds: props.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS,
      prePromotionAnalysis: { templates: [{ templateName: this.analysisTemplate }], args: analysisArgs },
      postPromotionAnalysis: metrics.length
        ? { templates: [{ templateName: this.postPromotionTemplate }], args: analysisArgs }
        : undefined,
    };

    this.node.addValidation({ validate: () => analysisQueryErrors(Chart.of(this).node.id, name, metrics) });
    this.node.addValidation({
      validate: () =>
        props.analysis.signal
          ? []
          : [
              `blue/green service "${name}" in ${Chart.of(this).node.id} has no metrics the analysis can query (no "metrics" port, or monitoring.http is false without order alerts); add them or release it with strategy: rolling`,
            ],
    });
  }
}

/**
 * The Prometheus metrics of a service's analysis, over the new ReplicaSet's pods only: a Rollout's
 * pods are named `<rollout>-<pod-template-hash>-<suffix>`, which every scrape config of the
 * Prometheus Operator records in the `pod` label. A measurement passes when there is data and it
 * meets the floor or ceiling, fails when there is data and it does not, and is inconclusive when
 * there is no data (no requests in the window: an empty result or NaN). Before promotion the
 * preview's only traffic is the smoke test's; an inconclusive analysis pauses the release for a
 * human (PauseReasonInconclusiveAnalysis) instead of aborting it, a failed one aborts it.
 */
/** An analysis result with a number in it (Argo Rollouts' expr language over the Prometheus vector). */
export const HAS_DATA = 'len(result) > 0 && !isNaN(result[0])';

export function analysisMetrics(options: BlueGreenAnalysisOptions): AnalysisTemplateSpecMetrics[] {
  const address = options.prometheusUrl ?? DEFAULT_PROMETHEUS_URL;
  const successRate = options.successRate ?? DEFAULT_SUCCESS_RATE;
  const pods = 'namespace="{{args.namespace}}", pod=~"{{args.service-name}}-{{args.pod-template-hash}}-.*"';
  const w = MEASUREMENTS.rateWindow;
  const { signal } = options;
  const measured = (name: string, query: string, condition: string): AnalysisTemplateSpecMetrics => ({
    name,
    initialDelay: MEASUREMENTS.initialDelay,
    interval: MEASUREMENTS.interval,
    count: AnalysisTemplateSpecMetricsCount.fromNumber(MEASUREMENTS.count),
    failureLimit: AnalysisTemplateSpecMetricsFailureLimit.fromNumber(MEASUREMENTS.failureLimit),
    inconclusiveLimit: AnalysisTemplateSpecMetricsInconclusiveLimit.fromNumber(MEASUREMENTS.inconclusiveLimit),
    // data that meets the condition passes, data that misses it fails; no data (an empty result or
    // NaN) matches neither and is inconclusive: no evidence is neither a pass nor a failure
    successCondition: `${HAS_DATA} && ${condition}`,
    failureCondition: `${HAS_DATA} && !(${condition})`,
    provider: { prometheus: { address, query } },
  });

  const metrics: AnalysisTemplateSpecMetrics[] = [];
  if (signal === 'http') {
    metrics.push(
      measured(
        'success-rate',
        `sum(rate(http_requests_total{${pods}, code!~"5.."}[${w}])) / sum(rate(http_requests_total{${pods}}[${w}]))`,
        `result[0] >= ${successRate}`,
      ),
    );
  } else if (signal === 'orders') {
    metrics.push(
      measured(
        'success-rate',
        `1 - ((sum(rate(trading_orders_total{${pods}, status="${ORDER_FAILURE_STATUS}"}[${w}])) or vector(0)) / sum(rate(trading_orders_total{${pods}}[${w}])))`,
        `result[0] >= ${successRate}`,
      ),
    );
  }
  // the same histogram the service's latency alerts and dashboard read
  const histogram = options.latencyHistogram;
  if (signal && histogram && options.latencyP99Seconds !== undefined) {
    metrics.push(
      measured(
        'latency-p99',
        `histogram_quantile(0.99, sum by (le) (rate(${histogram}_bucket{${pods}}[${w}])))`,
        `result[0] <= ${num(options.latencyP99Seconds)}`,
      ),
    );
  }
  return metrics;
}

/**
 * Parses every Prometheus query of an analysis with the Prometheus grammar, its `{{args.*}}`
 * placeholders filled in as Argo Rollouts would, so that a query Prometheus would refuse fails
 * synthesis instead of every promotion. One message per broken query, naming target, service
 * and metric.
 */
export function analysisQueryErrors(
  where: string,
  service: string,
  metrics: readonly AnalysisTemplateSpecMetrics[],
): string[] {
  return metrics.flatMap((metric) => {
    const query = metric.provider.prometheus?.query;
    if (query === undefined) return [];
    const error = promqlError(query.replace(/\{\{\s*args\.[A-Za-z0-9_-]+\s*\}\}/g, 'placeholder'));
    return error
      ? [
          `AnalysisTemplate "${analysisTemplateNameOf({ name: service })}" of service "${service}" in ${where}: metric "${metric.name}": invalid PromQL: ${error}; query: ${query}`,
        ]
      : [];
  });
}

/**
 * The smoke test, as an Argo Rollouts `job` metric: Argo Rollouts creates the Job in the Rollout's
 * namespace, the metric passes when the Job completes and fails (aborting the release) when it
 * fails. Its pod passes Pod Security "restricted" (non-root, no privilege escalation, no
 * capabilities, RuntimeDefault seccomp, read-only root), mounts no token, declares its resources
 * (the namespace's quota counts it), and reaches the preview pods through SmokeTestNetworkPolicy.
 */
export function smokeTestMetric(props: {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly namespace: string;
  readonly previewService: string;
  readonly smokeTest: SmokeTestTarget;
  /** @default - the namespace's `default` ServiceAccount */
  readonly serviceAccount?: string;
}): AnalysisTemplateSpecMetrics {
  const target = props.smokeTest;
  const host = `${props.previewService}.${props.namespace}.svc`;
  const { requests, intervalSeconds, timeoutSeconds } = SMOKE_TEST;
  const probe =
    target.path !== undefined
      ? `wget -q -O /dev/null -T ${timeoutSeconds} "http://${host}:${target.port.port}${target.path}"`
      : `nc -z -w ${timeoutSeconds} ${host} ${target.port.port}`;
  const what =
    target.path !== undefined
      ? `GET http://${host}:${target.port.port}${target.path}`
      : `TCP ${host}:${target.port.port}`;
  const script = [
    'set -u',
    `i=0; while [ $i -lt ${requests} ]; do`,
    `  i=$((i+1)); if ! ${probe}; then echo "smoke test: request $i of ${requests} failed: ${what}"; exit 1; fi; sleep ${intervalSeconds}`,
    'done',
    `echo "smoke test: ${requests} of ${requests} requests succeeded: ${what}"`,
  ].join('\n');
  const labels = smokeTestLabels(props.labels, props.name);
  return {
    name: 'smoke-test',
    provider: {
      job: {
        metadata: { labels },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: SMOKE_TEST.deadlineSeconds,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: 'Never',
              serviceAccountName: props.serviceAccount,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: SMOKE_TEST_UID,
                runAsGroup: SMOKE_TEST_UID,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: 'smoke-test',
                  image: SMOKE_TEST_IMAGE,
                  command: ['sh', '-c', script],
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ['ALL'] },
                  },
                  resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
                },
              ],
            },
          },
        },
      },
    },
  };
}

/**
 * The smoke test's pods may reach the service's pods on the smoke-tested port (and DNS, through the
 * namespace's allow-dns policy), nothing else, and accept nothing; the service's own policy
 * (constructs/network-policies.ts) admits them on that port.
 */
export interface SmokeTestNetworkPolicyProps {
  /** The service's name. */
  readonly name: string;
  /** Labels of the policy (the service's). */
  readonly labels?: Record<string, string>;
  /** Labels selecting the service's pods. */
  readonly selector: Record<string, string>;
  /** The port the smoke test reaches. */
  readonly port: PortConfig;
  /** Further ports it reaches the same pods on: a service mesh's tunnel. @default - none */
  readonly tunnelPorts?: readonly PortConfig[];
}

export class SmokeTestNetworkPolicy extends Construct {
  constructor(scope: Construct, id: string, props: SmokeTestNetworkPolicyProps) {
    super(scope, id);
    const { port } = props;
    new k8s.KubeNetworkPolicy(this, 'resource', {
      metadata: { name: smokeTestNameOf(props), labels: props.labels },
      spec: {
        podSelector: { matchLabels: smokeTestSelector(props.selector, props.name) },
        policyTypes: ['Ingress', 'Egress'],
        egress: [
          {
            to: [{ podSelector: { matchLabels: props.selector } }],
            ports: [port, ...(props.tunnelPorts ?? [])].map((p) => ({
              port: k8s.IntOrString.fromNumber(p.port),
              protocol: p.protocol ?? 'TCP',
            })),
          },
        ],
      },
    });
  }
}

/** The labels that select a service's smoke-test pods. */
export function smokeTestSelector(selector: Record<string, string>, service: string): Record<string, string> {
  return { ...selector, [LABEL.name]: smokeTestNameOf({ name: service }) };
}
