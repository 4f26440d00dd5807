import { parser } from '@prometheus-io/lezer-promql';
import { isAutoscaled } from '../../config/model';
import { TargetConfig } from '../../config/types';
import { ALERT_NAMES } from '../../core/alert-names';
import { find, Manifest, ofKind } from '../../core/manifest';
import { SynthError, synthTarget } from '../../pipeline/synth';
import { dashboardUid, MAX_DASHBOARD_UID } from '../../constructs/dashboards';
import { monitoringScope } from '../../constructs/alert-rules';
import { ServiceMonitoring } from '../../constructs/monitoring';
import { Chart, Testing } from 'cdk8s';
import { crdErrors } from '../crd-schema';
import { configOf, manifestsOf, PLATFORM_SERVICES, TARGETS } from '../helpers';

type Obj = Record<string, any>;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function rulesOf(manifest: Manifest): Array<Rule & { group: string }> {
  return ((manifest as Obj).spec.groups as Obj[]).flatMap((g) =>
    (g.rules as Rule[]).map((r) => ({ ...r, group: g.name as string })),
  );
}

function alertsOf(target: string, service: string): Array<Rule & { group: string }> {
  return rulesOf(find(manifestsOf(target), 'PrometheusRule', service)).filter((r) => r.alert);
}

/** Every vector selector of an expression with its equality matchers. */
function selectors(expr: string): Array<{ metric: string; matchers: Record<string, string> }> {
  const out: Array<{ metric: string; matchers: Record<string, string> }> = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const id = node.node.getChild('Identifier');
      const matchers: Record<string, string> = {};
      const list = node.node.getChild('LabelMatchers');
      for (let m = list?.firstChild; m; m = m.nextSibling) {
        const name = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (name && op && value && expr.slice(op.from, op.to) === '=')
          matchers[expr.slice(name.from, name.to)] = JSON.parse(expr.slice(value.from, value.to));
      }
      out.push({ metric: id ? expr.slice(id.from, id.to) : '', matchers });
    },
  });
  return out;
}

const metricsServices = (config: TargetConfig) =>
  Object.values(config.services).filter((s) => s.ports.some((p) => p.name === 'metrics'));

describe('ServiceMonitor and PodMonitor', () => {
  /** The scrape configs (ServiceMonitors and PodMonitors) of a target, with the pods each one scrapes. */
  const scrapes = (target: string) => {
    const manifests = manifestsOf(target) as Obj[];
    const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    const workloads = manifests.filter((m) => ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind));
    const podsOf = (monitor: Obj): string[] => {
      if (monitor.kind === 'PodMonitor')
        return workloads
          .filter((w) => selects(monitor.spec.selector.matchLabels, w.spec.template.metadata.labels))
          .map((w) => w.metadata.name);
      // a ServiceMonitor scrapes the pods behind every Service it selects
      const services = manifests.filter(
        (s) => s.kind === 'Service' && s.spec.selector && selects(monitor.spec.selector.matchLabels, s.metadata.labels),
      );
      return services.flatMap((s) =>
        workloads.filter((w) => selects(s.spec.selector, w.spec.template.metadata.labels)).map((w) => w.metadata.name),
      );
    };
    return manifests
      .filter((m) => m.kind === 'ServiceMonitor' || m.kind === 'PodMonitor')
      .map((monitor) => ({ monitor, pods: podsOf(monitor) }));
  };

  it.each(TARGETS)(
    'gives every scraped service in %s exactly one ServiceMonitor or PodMonitor, which scrapes its pods once',
    (target) => {
      const config = configOf(target);
      // the seven services of PLATFORM.md all expose metrics; services added since count as configured
      expect(metricsServices(config).map((s) => s.name)).toEqual(expect.arrayContaining([...PLATFORM_SERVICES]));
      const all = scrapes(target);
      expect(all.map((s) => s.monitor.metadata.name).sort()).toEqual(
        metricsServices(config)
          .map((s) => s.name)
          .sort(),
      );
      for (const service of metricsServices(config)) {
        // every workload's pods are scraped by exactly one monitor, once (not once per Service)
        const scraping = all.flatMap((s) =>
          s.pods.filter((p) => p === service.name).map(() => `${s.monitor.kind}/${s.monitor.metadata.name}`),
        );
        expect([service.name, scraping]).toEqual([
          service.name,
          [expect.stringMatching(new RegExp(`/${service.name}$`))],
        ]);
      }
    },
  );

  it.each(TARGETS)('scrapes the metrics port of every service at its configured interval in %s', (target) => {
    const config = configOf(target);
    const manifests = manifestsOf(target);
    for (const service of metricsServices(config)) {
      const monitor = manifests.find(
        (m) => (m.kind === 'ServiceMonitor' || m.kind === 'PodMonitor') && m.metadata.name === service.name,
      ) as Obj;
      const endpoints = monitor.kind === 'PodMonitor' ? monitor.spec.podMetricsEndpoints : monitor.spec.endpoints;
      const expected = service.name === 'execution-gateway' ? '5s' : '15s'; // PLATFORM.md, Monitoring
      expect(endpoints).toEqual([expect.objectContaining({ port: 'metrics', interval: expected })]);
      // the scrape timeout never exceeds the interval (Prometheus refuses that)
      expect(endpoints[0].scrapeTimeout).toBe(expected === '5s' ? '5s' : '10s');
      // Prometheus selects it by the configured labels
      expect(monitor.metadata.labels).toMatchObject(config.monitoring.selectorLabels);
      expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [config.namespace] });
      expect(crdErrors(monitor as Manifest)).toEqual([]);
      if (monitor.kind === 'ServiceMonitor') {
        // it selects exactly the Service of the same name, which has a metrics port; job = that Service's name
        const services = ofKind(manifests, 'Service').filter((s) =>
          Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
        );
        expect(services.map((s) => s.metadata.name)).toEqual([service.name]);
        expect((services[0] as Obj).spec.ports.map((p: Obj) => p.name)).toContain('metrics');
      } else {
        // job from the pods' app.kubernetes.io/name, which is the service's name: the rules' job="<service>"
        expect(monitor.spec.jobLabel).toBe('app.kubernetes.io/name');
        expect(monitor.spec.selector.matchLabels['app.kubernetes.io/name']).toBe(service.name);
      }
    }
  });

  it('scrapes the pods of Rollouts (behind an active and a preview Service) with a PodMonitor, everything else through its Service', () => {
    for (const target of TARGETS) {
      const manifests = manifestsOf(target);
      const rollouts = ofKind(manifests, 'Rollout')
        .map((m) => m.metadata.name)
        .sort();
      expect([
        target,
        ofKind(manifests, 'PodMonitor')
          .map((m) => m.metadata.name)
          .sort(),
      ]).toEqual([target, rollouts]);
    }
  });
});

describe('PrometheusRule', () => {
  it.each(TARGETS)(
    'gives every alert in %s severity, summary, description, runbook_url and threshold_reason',
    (target) => {
      const config = configOf(target);
      for (const rule of ofKind(manifestsOf(target), 'PrometheusRule')) {
        expect(rule.metadata.labels).toMatchObject(config.monitoring.selectorLabels);
        for (const alert of rulesOf(rule).filter((r) => r.alert)) {
          expect(['critical', 'warning', 'info']).toContain(alert.labels?.severity);
          for (const key of ['summary', 'description', 'runbook_url', 'threshold_reason']) {
            expect(alert.annotations?.[key]?.length ?? 0).toBeGreaterThan(10);
          }
          const slug = alert
            .alert!.replace(/([a-z0-9])([A-Z])/g, '$1-$2')
            .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
            .toLowerCase();
          expect(alert.annotations?.runbook_url).toBe(config.monitoring.runbookUrlPattern.replace('{alert}', slug));
          // the namespace's AlertmanagerConfig receives only alerts labelled with the namespace
          expect(alert.labels).toMatchObject({ namespace: config.namespace, service: rule.metadata.name });
        }
      }
    },
  );

  it.each(TARGETS)("selects the service's own series only in %s (namespace plus job, container or HPA)", (target) => {
    const config = configOf(target);
    for (const rule of ofKind(manifestsOf(target), 'PrometheusRule')) {
      const service = rule.metadata.name;
      for (const r of rulesOf(rule)) {
        // a constant (an SLO's objective and budget) selects nothing: it is labelled with the service instead
        if (/^vector\([0-9.]+\)$/.test(r.expr)) {
          expect({ rule: r.record, labels: (r as any).labels }).toEqual({
            rule: r.record,
            labels: { namespace: config.namespace, job: service },
          });
          continue;
        }
        const found = selectors(r.expr);
        expect(found.length).toBeGreaterThan(0);
        for (const s of found) {
          expect({ rule: r.alert ?? r.record, metric: s.metric, namespace: s.matchers.namespace }).toEqual({
            rule: r.alert ?? r.record,
            metric: s.metric,
            namespace: config.namespace,
          });
          const own =
            s.matchers.job === service ||
            s.matchers.container === service ||
            s.matchers.horizontalpodautoscaler === service;
          expect({ rule: r.alert ?? r.record, metric: s.metric, own }).toEqual({
            rule: r.alert ?? r.record,
            metric: s.metric,
            own: true,
          });
        }
      }
    }
  });

  it('alerts on target down after 2m, critical in production and warning elsewhere', () => {
    const prod = alertsOf('production-us-east-1', 'gateway').find((a) => a.alert === 'TargetDown')!;
    expect(prod).toMatchObject({ for: '2m', labels: { severity: 'critical' } });
    expect(alertsOf('staging', 'gateway').find((a) => a.alert === 'TargetDown')).toMatchObject({
      for: '2m',
      labels: { severity: 'warning' },
    });
  });

  it('alerts on 5xx above 1% (warning) and 5% (critical) for 5m only for HTTP services', () => {
    const errors = alertsOf('production-us-east-1', 'gateway').filter((a) => a.alert === 'HTTPErrorRateHigh');
    expect(errors.map((a) => [a.labels?.severity, a.for, a.expr.trim().split(/\s+/).slice(-1)[0]])).toEqual([
      ['warning', '5m', '0.01'],
      ['critical', '5m', '0.05'],
    ]);
    for (const service of ['execution-gateway', 'redis']) {
      // http: false
      expect(alertsOf('production-us-east-1', service).map((a) => a.alert)).not.toContain('HTTPErrorRateHigh');
    }
  });

  it('alerts on p95 latency over the configured threshold for 10m', () => {
    const latency = alertsOf('production-us-east-1', 'gateway').find((a) => a.alert === 'HTTPLatencyHigh')!;
    expect(latency.for).toBe('10m');
    expect(latency.expr).toMatch(/^histogram_quantile\(0\.95, .*http_request_duration_seconds_bucket.*\) > 0\.25$/);
  });

  it('alerts on latency for 10m of services without HTTP where a latency metric is configured', () => {
    const gateway = alertsOf('production-us-east-1', 'execution-gateway').find((a) => a.alert === 'LatencyHigh')!;
    expect(gateway).toMatchObject({ for: '10m', labels: { severity: 'warning' } });
    expect(gateway.expr).toBe(
      'histogram_quantile(0.95, sum by (namespace, job, le) (rate(trading_order_latency_seconds_bucket{namespace="trading-prod",job="execution-gateway"}[5m]))) > 0.0001',
    );
    const redis = alertsOf('production-us-east-1', 'redis').find((a) => a.alert === 'LatencyHigh')!;
    expect(redis).toMatchObject({ for: '10m', annotations: { summary: 'redis mean latency is above 1ms' } });
    expect(redis.expr).toMatch(
      /sum by \(namespace, job\) \(rate\(redis_commands_duration_seconds_total\{namespace="trading-prod",job="redis"\}\[5m\]\)\)\n  \/\nsum by \(namespace, job\) \(rate\(redis_commands_total\{namespace="trading-prod",job="redis"\}\[5m\]\)\)\n\) > 0\.001$/,
    );
    expect(redis.annotations!.threshold_reason).toMatch(
      /set at services\.redis\.monitoring\.alerts\.latencyMeanSeconds in environments\/ \(the comment there says why\)/,
    );
  });

  it('takes every standard threshold from monitoring.thresholds, with per-service overrides', () => {
    const config = configOf('production-us-east-1');
    const t = config.monitoring.thresholds;
    expect(t).toMatchObject({
      targetDown: { for: '2m' },
      httpErrors: { warning: 0.01, critical: 0.05, for: '5m' },
      memory: { ratio: 0.8, for: '10m' },
      cpuThrottling: { ratio: 0.25, for: '15m' },
      crashLooping: { restarts: 3, window: '15m' },
      hpaAtMax: { for: '15m' },
    });
    const services = {
      ...config.services,
      gateway: {
        ...config.services.gateway,
        monitoring: {
          ...config.services.gateway.monitoring,
          thresholds: {
            memory: { ratio: 0.9, for: '20m', reason: 'a cache that fills its heap on purpose' },
            httpErrors: { critical: 0.1 },
          },
        },
      },
    };
    const rules = rulesOf(find(synthTarget({ ...config, services }), 'PrometheusRule', 'gateway'));
    const memory = rules.find((r) => r.alert === 'ContainerMemoryNearLimit')!;
    expect(memory).toMatchObject({
      for: '20m',
      annotations: {
        threshold_reason:
          'a cache that fills its heap on purpose (services.gateway.monitoring.thresholds.memory in environments/)',
      },
    });
    expect(memory.expr).toMatch(/\) > 0\.9$/);
    expect(rules.filter((r) => r.alert === 'HTTPErrorRateHigh').map((r) => r.expr.split(' > ')[1])).toEqual([
      '0.01',
      '0.1',
    ]);
    expect(
      alertsOf('production-us-east-1', 'gateway').find((a) => a.alert === 'ContainerMemoryNearLimit')!.annotations!
        .threshold_reason,
    ).toMatch(/\(monitoring\.thresholds\.memory in environments\/\)$/);
  });

  it('alerts on crash looping, memory, CPU throttling everywhere and on the HPA ceiling only where an HPA scales', () => {
    for (const target of TARGETS) {
      const config = configOf(target);
      for (const service of Object.values(config.services)) {
        const names = alertsOf(target, service.name).map((a) => a.alert);
        expect(names).toEqual(
          expect.arrayContaining(['PodCrashLooping', 'ContainerMemoryNearLimit', 'ContainerCPUThrottled']),
        );
        expect(names.includes('HPAAtMaxReplicas')).toBe(isAutoscaled(service));
      }
    }
    const prod = alertsOf('production-us-east-1', 'gateway');
    expect(prod.find((a) => a.alert === 'PodCrashLooping')!.expr).toMatch(
      /increase\(kube_pod_container_status_restarts_total\{.*\}\[15m\]\) > 3$/,
    );
    expect(prod.find((a) => a.alert === 'ContainerMemoryNearLimit')).toMatchObject({ for: '10m' });
    expect(prod.find((a) => a.alert === 'HPAAtMaxReplicas')).toMatchObject({ for: '15m' });
    expect(alertsOf('development', 'gateway').map((a) => a.alert)).not.toContain('HPAAtMaxReplicas');
  });

  it('has the trading alerts where configured: order latency, rejections, market data, drawdown', () => {
    const execution = alertsOf('production-us-east-1', 'execution-gateway');
    expect(execution.find((a) => a.alert === 'OrderLatencyHigh')).toMatchObject({
      for: '30s',
      labels: { severity: 'critical' },
    });
    expect(execution.find((a) => a.alert === 'OrderLatencyHigh')!.expr).toMatch(
      /^histogram_quantile\(0\.99, .*trading_order_latency_seconds_bucket.*\) > 0\.0001$/,
    );
    expect(execution.find((a) => a.alert === 'OrderRejectionRatioHigh')).toMatchObject({ for: '5m' });
    expect(execution.find((a) => a.alert === 'OrderRejectionRatioHigh')!.expr).toMatch(
      /status="rejected".*\) > 0\.02$/s,
    );
    expect(alertsOf('production-us-east-1', 'data-service').find((a) => a.alert === 'MarketDataStale')).toMatchObject({
      labels: { severity: 'critical' },
    });
    expect(alertsOf('production-us-east-1', 'orchestrator').find((a) => a.alert === 'DrawdownHigh')!.expr).toMatch(
      /trading_pnl_drawdown_ratio.* > 0\.05$/,
    );
    expect(alertsOf('production-us-east-1', 'gateway').map((a) => a.alert)).not.toEqual(
      expect.arrayContaining(['OrderLatencyHigh']),
    );
  });

  it("evaluates the service's own alerts as often as it is scraped", () => {
    const groups = (find(manifestsOf('production-us-east-1'), 'PrometheusRule', 'execution-gateway') as Obj).spec
      .groups as Obj[];
    expect(groups.find((g) => g.name === 'execution-gateway.trading')!.interval).toBe('5s');
  });

  it('records the error ratio over every window and pages/tickets on multi-window burn rates (gateway 99.9%, execution-gateway 99.99% in production)', () => {
    const gateway = rulesOf(find(manifestsOf('production-us-east-1'), 'PrometheusRule', 'gateway'));
    const windows = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];
    expect(gateway.filter((r) => r.record).map((r) => r.record)).toEqual([
      ...windows.map((w) => `slo:sli_error:ratio_rate${w}`),
      // the error budget: objective, budget, burn rate per window, what is left of the 30 days
      'slo:objective:ratio',
      'slo:error_budget:ratio',
      ...windows.map((w) => `slo:burn_rate:ratio_rate${w}`),
      'slo:sli_error:ratio_rate30d',
      'slo:error_budget_remaining:ratio',
    ]);
    expect(gateway.find((r) => r.record === 'slo:sli_error:ratio_rate5m')!.expr).toContain(
      'http_requests_total{namespace="trading-prod",job="gateway",code=~"5.."}',
    );
    const burns = gateway.filter((r) => r.alert === 'ErrorBudgetBurn');
    expect(
      burns.map((b) => [b.labels?.severity, b.labels?.burn_rate, b.labels?.long_window, b.labels?.short_window]),
    ).toEqual([
      ['critical', '14.4', '1h', '5m'],
      ['critical', '6', '6h', '30m'],
      ['warning', '3', '1d', '2h'],
      ['warning', '1', '3d', '6h'],
    ]);
    expect(burns[0].expr).toContain(
      'slo:sli_error:ratio_rate1h{namespace="trading-prod",job="gateway"} > (14.4 * 0.001)',
    );
    expect(burns[0].expr).toContain(
      'slo:sli_error:ratio_rate5m{namespace="trading-prod",job="gateway"} > (14.4 * 0.001)',
    );

    const execution = rulesOf(find(manifestsOf('production-us-east-1'), 'PrometheusRule', 'execution-gateway'));
    expect(execution.find((r) => r.record === 'slo:sli_error:ratio_rate1h')!.expr).toContain(
      'trading_orders_total{namespace="trading-prod",job="execution-gateway",status="error"}',
    );
    expect(execution.find((r) => r.alert === 'ErrorBudgetBurn')!.expr).toContain('> (14.4 * 0.0001)');
    expect(
      rulesOf(find(manifestsOf('staging'), 'PrometheusRule', 'execution-gateway')).find(
        (r) => r.alert === 'ErrorBudgetBurn',
      )!.expr,
    ).toContain('> (14.4 * 0.001)');
    // no SLO, no burn-rate rules
    expect(
      rulesOf(find(manifestsOf('production-us-east-1'), 'PrometheusRule', 'redis')).some(
        (r) => r.record || r.alert === 'ErrorBudgetBurn',
      ),
    ).toBe(false);
  });

  it('measures the SLO of a service without HTTP on the counters it declares, when it declares them', () => {
    const config = configOf('production-us-east-1');
    const redis = config.services.redis;
    expect(redis.monitoring?.metrics).toMatchObject({
      requests: 'redis_commands_processed_total',
      errors: 'redis_rejected_connections_total',
    });
    const withSlo: TargetConfig = {
      ...config,
      services: {
        ...config.services,
        redis: { ...redis, monitoring: { ...redis.monitoring, slo: { availability: 99.9 } } },
      },
    };
    const rules = rulesOf(find(synthTarget(withSlo), 'PrometheusRule', 'redis'));
    const record = rules.find((r) => r.record === 'slo:sli_error:ratio_rate1h')!.expr;
    expect(selectors(record).map((s) => s.metric)).toEqual([
      'redis_rejected_connections_total',
      'redis_commands_processed_total',
    ]);
    expect(selectors(record).every((s) => s.matchers.job === 'redis' && s.matchers.namespace === 'trading-prod')).toBe(
      true,
    );
    expect(record).not.toContain('trading_orders_total');
    expect(rules.filter((r) => r.alert === 'ErrorBudgetBurn')).toHaveLength(4);
  });
});

describe('custom alerts', () => {
  const withCustom = (expr: string): TargetConfig => {
    const config = configOf('staging');
    const redis = config.services.redis;
    return {
      ...config,
      services: {
        ...config.services,
        redis: {
          ...redis,
          monitoring: {
            ...redis.monitoring,
            alerts: {
              custom: [
                {
                  alert: 'RedisRejectedConnections',
                  expr,
                  for: '5m',
                  severity: 'warning',
                  summary: 'Redis rejects connections',
                  description: 'maxclients reached',
                  reason: 'any rejected client is a failed request',
                },
              ],
            },
          },
        },
      },
    };
  };

  it('are scoped to the service and carry the reason as threshold_reason', () => {
    const manifests = synthTarget(withCustom('increase(redis_rejected_connections_total[5m]) > 0'));
    const alert = rulesOf(find(manifests, 'PrometheusRule', 'redis')).find(
      (r) => r.alert === 'RedisRejectedConnections',
    )!;
    expect(alert.expr).toBe(
      'increase(redis_rejected_connections_total{namespace="trading-staging",job="redis"}[5m]) > 0',
    );
    expect(alert).toMatchObject({
      for: '5m',
      labels: { severity: 'warning' },
      annotations: { threshold_reason: 'any rejected client is a failed request' },
    });
  });

  it('fails the synth with the target, service and alert named when an expression does not parse', () => {
    expect(() => synthTarget(withCustom('increase(redis_rejected_connections_total[5m] > 0'))).toThrow(SynthError);
    try {
      synthTarget(withCustom('increase(redis_rejected_connections_total[5m] > 0'));
    } catch (error) {
      expect((error as SynthError).problems).toEqual([
        expect.stringMatching(
          /^staging: service "redis": alert "RedisRejectedConnections" in rule group "redis\.custom": PromQL syntax error: the expression ends too early/,
        ),
      ]);
    }
  });
});

describe('Grafana dashboards', () => {
  it.each(TARGETS)('exist for every service in %s as a ConfigMap labelled for the sidecar', (target) => {
    const config = configOf(target);
    for (const service of Object.values(config.services)) {
      const map = find(manifestsOf(target), 'ConfigMap', `${service.name}-dashboard`) as Obj;
      expect(map.metadata.labels).toMatchObject({
        [config.monitoring.grafana.dashboardLabel]: config.monitoring.grafana.dashboardLabelValue,
      });
      expect(map.metadata.annotations).toMatchObject({ grafana_folder: config.monitoring.grafana.folder });
      const model = JSON.parse(map.data[`${service.name}.json`]);
      // named by service, namespace and region: a global Grafana tells the regions apart
      expect(model.uid).toBe(
        config.region ? `${service.name}-${config.namespace}-${config.region}` : `${service.name}-${config.namespace}`,
      );
      expect(model.title).toBe(
        config.region
          ? `${service.name} (${config.namespace}, ${config.region})`
          : `${service.name} (${config.namespace})`,
      );
      const titles: string[] = model.panels.map((p: Obj) => p.title);
      expect(titles.some((t) => t.startsWith('Saturation'))).toBe(true);
    }
  });

  it("keeps dashboard uids within Grafana's 40 characters and unique per namespace, even for long names", () => {
    const config = configOf('production-us-east-1');
    const a = dashboardUid('order-routing-gateway-primary', 'a-very-long-namespace-name-for-trading', config.region);
    const b = dashboardUid('order-routing-gateway-secondary', 'a-very-long-namespace-name-for-trading', config.region);
    for (const uid of [a, b]) expect(uid.length).toBeLessThanOrEqual(MAX_DASHBOARD_UID);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^order-routing-gateway-primary-a-[0-9a-f]{8}$/);
    for (const target of TARGETS) {
      const uids = ofKind(manifestsOf(target), 'ConfigMap')
        .filter((m) => m.metadata.name.endsWith('-dashboard'))
        .map((m) => JSON.parse(Object.values((m as Obj).data)[0] as string).uid as string);
      expect(new Set(uids).size).toBe(uids.length);
      for (const uid of uids) expect(uid.length).toBeLessThanOrEqual(MAX_DASHBOARD_UID);
    }
  });

  it('shows rate, errors and duration of HTTP requests for HTTP services and of orders for execution-gateway', () => {
    const titles = (service: string) =>
      JSON.parse(
        (find(manifestsOf('production-us-east-1'), 'ConfigMap', `${service}-dashboard`) as Obj).data[`${service}.json`],
      ).panels.map((p: Obj) => p.title);
    expect(titles('gateway')).toEqual(
      expect.arrayContaining([
        'Rate: requests per second by status',
        'Errors: 5xx ratio',
        'Duration: request latency',
        'Saturation: CPU',
        'Saturation: memory',
      ]),
    );
    expect(titles('execution-gateway')).toEqual(
      expect.arrayContaining([
        'Rate: orders per second by status',
        'Errors: rejected and failed orders',
        'Duration: order latency',
      ]),
    );
    expect(titles('execution-gateway')).not.toContain('Errors: 5xx ratio');
  });

  it('shows rate, errors and duration of a service without HTTP from the metrics it names (redis, via redis_exporter)', () => {
    const model = JSON.parse(
      (find(manifestsOf('production-us-east-1'), 'ConfigMap', 'redis-dashboard') as Obj).data['redis.json'],
    );
    const panels = Object.fromEntries(
      model.panels.filter((p: Obj) => p.targets).map((p: Obj) => [p.title, p.targets.map((t: Obj) => t.expr)]),
    );
    expect(panels['Rate: requests per second']).toEqual([
      'sum(rate(redis_commands_processed_total{namespace="trading-prod",job="redis"}[$__rate_interval]))',
    ]);
    expect(panels['Errors: failures per second']).toEqual([
      'sum(rate(redis_rejected_connections_total{namespace="trading-prod",job="redis"}[$__rate_interval]))',
      'sum(rate(redis_rejected_connections_total{namespace="trading-prod",job="redis"}[$__rate_interval])) / sum(rate(redis_commands_processed_total{namespace="trading-prod",job="redis"}[$__rate_interval]))',
    ]);
    expect(panels['Duration: mean latency']).toEqual([
      'sum(rate(redis_commands_duration_seconds_total{namespace="trading-prod",job="redis"}[$__rate_interval])) / sum(rate(redis_commands_total{namespace="trading-prod",job="redis"}[$__rate_interval]))',
    ]);
    expect(Object.keys(panels)).toEqual(expect.arrayContaining(['Saturation: CPU', 'Saturation: memory']));
  });

  it('is the same JSON on every synth (no random ids)', () => {
    const again = synthTarget(configOf('production-us-east-1'));
    for (const map of ofKind(manifestsOf('production-us-east-1'), 'ConfigMap').filter((m) =>
      m.metadata.name.endsWith('-dashboard'),
    )) {
      expect((find(again, 'ConfigMap', map.metadata.name) as Obj).data).toEqual((map as Obj).data);
    }
  });
});

describe('AlertmanagerConfig', () => {
  const routing = (target: string) =>
    manifestsOf(target).find((m) => m.kind === 'AlertmanagerConfig') as Obj | undefined;
  const routes = (target: string) =>
    Object.fromEntries(routing(target)!.spec.route.routes.map((r: Obj) => [r.receiver, r.matchers[0].value]));

  it('sends critical to PagerDuty and warning to Slack in production', () => {
    for (const target of ['production-us-east-1', 'production-eu-west-1'])
      expect(routes(target)).toEqual({ pagerduty: 'critical', slack: 'warning' });
  });

  it('sends warning and critical to Slack in staging', () => {
    expect(routes('staging')).toEqual({ slack: 'critical|warning' });
  });

  it('routes nothing in development', () => {
    expect(routing('development')).toBeUndefined();
    expect(manifestsOf('development').find((m) => m.metadata.name === 'alertmanager-receivers')).toBeUndefined();
  });

  it("reads the receivers' keys from a Secret an ExternalSecret syncs, never a literal", () => {
    for (const target of ['staging', 'production-us-east-1']) {
      const config = configOf(target);
      const config_ = routing(target)!;
      const external = find(manifestsOf(target), 'ExternalSecret', 'alertmanager-receivers') as Obj;
      expect(external.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: config.secretStore.name });
      const synced = new Set(external.spec.data.map((d: Obj) => d.secretKey));
      const refs = config_.spec.receivers.flatMap((r: Obj) => [
        ...(r.pagerdutyConfigs ?? []).map((p: Obj) => p.routingKey),
        ...(r.slackConfigs ?? []).map((s: Obj) => s.apiURL),
      ]);
      expect(refs.length).toBe(Object.keys(config.monitoring.alerting ?? {}).length);
      for (const ref of refs) {
        expect(ref.name).toBe(external.spec.target.name);
        expect(synced.has(ref.key)).toBe(true);
      }
      expect(external.spec.data.map((d: Obj) => d.remoteRef.key).sort()).toEqual(
        Object.values(config.monitoring.alerting ?? {})
          .map((a) => a!.remoteKey)
          .sort(),
      );
      // no URL, key or token literal anywhere in the routing
      expect(JSON.stringify(config_)).not.toMatch(/hooks\.slack\.com|"serviceKey"|"url"|"apiURL":"/);
      expect(manifestsOf(target).filter((m) => m.kind === 'Secret')).toEqual([]);
    }
  });
});

describe('alert names', () => {
  it.each(TARGETS)(
    "in %s are the generated ones (core/alert-names.ts) or the service's configured custom alerts",
    (target) => {
      const config = configOf(target);
      for (const rule of ofKind(manifestsOf(target), 'PrometheusRule')) {
        const custom = new Set(
          (config.services[rule.metadata.name]?.monitoring?.alerts?.custom ?? []).map((c) => c.alert),
        );
        for (const r of rulesOf(rule).filter((x) => x.alert)) {
          expect([rule.metadata.name, r.alert, ALERT_NAMES.has(r.alert!) || custom.has(r.alert!)]).toEqual([
            rule.metadata.name,
            r.alert,
            true,
          ]);
        }
      }
    },
  );
});

describe('ServiceMonitoring without the platform configuration', () => {
  const reason = 'a literal threshold for a test';
  const thresholds = {
    targetDown: { for: '2m', reason },
    httpErrors: { warning: 0.01, critical: 0.05, window: '5m', for: '5m', reason },
    latency: { window: '5m', for: '10m', reason },
    crashLooping: { restarts: 3, window: '15m', reason },
    memory: { ratio: 0.9, for: '15m', reason },
    cpuThrottling: { ratio: 0.25, window: '5m', for: '15m', reason },
    hpaAtMax: { for: '15m', reason },
  };
  const selector = { 'app.kubernetes.io/name': 'quotes' };
  const build = (autoscaled: boolean, previewService?: string) => {
    const chart = new Chart(Testing.app(), 'bare', { namespace: 'demo' });
    new ServiceMonitoring(chart, 'monitoring', {
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'quotes', selector, previewService },
      scope: monitoringScope({
        service: { name: 'quotes', monitoring: { interval: '5s', thresholds: { memory: { ratio: 0.8 } } } },
        namespace: 'demo',
        thresholds,
        scrapeInterval: '30s',
        scraped: true,
        autoscaled,
      }),
      runbookUrlPattern: 'https://runbooks.example/{alert}',
    });
    return Testing.synth(chart) as Manifest[];
  };
  const alertsOf = (objects: Manifest[]) =>
    (find(objects, 'PrometheusRule', 'quotes') as Obj).spec.groups
      .flatMap((g: Obj) => g.rules)
      .filter((r: Obj) => r.alert);

  it("scrapes through the Service at the service's own interval, with the timeout no longer than it", () => {
    const objects = build(false);
    expect((find(objects, 'ServiceMonitor', 'quotes') as Obj).spec).toMatchObject({
      selector: { matchLabels: selector },
      namespaceSelector: { matchNames: ['demo'] },
      endpoints: [{ port: 'metrics', interval: '5s', scrapeTimeout: '5s' }],
    });
    expect(objects.some((o) => o.kind === 'PodMonitor')).toBe(false);
  });

  it('scrapes the pods with a PodMonitor when a preview Service stands beside the active one', () => {
    const objects = build(false, 'quotes-preview');
    expect((find(objects, 'PodMonitor', 'quotes') as Obj).spec.jobLabel).toBe('app.kubernetes.io/name');
    expect(objects.some((o) => o.kind === 'ServiceMonitor')).toBe(false);
  });

  it("alerts on the HPA ceiling only when autoscaled, and applies the service's threshold override", () => {
    const fixed = alertsOf(build(false));
    expect(fixed.map((a: Obj) => a.alert)).not.toContain('HPAAtMaxReplicas');
    expect(fixed.find((a: Obj) => a.alert === 'ContainerMemoryNearLimit').expr).toMatch(/> 0\.8$/);
    expect(fixed.find((a: Obj) => a.alert === 'TargetDown').annotations.runbook_url).toBe(
      'https://runbooks.example/target-down',
    );
    expect(alertsOf(build(true)).map((a: Obj) => a.alert)).toContain('HPAAtMaxReplicas');
  });
});
