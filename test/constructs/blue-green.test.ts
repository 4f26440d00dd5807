import { App } from 'cdk8s';
import { PlatformChart } from '../../charts/platform-chart';
import { isAutoscaled } from '../../config/model';
import { ServiceConfig, TargetConfig } from '../../config/types';
import { workloadPropsOf } from '../../charts/service-props';
import {
  analysisMetrics,
  analysisQueryErrors,
  analysisTemplateNameOf,
  DEFAULT_PROMETHEUS_URL,
  HAS_DATA,
  postPromotionTemplateNameOf,
  previewServiceNameOf,
  SMOKE_TEST,
  smokeTestNameOf,
} from '../../constructs/blue-green';
import { latencyHistogramOf } from '../../config/monitoring-rules';
import { LABEL } from '../../constructs/labels';
import { find, Manifest, ofKind } from '../../core/manifest';
import { checkRestricted, podTemplateOf } from '../../pipeline/pod-security';
import { promqlError } from '../../core/promql';
import { synthTarget } from '../../pipeline/synth';
import { crdErrors } from '../crd-schema';
import { configIssues, configOf, copyEnvironments, edit, manifestsOf, TARGETS } from '../helpers';

/** The analysis the chart gives a blue/green service's release. */
const analysisOf = (config: TargetConfig, service: ServiceConfig) =>
  workloadPropsOf(config, service, { mountServiceAccountToken: false, governingService: service.name }).blueGreen!
    .analysis;

type Obj = Record<string, any>;

const PRODUCTION = ['production-us-east-1', 'production-eu-west-1'];
const BLUE_GREEN = ['gateway', 'execution-gateway'];

/** Whether a matchLabels selector selects pods with these labels. */
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('which services are released blue/green', () => {
  it.each(TARGETS)('follows release.strategy in %s: Rollouts for blueGreen, Deployments otherwise', (target) => {
    const config = configOf(target);
    const rollouts = ofKind(manifestsOf(target), 'Rollout')
      .map((m) => m.metadata.name)
      .sort();
    const expected = Object.values(config.services)
      .filter((s) => s.release?.strategy === 'blueGreen')
      .map((s) => s.name)
      .sort();
    expect(rollouts).toEqual(expected);
    for (const name of rollouts)
      expect(manifestsOf(target).some((m) => m.kind === 'Deployment' && m.metadata.name === name)).toBe(false);
  });

  it('is gateway and execution-gateway in production only; development and staging roll', () => {
    for (const target of PRODUCTION)
      expect(
        ofKind(manifestsOf(target), 'Rollout')
          .map((m) => m.metadata.name)
          .sort(),
      ).toEqual([...BLUE_GREEN].sort());
    for (const target of ['development', 'staging']) {
      expect(ofKind(manifestsOf(target), 'Rollout')).toEqual([]);
      expect(ofKind(manifestsOf(target), 'AnalysisTemplate')).toEqual([]);
      for (const name of BLUE_GREEN)
        expect(find(manifestsOf(target), 'Deployment', name).spec).toMatchObject({
          strategy: { type: 'RollingUpdate' },
        });
    }
  });
});

describe.each(PRODUCTION)('blue/green in %s', (target) => {
  const manifests = () => manifestsOf(target);
  const config = () => configOf(target);
  const rollout = (name: string) => find(manifests(), 'Rollout', name) as Obj;

  it('validates the Rollouts and AnalysisTemplates against the Argo Rollouts CRDs', () => {
    for (const m of [...ofKind(manifests(), 'Rollout'), ...ofKind(manifests(), 'AnalysisTemplate')])
      expect(crdErrors(m)).toEqual([]);
  });

  it.each(BLUE_GREEN)('releases %s with an active and a preview Service, manual promotion after analysis', (name) => {
    const blueGreen = rollout(name).spec.strategy.blueGreen;
    const configured = config().services[name].release!.blueGreen!;
    expect(blueGreen).toMatchObject({
      activeService: name,
      previewService: `${name}-preview`,
      autoPromotionEnabled: false,
      scaleDownDelaySeconds: configured.scaleDownDelaySeconds,
    });
    expect(blueGreen.prePromotionAnalysis.templates).toEqual([
      { templateName: analysisTemplateNameOf(config().services[name]) },
    ]);
    find(manifests(), 'Service', blueGreen.activeService);
    find(manifests(), 'Service', blueGreen.previewService);
    const template = find(
      manifests(),
      'AnalysisTemplate',
      blueGreen.prePromotionAnalysis.templates[0].templateName,
    ) as Obj;
    // every argument the template declares is passed, the pod hash from the ReplicaSet being released
    expect(blueGreen.prePromotionAnalysis.args.map((a: Obj) => a.name).sort()).toEqual(
      template.spec.args.map((a: Obj) => a.name).sort(),
    );
    expect(blueGreen.prePromotionAnalysis.args).toContainEqual({
      name: 'pod-template-hash',
      valueFrom: { podTemplateHashValue: 'Latest' },
    });
    expect(blueGreen.prePromotionAnalysis.args).toContainEqual({ name: 'namespace', value: config().namespace });
  });

  it.each(BLUE_GREEN)(
    'lines up the selectors of %s: Rollout, pod template, active and preview Services, PDB',
    (name) => {
      const r = rollout(name);
      const selector = r.spec.selector.matchLabels;
      expect(selector).toEqual({ [LABEL.name]: name, [LABEL.instance]: `trading-platform-${config().environment}` });
      expect(selects(selector, r.spec.template.metadata.labels)).toBe(true);
      const active = find(manifests(), 'Service', name) as Obj;
      const preview = find(manifests(), 'Service', previewServiceNameOf(config().services[name])) as Obj;
      expect(active.spec.selector).toEqual(selector);
      expect(preview.spec.selector).toEqual(selector);
      expect(preview.spec.ports).toEqual(active.spec.ports);
      expect((find(manifests(), 'PodDisruptionBudget', name) as Obj).spec.selector.matchLabels).toEqual(selector);
    },
  );

  it.each(BLUE_GREEN)(
    "makes every pod selector aimed at %s select the Rollout's pods (NetworkPolicies, spread, PDB, Services)",
    (name) => {
      const podLabels = rollout(name).spec.template.metadata.labels;
      const selectors: Array<[string, Record<string, string>]> = [];
      for (const m of manifests() as Obj[]) {
        if (m.kind === 'Service' && m.spec.selector) selectors.push([`Service/${m.metadata.name}`, m.spec.selector]);
        if (m.kind === 'PodDisruptionBudget') selectors.push([`PDB/${m.metadata.name}`, m.spec.selector.matchLabels]);
        if (m.kind === 'NetworkPolicy' && m.spec.podSelector?.matchLabels)
          selectors.push([`NetworkPolicy/${m.metadata.name}`, m.spec.podSelector.matchLabels]);
        for (const c of podTemplateOf(m)?.spec.topologySpreadConstraints ?? [])
          selectors.push([`${m.kind}/${m.metadata.name} spread`, c.labelSelector.matchLabels]);
      }
      const aimed = selectors.filter(([, s]) => s[LABEL.name] === name);
      expect(aimed.length).toBeGreaterThanOrEqual(4);
      for (const [what, selector] of aimed) expect([what, selects(selector, podLabels)]).toEqual([what, true]);
    },
  );

  it.each(BLUE_GREEN)(
    'scrapes the stable and the preview pods of %s exactly once each, with job = the service',
    (name) => {
      const r = rollout(name);
      const active = find(manifests(), 'Service', name) as Obj;
      const preview = find(manifests(), 'Service', previewServiceNameOf(config().services[name])) as Obj;
      // Argo Rollouts adds rollouts-pod-template-hash to the pods and to each Service's selector:
      // the active Service selects the stable ReplicaSet's pods, the preview Service the new one's
      const podsOf = (hash: string) => ({ ...r.spec.template.metadata.labels, 'rollouts-pod-template-hash': hash });
      const stable = podsOf('stable0hash');
      const green = podsOf('green00hash');
      expect(selects({ ...active.spec.selector, 'rollouts-pod-template-hash': 'stable0hash' }, stable)).toBe(true);
      expect(selects({ ...preview.spec.selector, 'rollouts-pod-template-hash': 'green00hash' }, green)).toBe(true);
      expect(selects({ ...active.spec.selector, 'rollouts-pod-template-hash': 'stable0hash' }, green)).toBe(false);

      /** Which scrape configs would scrape a pod with these labels: PodMonitors directly, ServiceMonitors through each Service selecting it. */
      const scrapersOf = (pod: Record<string, string>, hashOfService: (s: Obj) => string | undefined) => {
        const out: string[] = [];
        for (const m of manifests() as Obj[]) {
          if (m.kind === 'PodMonitor' && selects(m.spec.selector.matchLabels, pod))
            out.push(`PodMonitor/${m.metadata.name}`);
          if (m.kind !== 'ServiceMonitor') continue;
          for (const s of (manifests() as Obj[]).filter(
            (x) => x.kind === 'Service' && x.spec.selector && selects(m.spec.selector.matchLabels, x.metadata.labels),
          )) {
            const hash = hashOfService(s);
            const selector = hash ? { ...s.spec.selector, 'rollouts-pod-template-hash': hash } : s.spec.selector;
            if (selects(selector, pod)) out.push(`ServiceMonitor/${m.metadata.name} via Service/${s.metadata.name}`);
          }
        }
        return out;
      };
      const hashOfService = (s: Obj) =>
        s.metadata.name === active.metadata.name
          ? 'stable0hash'
          : s.metadata.name === preview.metadata.name
            ? 'green00hash'
            : undefined;
      expect(scrapersOf(stable, hashOfService)).toEqual([`PodMonitor/${name}`]);
      expect(scrapersOf(green, hashOfService)).toEqual([`PodMonitor/${name}`]);

      const monitor = find(manifests(), 'PodMonitor', name) as Obj;
      // job comes from the pod label app.kubernetes.io/name: the service's name, as the rules and the analysis expect
      expect(monitor.spec.jobLabel).toBe(LABEL.name);
      expect(green[monitor.spec.jobLabel]).toBe(name);
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics' })]);
      expect(r.spec.template.spec.containers[0].ports).toContainEqual(expect.objectContaining({ name: 'metrics' }));
      expect(crdErrors(monitor as Manifest)).toEqual([]);
      // the preview Service stays out of every ServiceMonitor, and no ServiceMonitor covers the service
      for (const m of ofKind(manifests(), 'ServiceMonitor') as Obj[]) {
        expect([
          m.metadata.name,
          selects(m.spec.selector.matchLabels, preview.metadata.labels),
          selects(m.spec.selector.matchLabels, active.metadata.labels),
        ]).toEqual([m.metadata.name, false, false]);
      }
    },
  );

  it('points every autoscaler at the Rollout, and leaves replicas to the HPA', () => {
    const gateway = rollout('gateway');
    expect(gateway.spec.replicas).toBeUndefined();
    expect(rollout('execution-gateway').spec.replicas).toBe(3);
    for (const name of BLUE_GREEN.filter((n) => isAutoscaled(config().services[n]))) {
      const hpas = (ofKind(manifests(), 'HorizontalPodAutoscaler') as Obj[]).filter(
        (h) => h.spec.scaleTargetRef.name === name,
      );
      expect(hpas.map((h) => h.spec.scaleTargetRef)).toEqual([
        { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name },
      ]);
    }
    for (const hpa of ofKind(manifests(), 'HorizontalPodAutoscaler') as Obj[]) {
      if (!BLUE_GREEN.includes(hpa.spec.scaleTargetRef.name)) expect(hpa.spec.scaleTargetRef.kind).not.toBe('Rollout');
    }
    for (const vpa of ofKind(manifests(), 'VerticalPodAutoscaler') as Obj[]) {
      if (!BLUE_GREEN.includes(vpa.spec.targetRef.name)) continue;
      expect(vpa.spec.targetRef).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' });
    }
  });

  it('exposes the Rollout through WorkloadRef, which the autoscaling constructs target', () => {
    const chart = new PlatformChart(new App({ outdir: 'unused' }), config());
    const refs = Object.fromEntries(chart.services.map((s) => [s.service.name, s.workload]));
    for (const name of BLUE_GREEN) {
      expect(refs[name]).toMatchObject({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name,
        selector: rollout(name).spec.selector.matchLabels,
      });
    }
    expect(refs['data-service']).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
  });

  it('gives the Rollout exactly the pod template a Deployment of the service would get, but for the revision label its spread counts by', () => {
    const rolling = asRolling(config());
    // topology spread counts each revision apart, by the label each controller sets
    const revisionKeys = (template: Obj) =>
      JSON.stringify(template).replace(/"rollouts-pod-template-hash"/g, '"pod-template-hash"');
    for (const name of BLUE_GREEN) {
      const deployment = find(synthTarget(rolling), 'Deployment', name) as Obj;
      for (const c of rollout(name).spec.template.spec.topologySpreadConstraints)
        expect(c.matchLabelKeys).toEqual(['rollouts-pod-template-hash']);
      for (const c of deployment.spec.template.spec.topologySpreadConstraints)
        expect(c.matchLabelKeys).toEqual(['pod-template-hash']);
      expect(revisionKeys(rollout(name).spec.template)).toEqual(revisionKeys(deployment.spec.template));
      expect(rollout(name).spec.selector).toEqual(deployment.spec.selector);
    }
  });

  it('writes no zero number in the Rollout pod template, which the Rollouts controller drops (no drift after a release)', () => {
    // the controller rewrites the whole Rollout through its Go types (the revision annotation, the
    // replicas default): fields such as a probe's initialDelaySeconds are `omitempty` int32 there,
    // so an explicit 0 disappears from the live object and Argo CD shows the Rollout OutOfSync
    // after every release (found by the live twin's Re-apply scenario, test/live)
    const zeros = (o: unknown, at: string): string[] =>
      o && typeof o === 'object'
        ? Object.entries(o as Obj).flatMap(([k, v]) => zeros(v, `${at}.${k}`))
        : o === 0
          ? [at]
          : [];
    for (const name of BLUE_GREEN)
      expect(zeros(rollout(name).spec.template, `Rollout ${name} spec.template`)).toEqual([]);
  });

  it('passes Pod Security "restricted" in the Rollout pod template', () => {
    for (const name of BLUE_GREEN) {
      const template = podTemplateOf(rollout(name));
      expect(template?.path).toBe('spec.template.spec');
      expect(checkRestricted(template!.spec, template!.annotations)).toEqual([]);
    }
  });
});

describe('the pre-promotion analysis', () => {
  const templates = () => ofKind(manifestsOf('production-us-east-1'), 'AnalysisTemplate') as Obj[];
  const metricsOf = (name: string) =>
    (
      (find(manifestsOf('production-us-east-1'), 'AnalysisTemplate', `${name}-pre-promotion`) as Obj).spec
        .metrics as Obj[]
    ).filter((m) => m.provider.prometheus);

  it("queries the configured Prometheus with valid PromQL over the new ReplicaSet's pods only", () => {
    for (const template of templates()) {
      for (const metric of template.spec.metrics.filter((m: Obj) => m.provider.prometheus)) {
        const { address, query } = metric.provider.prometheus;
        expect(address).toBe(configOf('production-us-east-1').monitoring.prometheusUrl ?? DEFAULT_PROMETHEUS_URL);
        expect(query).toContain('pod=~"{{args.service-name}}-{{args.pod-template-hash}}-.*"');
        const filled = query.replace(/\{\{args\.([a-z-]+)\}\}/g, 'x');
        expect([metric.name, promqlError(filled)]).toEqual([metric.name, undefined]);
      }
    }
  });

  it("requires gateway's success rate and p99 latency from its configuration", () => {
    const metrics = metricsOf('gateway');
    expect(metrics.map((m) => m.name)).toEqual(['success-rate', 'latency-p99']);
    expect(metrics[0].successCondition).toBe('len(result) > 0 && !isNaN(result[0]) && result[0] >= 0.999');
    expect(metrics[0].failureCondition).toBe('len(result) > 0 && !isNaN(result[0]) && !(result[0] >= 0.999)');
    expect(metrics[0].provider.prometheus.query).toContain('http_requests_total');
    expect(metrics[1].successCondition).toBe('len(result) > 0 && !isNaN(result[0]) && result[0] <= 0.5');
    expect(metrics[1].provider.prometheus.query).toContain(
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket',
    );
  });

  it('measures execution-gateway (no HTTP) by its orders: success rate and p99 order latency from its configuration', () => {
    const metrics = metricsOf('execution-gateway');
    expect(metrics.map((m) => m.name)).toEqual(['success-rate', 'latency-p99']);
    expect(metrics[0].provider.prometheus.query).toContain('trading_orders_total');
    expect(metrics[0].successCondition).toContain('result[0] >= 0.9999');
    // the histogram of its order latency alert, at the alert's 100µs (PLATFORM.md)
    expect(metrics[1].provider.prometheus.query).toContain(
      'histogram_quantile(0.99, sum by (le) (rate(trading_order_latency_seconds_bucket{',
    );
    expect(metrics[1].successCondition).toBe('len(result) > 0 && !isNaN(result[0]) && result[0] <= 0.0001');
    expect(metrics[1].provider.prometheus.query).not.toContain('http_');
  });

  it('takes the latency histogram from the monitoring configuration, never from the service name', () => {
    const config = configOf('production-us-east-1');
    const gateway = config.services.gateway;
    // an HTTP service that declares an order latency alert is held to the order path's latency
    const orders = {
      ...gateway,
      monitoring: {
        ...gateway.monitoring,
        alerts: { orderLatency: { quantile: 0.99, thresholdSeconds: 0.01, for: '1m' } },
      },
    };
    expect(latencyHistogramOf(gateway)).toBe('http_request_duration_seconds');
    expect(latencyHistogramOf(orders)).toBe('trading_order_latency_seconds');
    expect(
      analysisMetrics(analysisOf(config, orders)).find((m) => m.name === 'latency-p99')?.provider.prometheus?.query,
    ).toContain('trading_order_latency_seconds_bucket');
    expect(
      latencyHistogramOf({ ...gateway, ports: gateway.ports.filter((p) => p.name !== 'metrics') }),
    ).toBeUndefined();
  });

  it('fails synthesis naming target, service and metric when an analysis query is not valid PromQL', () => {
    const config = configOf('production-us-east-1');
    const service = config.services['execution-gateway'];
    const metrics = analysisMetrics(analysisOf(config, service));
    expect(analysisQueryErrors(config.target, service.name, metrics)).toEqual([]);
    const broken = metrics.map((m) =>
      m.name === 'latency-p99'
        ? {
            ...m,
            provider: {
              prometheus: { ...m.provider.prometheus!, query: m.provider.prometheus!.query!.replace(/\)\)\)$/, '))') },
            },
          }
        : m,
    );
    expect(analysisQueryErrors(config.target, service.name, broken)).toEqual([
      expect.stringMatching(
        /^AnalysisTemplate "execution-gateway-pre-promotion" of service "execution-gateway" in production-us-east-1: metric "latency-p99": invalid PromQL: .+; query: histogram_quantile/,
      ),
    ]);
  });

  it('runs the PromQL check of the analysis as a validation of the synthesized tree', () => {
    const chart = new PlatformChart(new App({ outdir: 'unused' }), configOf('production-us-east-1'));
    const releases = chart.node.findAll().filter((c) => c.constructor.name === 'BlueGreenRelease');
    expect(releases.length).toBe(BLUE_GREEN.length);
    for (const release of releases) expect(release.node.validate()).toEqual([]);
  });
});

describe('the release design: smoke test, inconclusive without data, post-promotion analysis', () => {
  const manifests = () => manifestsOf('production-us-east-1');
  const template = (name: string) => find(manifests(), 'AnalysisTemplate', name) as Obj;
  const rollout = (name: string) => find(manifests(), 'Rollout', name) as Obj;
  // Argo Rollouts' EvaluateResult (utils/evaluate): without a failureCondition a measurement that misses
  // successCondition fails; with both, failure wins, and one that matches neither is Inconclusive
  const outcome = (metric: Obj, result: number[]) => {
    const evaluate = (expr: string) =>
      Boolean(
        new Function('result', 'len', 'isNaN', `return ${expr};`)(result, (a: unknown[]) => a.length, Number.isNaN),
      );
    const success = metric.successCondition ? evaluate(metric.successCondition) : false;
    const failure = metric.failureCondition ? evaluate(metric.failureCondition) : !success;
    return failure ? 'Failed' : success ? 'Successful' : 'Inconclusive';
  };

  it.each(BLUE_GREEN)('treats no data from Prometheus as inconclusive, never as a failure or a pass (%s)', (name) => {
    for (const metric of template(`${name}-pre-promotion`).spec.metrics.filter((m: Obj) => m.provider.prometheus)) {
      expect([metric.name, outcome(metric, [])]).toEqual([metric.name, 'Inconclusive']);
      expect([metric.name, outcome(metric, [NaN])]).toEqual([metric.name, 'Inconclusive']);
      expect(metric.successCondition.startsWith(HAS_DATA)).toBe(true);
    }
    const [rate, latency] = template(`${name}-pre-promotion`).spec.metrics.filter((m: Obj) => m.provider.prometheus);
    expect([outcome(rate, [1]), outcome(rate, [0.5])]).toEqual(['Successful', 'Failed']);
    expect([outcome(latency, [0]), outcome(latency, [100])]).toEqual(['Successful', 'Failed']);
  });

  it.each(BLUE_GREEN)(
    'smoke-tests the preview Service with a Job that passes Pod Security "restricted" (%s)',
    (name) => {
      const job = template(`${name}-pre-promotion`).spec.metrics.find((m: Obj) => m.name === 'smoke-test').provider.job;
      const pod = job.spec.template;
      expect(checkRestricted(pod.spec, {})).toEqual([]);
      expect(pod.spec.restartPolicy).toBe('Never');
      expect(job.spec.backoffLimit).toBe(0);
      const script: string = pod.spec.containers[0].command.join(' ');
      expect(script).toContain(
        `${previewServiceNameOf(configOf('production-us-east-1').services[name])}.trading-prod.svc:`,
      );
      expect(script).toContain(`-lt ${SMOKE_TEST.requests}`);
      // every container declares requests and limits: the quota of the namespace counts the Job too
      for (const c of pod.spec.containers) expect(Object.keys(c.resources).sort()).toEqual(['limits', 'requests']);
      // not selected by the service's own Service, PDB or monitors
      expect(pod.metadata.labels[LABEL.name]).toBe(smokeTestNameOf(configOf('production-us-east-1').services[name]));
    },
  );

  it.each(BLUE_GREEN)(
    'lets the smoke test reach the preview pods on the tested port, and nothing else (%s)',
    (name) => {
      const job = template(`${name}-pre-promotion`).spec.metrics.find((m: Obj) => m.name === 'smoke-test').provider.job;
      const podLabels = job.spec.template.metadata.labels;
      const port = Number(/svc:(\d+)/.exec(job.spec.template.spec.containers[0].command.join(' '))![1]);
      const servicePods = rollout(name).spec.template.metadata.labels;
      const policies = ofKind(manifests(), 'NetworkPolicy') as Obj[];
      const egress = policies
        .filter((p) => selects(p.spec.podSelector.matchLabels ?? {}, podLabels))
        .flatMap((p) => p.spec.egress ?? []);
      expect(
        egress.some(
          (r: Obj) =>
            r.to.some((t: Obj) => t.podSelector && selects(t.podSelector.matchLabels, servicePods)) &&
            r.ports.some((p: Obj) => p.port === port),
        ),
      ).toBe(true);
      const ingress = policies
        .filter((p) => selects(p.spec.podSelector.matchLabels ?? {}, servicePods))
        .flatMap((p) => p.spec.ingress ?? []);
      expect(
        ingress.some(
          (r: Obj) =>
            r.from.some((f: Obj) => f.podSelector && selects(f.podSelector.matchLabels, podLabels)) &&
            r.ports.some((p: Obj) => p.port === port),
        ),
      ).toBe(true);
      // the smoke-test pods' own policy opens egress to the service's pods only
      const own = policies.find((p) => p.metadata.name === `${name}-smoke-test`)!;
      expect(own.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(own.spec.ingress).toBeUndefined();
      expect(own.spec.egress.flatMap((r: Obj) => r.to)).toEqual([
        { podSelector: { matchLabels: rollout(name).spec.selector.matchLabels } },
      ]);
    },
  );

  it.each(BLUE_GREEN)(
    'runs the Prometheus gates again after promotion, with the old pods kept for a rollback (%s)',
    (name) => {
      const blueGreen = rollout(name).spec.strategy.blueGreen;
      const service = configOf('production-us-east-1').services[name];
      expect(blueGreen.postPromotionAnalysis.templates).toEqual([
        { templateName: postPromotionTemplateNameOf(service) },
      ]);
      expect(blueGreen.postPromotionAnalysis.args).toEqual(blueGreen.prePromotionAnalysis.args);
      const post = template(postPromotionTemplateNameOf(service));
      const pre = template(analysisTemplateNameOf(service));
      expect(post.spec.metrics).toEqual(pre.spec.metrics.filter((m: Obj) => m.provider.prometheus));
      expect(blueGreen.scaleDownDelaySeconds).toBe(service.release!.blueGreen!.scaleDownDelaySeconds);
      expect(crdErrors(post as Manifest)).toEqual([]);
    },
  );
});

describe('blue/green refusals', () => {
  it('fails when a blue/green service exposes no metrics the analysis can query', () => {
    const dir = copyEnvironments();
    // ml-service released blue/green, without its metrics port
    edit(
      dir,
      'production.yaml',
      '  ml-service:\n    priority: high\n',
      '  ml-service:\n    priority: high\n    release: { strategy: blueGreen }\n    ports: [{ name: http, port: 8080 }]\n',
    );
    const refused = configIssues(dir);
    const issue = refused.find((i) => i.path === 'services.ml-service.release.strategy');
    expect(issue?.file).toMatch(/production\.yaml$/);
    expect(issue?.message).toMatch(
      /^blueGreen for "ml-service" is promoted after a Prometheus analysis, but the service exposes nothing it can measure: it needs a port named "metrics"/,
    );
  });

  it('fails when a latency gate is set for a service that emits no latency histogram', () => {
    const dir = copyEnvironments();
    // order metrics without an order latency alert: a success rate to measure, no latency histogram
    edit(
      dir,
      'production.yaml',
      '  ml-service:\n    priority: high\n',
      '  ml-service:\n    priority: high\n    release: { strategy: blueGreen, blueGreen: { latencyP99Seconds: 0.1 } }\n    monitoring: { http: false, alerts: { orderRejectionRatio: 0.02 } } # why: a test\n',
    );
    const refused = configIssues(dir);
    const issues = refused
      .filter((i) => i.path.startsWith('services.ml-service.release'))
      .map((i) => `${i.path}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(
        /^services\.ml-service\.release\.blueGreen\.latencyP99Seconds: "ml-service" emits no latency histogram the analysis can gate on/,
      ),
    ]);
  });

  it('fails when scaleDownDelaySeconds is below 30, naming the value and the floor', () => {
    const dir = copyEnvironments();
    edit(dir, 'production.yaml', 'scaleDownDelaySeconds: 300', 'scaleDownDelaySeconds: 10');
    const refused = configIssues(dir);
    const messages = refused.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual([
      expect.stringMatching(
        /^services\.gateway\.release\.blueGreen\.scaleDownDelaySeconds: is 10 for "gateway";.* at least 30; raise it to 30 or more/,
      ),
    ]);
  });
});

/** The configuration with every blue/green service rolled instead. */
function asRolling(config: TargetConfig): TargetConfig {
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, s]) => [name, { ...s, release: undefined }]),
  );
  return { ...config, services };
}

export type { Manifest };
