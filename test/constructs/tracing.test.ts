import * as path from 'path';
import { loadPlatform } from '../../config/load';
import { TargetConfig } from '../../config/types';
import { addressIn } from '../../core/cidr';
import { Manifest, Obj } from '../../core/manifest';
import { checkPolicies } from '../../pipeline/policy';
import { synthesizeAll } from '../../pipeline/synth';
import { configIssues, copyEnvironments, edit, ENVIRONMENTS, ROOT } from '../helpers';
import { NetworkEvaluator, PodEndpoint, podOf } from '../network-evaluator';

/**
 * Tracing, asked of the synthesized objects: what every container of a traced target is given,
 * and what the NetworkPolicies let it reach. The expectations are written out here by hand, per
 * platform and target (not derived from the configuration under test).
 */
interface Expected {
  readonly dir: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT and _PROTOCOL. */
  readonly endpoint: string;
  readonly protocol: 'grpc' | 'http/protobuf';
  readonly port: number;
  /** The collector's pods. */
  readonly collector: PodEndpoint;
  /** The environment's sampling ratio per target; undefined: not traced. */
  readonly ratios: Record<string, number | undefined>;
  /** Ratios of services that override the environment's, per target. */
  readonly overrides?: Record<string, Record<string, number>>;
  /** Services that opt out. */
  readonly untraced: readonly string[];
  /**
   * Targets whose traced services reach the collector through the ambient mesh's tunnel as well
   * (HBONE, port 15008): the mesh is on and the collector's namespace is enrolled in it.
   */
  readonly tunnelled?: readonly string[];
}

const OTEL_COLLECTOR = { 'app.kubernetes.io/name': 'opentelemetry-collector' };
const PLATFORMS: Record<string, Expected> = {
  reference: {
    dir: ENVIRONMENTS,
    endpoint: 'http://otel-collector.observability:4317',
    protocol: 'grpc',
    port: 4317,
    collector: { namespace: 'observability', labels: OTEL_COLLECTOR },
    ratios: { development: undefined, staging: 1, 'production-us-east-1': 0.05, 'production-eu-west-1': 0.05 },
    untraced: ['redis'],
  },
  // seeds/001: "Distributed tracing with OpenTelemetry"
  'autonomous-trading-system': {
    dir: path.join(ROOT, 'examples/autonomous-trading-system/environments'),
    endpoint: 'http://otel-collector.observability:4317',
    protocol: 'grpc',
    port: 4317,
    collector: { namespace: 'observability', labels: OTEL_COLLECTOR },
    ratios: { development: undefined, staging: 1, production: 0.05 },
    overrides: { production: { 'execution-gateway': 0.01 } },
    untraced: [],
  },
  // seeds/004: "Distributed tracing with Jaeger integration" (Jaeger in namespace monitoring)
  alphintra: {
    dir: path.join(ROOT, 'examples/alphintra/environments'),
    endpoint: 'http://jaeger-collector.monitoring:4317',
    protocol: 'grpc',
    port: 4317,
    collector: {
      namespace: 'monitoring',
      labels: { 'app.kubernetes.io/name': 'jaeger', 'app.kubernetes.io/component': 'collector' },
    },
    ratios: { development: undefined, staging: 1, production: 0.05 },
    untraced: [],
    // the mesh (every environment) enrolls the monitoring namespace, where Jaeger runs
    tunnelled: ['staging', 'production'],
  },
  // seeds/003: "Distributed Tracing: Request tracing across microservices"
  'signal-trading-system': {
    dir: path.join(ROOT, 'examples/signal-trading-system/environments'),
    endpoint: 'http://otel-collector.signal-trading-monitoring:4318',
    protocol: 'http/protobuf',
    port: 4318,
    collector: { namespace: 'signal-trading-monitoring', labels: OTEL_COLLECTOR },
    ratios: { development: undefined, staging: 1, production: 0.05 },
    untraced: ['redis'],
    // the mesh (staging, production) enrolls the monitoring namespace, the collector's
    tunnelled: ['staging', 'production'],
  },
};

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Rollout'];
/** Ports a collector listens on besides OTLP (zpages, health, Jaeger's legacy receivers, its metrics) and the other OTLP port. */
const OTHER_COLLECTOR_PORTS = [4317, 4318, 55679, 13133, 14250, 14268, 6831, 8888, 9411, 16686, 443, 80];

const platforms = new Map<
  string,
  { configs: TargetConfig[]; manifests: Map<string, Manifest[]>; readmes: Map<string, string> }
>();
function platform(name: string) {
  let p = platforms.get(name);
  if (!p) {
    const configs = loadPlatform(PLATFORMS[name].dir);
    const outputs = synthesizeAll(configs);
    p = {
      configs,
      manifests: new Map(outputs.map((o) => [o.folder, o.manifests])),
      readmes: new Map(outputs.map((o) => [o.folder, o.files.get('README.md') ?? ''])),
    };
    platforms.set(name, p);
  }
  return p;
}

const workloadsOf = (manifests: readonly Manifest[]) =>
  (manifests as readonly Obj[]).filter((m) => WORKLOAD_KINDS.includes(m.kind));
const envOf = (container: Obj): Obj[] => container.env ?? [];
const valueOf = (container: Obj, name: string): string | undefined =>
  envOf(container).find((e) => e.name === name)?.value;

const cases = Object.entries(PLATFORMS).flatMap(([name, expected]) =>
  Object.keys(expected.ratios).map((target): [string, string] => [name, target]),
);

describe.each(cases)('tracing of %s, target %s', (name, target) => {
  const expected = PLATFORMS[name];
  const { configs, manifests: all, readmes } = platform(name);
  const config = configs.find((c) => c.target === target)!;
  const manifests = all.get(target)!;
  const ratio = expected.ratios[target];
  const traced = (service: string) => ratio !== undefined && !expected.untraced.includes(service);
  const net = new NetworkEvaluator(manifests);
  const stranger: PodEndpoint = { ...expected.collector, labels: { 'app.kubernetes.io/name': 'debug' } };

  it('is the target the expectations describe', () => {
    expect(config).toBeDefined();
    expect(workloadsOf(manifests).length).toBeGreaterThan(0);
  });

  it('gives every container of a traced service the OpenTelemetry SDK variables, with the right values', () => {
    for (const workload of workloadsOf(manifests)) {
      const service = workload.metadata.name as string;
      for (const container of workload.spec.template.spec.containers as Obj[]) {
        const otel = envOf(container).filter((e) => e.name.startsWith('OTEL_'));
        if (!traced(service)) {
          expect({ service, container: container.name, otel }).toEqual({
            service,
            container: container.name,
            otel: [],
          });
          continue;
        }
        const own = expected.overrides?.[target]?.[service] ?? ratio;
        const want: Record<string, string> = {
          OTEL_SERVICE_NAME: service,
          OTEL_EXPORTER_OTLP_ENDPOINT: expected.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: expected.protocol,
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: String(own),
          OTEL_PROPAGATORS: 'tracecontext,baggage',
        };
        for (const [key, value] of Object.entries(want))
          expect({ service, container: container.name, [key]: valueOf(container, key) }).toEqual({
            service,
            container: container.name,
            [key]: value,
          });

        // the resource: the service's version is its image's tag, the pod's name comes from the downward API
        const attributes = Object.fromEntries(
          valueOf(container, 'OTEL_RESOURCE_ATTRIBUTES')!
            .split(',')
            .map((pair) => pair.split('=') as [string, string]),
        );
        const mainImage = (workload.spec.template.spec.containers[0] as Obj).image as string;
        expect(attributes).toMatchObject({
          'service.namespace': config.platform.name,
          'service.version': /:([^@]+)/.exec(mainImage)![1],
          'deployment.environment': config.environment,
          'deployment.environment.name': config.environment,
          'k8s.namespace.name': config.namespace,
          'k8s.pod.name': '$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)',
        });
        const names = envOf(container).map((e) => e.name);
        const pod = envOf(container).find((e) => e.name === 'OTEL_RESOURCE_ATTRIBUTES_POD_NAME');
        expect(pod?.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
        // the kubelet expands $(NAME) only from variables defined earlier in the list
        expect(names.indexOf('OTEL_RESOURCE_ATTRIBUTES_POD_NAME')).toBeLessThan(
          names.indexOf('OTEL_RESOURCE_ATTRIBUTES'),
        );
        expect(new Set(names).size).toBe(names.length);
      }
    }
  });

  it("README names every resource attribute the traced containers carry (a region's cloud.region too)", () => {
    const section = readmes
      .get(target)!
      .split('\n')
      .find((line) => line.includes('`OTEL_RESOURCE_ATTRIBUTES`:'));
    if (ratio === undefined) return expect(section).toBeUndefined();
    const carried = new Set(
      workloadsOf(manifests).flatMap((workload) =>
        (workload.spec.template.spec.containers as Obj[]).flatMap((container) =>
          (valueOf(container, 'OTEL_RESOURCE_ATTRIBUTES') ?? '')
            .split(',')
            .filter(Boolean)
            .map((pair) => pair.split('=')[0]),
        ),
      ),
    );
    expect(carried.size).toBeGreaterThan(5);
    for (const attribute of carried)
      expect({ attribute, named: section!.includes(`\`${attribute}\``) }).toEqual({ attribute, named: true });
  });

  it('lets every traced service reach the collector on its OTLP port, and on no other port', () => {
    for (const service of Object.keys(config.services)) {
      const from = podOf(manifests, service);
      if (traced(service)) {
        expect(net.check(from, expected.collector, expected.port)).toMatchObject({ allowed: true });
      } else {
        expect(net.mayReach(from, expected.collector, expected.port)).toBe(false);
      }
      for (const port of OTHER_COLLECTOR_PORTS.filter((p) => p !== expected.port))
        expect({ service, port, allowed: net.mayReach(from, expected.collector, port) }).toEqual({
          service,
          port,
          allowed: false,
        });
      // UDP on the OTLP port, and other pods of the collector's namespace on it
      expect(net.mayReach(from, expected.collector, expected.port, 'UDP')).toBe(false);
      expect(net.mayReach(from, stranger, expected.port)).toBe(false);
      expect(net.mayReach(from, { ...expected.collector, namespace: 'default' }, expected.port)).toBe(false);
    }
  });

  it('opens the mesh tunnel (15008) to the collector exactly when the mesh carries that flow', () => {
    // ATS's collector (namespace observability) is outside its mesh: its spans leave on 4317 alone
    const tunnelled = expected.tunnelled?.includes(target) ?? false;
    for (const service of Object.keys(config.services)) {
      const from = podOf(manifests, service);
      expect({ service, hbone: net.mayReach(from, expected.collector, 15008) }).toEqual({
        service,
        hbone: tunnelled && traced(service),
      });
    }
  });

  it('passes the network check', () => {
    expect(checkPolicies(config, manifests).filter((v) => v.rule.startsWith('network-'))).toEqual([]);
  });
});

describe('the network check knows the tracing flow', () => {
  const { configs, manifests: all } = platform('reference');
  const config = configs.find((c) => c.target === 'staging')!;
  const manifests = all.get('staging')!;
  const tracingFindings = (ms: Manifest[]) =>
    checkPolicies(config, ms)
      .filter((v) => v.rule === 'network-tracing')
      .map((v) => `${v.kind}/${v.name}: ${v.field}: ${v.message}`);
  /** The manifests with one policy's egress rewritten. */
  const withEgress = (policy: string, rewrite: (egress: Obj[]) => Obj[]) =>
    manifests.map((m) =>
      m.kind === 'NetworkPolicy' && m.metadata.name === policy
        ? ({ ...m, spec: { ...(m as Obj).spec, egress: rewrite((m as Obj).spec.egress ?? []) } } as Manifest)
        : m,
    );
  const isCollectorRule = (rule: Obj) =>
    (rule.to ?? []).some(
      (p: Obj) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'observability',
    );
  const collectorRule = (manifests as Obj[])
    .find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'gateway')!
    .spec.egress.find(isCollectorRule);

  it('passes the synthesized policies', () => {
    expect(tracingFindings(manifests)).toEqual([]);
  });

  it('reports a traced service whose spans cannot reach the collector', () => {
    const findings = tracingFindings(withEgress('gateway', (egress) => egress.filter((r) => !isCollectorRule(r))));
    expect(findings).toEqual([
      'NetworkPolicy/gateway: spec.egress: service "gateway" is traced but no NetworkPolicy that selects its pods lets them reach the collector\'s pods (app.kubernetes.io/name=opentelemetry-collector) in namespace "observability" on 4317/TCP, so its spans are dropped',
    ]);
  });

  it('reports a rule that opens the collector on another port too', () => {
    const findings = tracingFindings(
      withEgress('gateway', (egress) =>
        egress.map((r) => (isCollectorRule(r) ? { ...r, ports: [...r.ports, { port: 55679, protocol: 'TCP' }] } : r)),
      ),
    );
    expect(findings).toEqual([
      expect.stringMatching(
        /^NetworkPolicy\/gateway: spec\.egress\[\d+\]: lets the pods of service "gateway" reach the collector's pods .* on 55679\/TCP; tracing needs port 4317\/TCP only$/,
      ),
    ]);
  });

  it('reports a rule that opens the whole collector namespace on every port', () => {
    const findings = tracingFindings(
      withEgress('gateway', (egress) =>
        egress.map((r) =>
          isCollectorRule(r)
            ? { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }] }
            : r,
        ),
      ),
    );
    expect(findings).toEqual([expect.stringMatching(/reach the collector's pods .* on every port; tracing needs/)]);
  });

  it('reports a service that is not traced but may reach the collector', () => {
    const findings = tracingFindings(withEgress('redis', (egress) => [...egress, collectorRule]));
    expect(findings).toEqual([
      expect.stringMatching(
        /^NetworkPolicy\/redis: spec\.egress\[\d+\]: lets the pods of service "redis", which is not traced, reach the collector's pods/,
      ),
    ]);
  });
});

describe('a collector outside the cluster', () => {
  // an external collector: its CIDR and port declared like every other external peer
  const dir = copyEnvironments();
  edit(
    dir,
    'defaults.yaml',
    'externals:\n',
    'externals:\n  trace-backend:\n    description: Hosted tracing backend (OTLP over gRPC, TLS)\n    cidrs: [198.51.100.64/28]\n    ports:\n      - { name: otlp, port: 4317 }\n',
  );
  edit(
    dir,
    'defaults.yaml',
    /endpoint: otel-collector\.observability:4317\n\s+podSelector: .*\n/,
    'endpoint: https://otlp.traces.example.com:4317\n    external: trace-backend\n',
  );
  const configs = loadPlatform(dir);
  const config = configs.find((c) => c.target === 'staging')!;
  const manifests = synthesizeAll([config])[0].manifests;
  const net = new NetworkEvaluator(manifests);
  const inside = addressIn('198.51.100.64/28', 1);

  it('is reached over https at the CIDRs of its peer, on its port only', () => {
    const gateway = podOf(manifests, 'gateway');
    const env = ((manifests as Obj[]).find((m) => m.kind === 'Deployment' && m.metadata.name === 'gateway')!.spec
      .template.spec.containers[0].env ?? []) as Obj[];
    expect(env.find((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe(
      'https://otlp.traces.example.com:4317',
    );
    expect(net.check(gateway, { ip: inside }, 4317)).toMatchObject({ allowed: true });
    expect(net.mayReach(gateway, { ip: inside }, 4318)).toBe(false);
    expect(net.mayReach(gateway, { ip: '198.51.100.200' }, 4317)).toBe(false);
    expect(net.mayReach(podOf(manifests, 'redis'), { ip: inside }, 4317)).toBe(false);
    expect(checkPolicies(config, manifests).filter((v) => v.rule.startsWith('network-'))).toEqual([]);
  });

  it('is refused over http, on a port its peer does not declare, or when the peer is not declared', () => {
    const broken = copyEnvironments(dir);
    edit(broken, 'defaults.yaml', 'https://otlp.traces.example.com:4317', 'http://otlp.traces.example.com:4318');
    edit(broken, 'defaults.yaml', 'external: trace-backend', 'external: trace-backends');
    const messages = configIssues(broken).map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^tracing\.collector\.endpoint: "http:\/\/otlp\.traces\.example\.com:4318" uses port 4318, the OTLP port of http\/protobuf, but tracing\.protocol is grpc/,
        ),
        expect.stringMatching(
          /^tracing\.collector\.external: "trace-backends" is not a declared external peer; declared externals: .*trace-backend/,
        ),
      ]),
    );
    const fixedPeer = copyEnvironments(dir);
    edit(fixedPeer, 'defaults.yaml', 'https://otlp.traces.example.com:4317', 'http://otlp.traces.example.com:4319');
    const peerMessages = configIssues(fixedPeer).map((i) => `${i.path}: ${i.message}`);
    expect(peerMessages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^tracing\.collector\.endpoint: "http:\/\/otlp\.traces\.example\.com:4319" uses port 4319, which the external peer "trace-backend" does not declare \(its ports: 4317\)/,
        ),
        expect.stringMatching(
          /^tracing\.collector\.endpoint: .* to a collector outside the cluster in clear text; use https:\/\//,
        ),
      ]),
    );
  });
});
