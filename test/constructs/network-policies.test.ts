import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { loadPlatform } from '../../config/load';
import { ServiceNetworkPolicy } from '../../constructs/network-policies';
import { TargetConfig } from '../../config/types';
import { addressIn } from '../../core/cidr';
import { find, Manifest, ofKind } from '../../core/manifest';
import { checkPolicies } from '../../pipeline/policy';
import { synthTarget } from '../../pipeline/synth';
import {
  configOf,
  copyEnvironments,
  edit,
  manifestsOf,
  PLATFORM_SERVICES,
  runSynth,
  TARGETS,
  treeDigest,
} from '../helpers';
import { Endpoint, NetworkEvaluator, PodEndpoint, podOf, Protocol } from '../network-evaluator';

/**
 * "Who talks to whom" of PLATFORM.md, written out here by hand (not derived from the
 * configuration), and checked against the synthesized NetworkPolicies of every target with the
 * evaluator: each flow is allowed, and every other port between these services is denied.
 * Services added to environments/ since are checked against their own `dependsOn`.
 */
const SERVICES = PLATFORM_SERVICES;
const SERVICE_FLOWS: Array<[string, string, number]> = [
  ['gateway', 'data-service', 8080],
  ['gateway', 'signal-service', 8080],
  ['gateway', 'orchestrator', 8080],
  ['orchestrator', 'signal-service', 8080],
  ['orchestrator', 'ml-service', 8080],
  ['orchestrator', 'execution-gateway', 9000],
  ['orchestrator', 'redis', 6379],
  ['signal-service', 'data-service', 8080],
  ['signal-service', 'ml-service', 8080],
  ['signal-service', 'redis', 6379],
  ['data-service', 'redis', 6379],
  ['ml-service', 'redis', 6379],
  ['execution-gateway', 'redis', 6379],
];
const EXTERNAL_FLOWS: Array<[string, string, number]> = [
  ['orchestrator', 'postgres', 5432],
  ['orchestrator', 'kubernetes-api', 443],
  ['data-service', 'postgres', 5432],
  ['data-service', 'market-data', 443],
  ['execution-gateway', 'exchanges', 443],
  ['execution-gateway', 'exchanges', 9878],
  ['execution-gateway', 'postgres', 5432],
];
const METRICS = 9090;
const INTERNET = ['8.8.8.8', '1.1.1.1', '100.64.0.1'];

/** The first and last address of every CIDR of an external peer of the target. */
function addressesOf(config: TargetConfig, external: string): string[] {
  const peer = config.externals[external];
  if (!peer) throw new Error(`${config.target} has no external ${external}`);
  return peer.cidrs.flatMap((cidr) => [addressIn(cidr, 0), addressIn(cidr, -1)]);
}

const portsOf = (pod: PodEndpoint) => (pod.ports ?? []).map((p) => p.containerPort);

describe.each(TARGETS)('NetworkPolicies of %s', (target) => {
  const manifests = manifestsOf(target);
  const config = configOf(target);
  const net = new NetworkEvaluator(manifests);
  const pod = (name: string) => podOf(manifests, name);
  const ingressController: PodEndpoint = {
    namespace: config.ingress.controllerNamespace,
    labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
  };
  const prometheus: PodEndpoint = {
    namespace: config.monitoring.namespace,
    labels: { 'app.kubernetes.io/name': 'prometheus' },
  };
  const kubeDns: PodEndpoint = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
  /** A verdict that carries its reasons, so a failure says which side refused. */
  const reach = (from: Endpoint, to: Endpoint, port: number, protocol: Protocol = 'TCP') =>
    net.check(from, to, port, protocol);
  /** Every service of the target: PLATFORM.md's and any added since. */
  const services = Object.keys(config.services);

  it('isolates every pod of the namespace for ingress and egress by default', () => {
    const deny = find(manifests, 'NetworkPolicy', 'default-deny') as Manifest & { spec: Record<string, unknown> };
    expect(deny.metadata.namespace).toBe(config.namespace);
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    // a pod nothing else mentions is cut off both ways
    const stranger: PodEndpoint = { namespace: config.namespace, labels: { 'app.kubernetes.io/name': 'debug' } };
    expect(net.mayReach(stranger, pod('redis'), 6379)).toBe(false);
    expect(net.mayReach(pod('gateway'), stranger, 8080)).toBe(false);
    expect(net.mayReach(stranger, { ip: INTERNET[0] }, 443)).toBe(false);
  });

  it('gives every service one policy, named after it, selecting its pods by the selector labels', () => {
    for (const name of services) {
      const policy = find(manifests, 'NetworkPolicy', name) as Manifest & {
        spec: { podSelector: { matchLabels: Record<string, string> } };
      };
      const labels = pod(name).labels;
      for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels)) expect(labels[key]).toBe(value);
      expect(policy.spec.podSelector.matchLabels).not.toHaveProperty('app.kubernetes.io/version');
    }
    // one per service, the namespace's two, and one per blue/green release's smoke test
    const smokeTests = ofKind(manifests, 'Rollout').length;
    expect(ofKind(manifests, 'NetworkPolicy')).toHaveLength(services.length + 2 + smokeTests);
  });

  it.each(SERVICE_FLOWS)('allows %s → %s:%d', (from, to, port) => {
    expect(reach(pod(from), pod(to), port)).toMatchObject({ allowed: true });
  });

  it.each(EXTERNAL_FLOWS)('allows %s → %s (every configured CIDR) :%d', (from, external, port) => {
    for (const ip of addressesOf(config, external))
      expect(reach(pod(from), { ip }, port)).toMatchObject({ allowed: true });
  });

  it('allows the ingress controller to the gateway on 8080 only', () => {
    expect(reach(ingressController, pod('gateway'), 8080)).toMatchObject({ allowed: true });
    expect(net.mayReach(ingressController, pod('gateway'), METRICS)).toBe(false);
    for (const name of services.filter((s) => s !== 'gateway')) {
      for (const port of portsOf(pod(name))) expect(net.mayReach(ingressController, pod(name), port)).toBe(false);
    }
  });

  it('allows Prometheus to every metrics port and to nothing else', () => {
    for (const name of services) {
      expect(reach(prometheus, pod(name), METRICS)).toMatchObject({ allowed: true });
      // only Prometheus' pods: another pod of the monitoring namespace, or a pod with Prometheus'
      // labels in another namespace, is refused
      expect(
        net.mayReach(
          { namespace: config.monitoring.namespace, labels: { 'app.kubernetes.io/name': 'grafana' } },
          pod(name),
          METRICS,
        ),
      ).toBe(false);
      expect(net.mayReach({ namespace: 'default', labels: prometheus.labels }, pod(name), METRICS)).toBe(false);
      for (const port of portsOf(pod(name)).filter((p) => p !== METRICS))
        expect(net.mayReach(prometheus, pod(name), port)).toBe(false);
    }
  });

  it('allows every pod to cluster DNS on 53 over UDP and TCP, and to nothing else in kube-system', () => {
    for (const name of services) {
      expect(reach(pod(name), kubeDns, 53, 'UDP')).toMatchObject({ allowed: true });
      expect(reach(pod(name), kubeDns, 53, 'TCP')).toMatchObject({ allowed: true });
      expect(net.mayReach(pod(name), kubeDns, 9153)).toBe(false);
      expect(net.mayReach(pod(name), { namespace: 'kube-system', labels: { component: 'etcd' } }, 53, 'UDP')).toBe(
        false,
      );
    }
  });

  it('denies every service-to-service port that is not a flow of PLATFORM.md', () => {
    const allowed = new Set(SERVICE_FLOWS.map(([from, to, port]) => `${from}>${to}:${port}`));
    const unexpected: string[] = [];
    for (const from of SERVICES) {
      for (const to of SERVICES.filter((s) => s !== from)) {
        for (const port of portsOf(pod(to))) {
          const key = `${from}>${to}:${port}`;
          if (net.mayReach(pod(from), pod(to), port) !== allowed.has(key))
            unexpected.push(`${key} ${allowed.has(key) ? 'denied' : 'allowed'}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
  });

  it('allows between any two services exactly the ports a dependsOn of the configuration declares', () => {
    const declared = new Set<string>();
    for (const service of Object.values(config.services)) {
      for (const dep of service.dependsOn ?? []) {
        if (!('service' in dep)) continue;
        const port =
          typeof dep.port === 'number'
            ? dep.port
            : config.services[dep.service].ports.find((p) => p.name === dep.port)!.port;
        declared.add(`${service.name}>${dep.service}:${port}`);
      }
    }
    const unexpected: string[] = [];
    for (const from of services) {
      for (const to of services.filter((s) => s !== from)) {
        for (const port of portsOf(pod(to))) {
          const key = `${from}>${to}:${port}`;
          if (net.mayReach(pod(from), pod(to), port) !== declared.has(key))
            unexpected.push(`${key} ${declared.has(key) ? 'denied' : 'allowed'}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
  });

  it('denies gateway → execution-gateway, gateway → redis and ml-service → postgres', () => {
    expect(net.mayReach(pod('gateway'), pod('execution-gateway'), 9000)).toBe(false);
    expect(net.mayReach(pod('gateway'), pod('redis'), 6379)).toBe(false);
    for (const ip of addressesOf(config, 'postgres')) expect(net.mayReach(pod('ml-service'), { ip }, 5432)).toBe(false);
  });

  it('denies data-service → exchanges on every exchange port', () => {
    for (const ip of addressesOf(config, 'exchanges')) {
      expect(net.mayReach(pod('data-service'), { ip }, 443)).toBe(false);
      expect(net.mayReach(pod('data-service'), { ip }, 9878)).toBe(false);
    }
  });

  it("denies anything from another namespace to redis, even with a client's labels", () => {
    const impostor: PodEndpoint = { namespace: 'intruder', labels: pod('signal-service').labels };
    for (const from of [impostor, ingressController, kubeDns])
      expect(net.mayReach(from, pod('redis'), 6379)).toBe(false);
    expect(net.mayReach(prometheus, pod('redis'), 6379)).toBe(false);
    expect(net.mayReach({ ip: '10.0.0.99' }, pod('redis'), 6379)).toBe(false);
  });

  it('denies external peers on ports they were not declared with', () => {
    for (const ip of addressesOf(config, 'postgres'))
      expect(net.mayReach(pod('orchestrator'), { ip }, 443)).toBe(false);
    for (const ip of addressesOf(config, 'kubernetes-api')) {
      expect(net.mayReach(pod('orchestrator'), { ip }, 6443)).toBe(false);
      expect(net.mayReach(pod('gateway'), { ip }, 443)).toBe(false);
    }
  });

  it('denies the internet, both ways, for every service', () => {
    for (const name of SERVICES) {
      for (const ip of INTERNET) {
        for (const port of [80, 443, 9878]) expect(net.mayReach(pod(name), { ip }, port)).toBe(false);
        for (const port of portsOf(pod(name))) expect(net.mayReach({ ip }, pod(name), port)).toBe(false);
      }
    }
  });

  it('opens no ipBlock to the whole internet and names every port by number', () => {
    for (const policy of ofKind(manifests, 'NetworkPolicy') as Array<Manifest & { spec: Record<string, any> }>) {
      // the API server drops empty lists, which Argo CD would show as a permanent diff
      expect([policy.metadata.name, policy.spec.ingress, policy.spec.egress]).not.toContainEqual([]);
      const rules = [
        ...(policy.spec.ingress ?? []).map((r: any) => ({ peers: r.from, ports: r.ports })),
        ...(policy.spec.egress ?? []).map((r: any) => ({ peers: r.to, ports: r.ports })),
      ];
      for (const rule of rules) {
        expect(rule.peers?.length).toBeGreaterThan(0);
        expect(rule.ports?.length).toBeGreaterThan(0);
        for (const p of rule.ports) expect(typeof p.port).toBe('number');
        for (const peer of rule.peers) expect(peer.ipBlock?.cidr ?? '').not.toMatch(/\/0$/);
      }
    }
  });
});

describe.each([
  ['production-us-east-1', 'production-eu-west-1'],
  ['production-eu-west-1', 'production-us-east-1'],
])('production region %s', (target, other) => {
  const manifests = manifestsOf(target);
  const net = new NetworkEvaluator(manifests);

  it(`reaches its own exchanges and database but not those of ${other}`, () => {
    const gateway = podOf(manifests, 'execution-gateway');
    for (const ip of addressesOf(configOf(target), 'exchanges')) expect(net.mayReach(gateway, { ip }, 9878)).toBe(true);
    for (const ip of addressesOf(configOf(other), 'exchanges')) {
      expect(net.mayReach(gateway, { ip }, 443)).toBe(false);
      expect(net.mayReach(gateway, { ip }, 9878)).toBe(false);
    }
    for (const ip of addressesOf(configOf(other), 'postgres')) expect(net.mayReach(gateway, { ip }, 5432)).toBe(false);
    for (const ip of addressesOf(configOf(other), 'kubernetes-api'))
      expect(net.mayReach(podOf(manifests, 'orchestrator'), { ip }, 443)).toBe(false);
  });
});

describe('0.0.0.0/0', () => {
  it('is written only for the peer that declares it with a reason, and only for its callers', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      /cidrs: \[203\.0\.113\.0\/24\]/,
      'cidrs: [0.0.0.0/0]\n    reason: venues rotate their order-entry addresses without notice',
    );
    const config = loadPlatform(dir).find((c) => c.target === 'development')!;
    const manifests = synthTarget(config);
    const net = new NetworkEvaluator(manifests);
    expect(net.mayReach(podOf(manifests, 'execution-gateway'), { ip: '8.8.8.8' }, 9878)).toBe(true);
    expect(net.mayReach(podOf(manifests, 'execution-gateway'), { ip: '8.8.8.8' }, 80)).toBe(false);
    for (const name of SERVICES.filter((s) => s !== 'execution-gateway'))
      expect(net.mayReach(podOf(manifests, name), { ip: '8.8.8.8' }, 443)).toBe(false);
  });
});

describe('the network policy check', () => {
  const config = configOf('staging');
  const manifests = manifestsOf('staging');
  // the egress to the trace collector these edits drop is the tracing check's (test/constructs/tracing.test.ts)
  const networkViolations = (ms: Manifest[]) =>
    checkPolicies(config, ms).filter((v) => v.rule.startsWith('network-') && v.rule !== 'network-tracing');

  it('passes the synthesized policies', () => {
    expect(networkViolations(manifests)).toEqual([]);
  });

  it('reports a namespace without a default deny', () => {
    const violations = networkViolations(manifests.filter((m) => m.metadata.name !== 'default-deny'));
    expect(violations.map((v) => `${v.rule}: ${v.message}`)).toEqual([
      'network-default-deny: namespace "trading-staging" has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)',
    ]);
  });

  it('reports a rule that allows every peer or every port, and an unjustified 0.0.0.0/0', () => {
    const loosened = manifests.map((m) => {
      if (m.kind !== 'NetworkPolicy' || m.metadata.name !== 'execution-gateway') return m;
      const spec = (m as Manifest & { spec: Record<string, any> }).spec;
      return {
        ...m,
        spec: {
          ...spec,
          ingress: [{}],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
        },
      } as Manifest;
    });
    expect(networkViolations(loosened).map((v) => `${v.kind}/${v.name}: ${v.field}: ${v.message}`)).toEqual([
      'NetworkPolicy/execution-gateway: spec.ingress[0].from: is empty, which allows every source',
      'NetworkPolicy/execution-gateway: spec.ingress[0].ports: is empty, which allows every port',
      'NetworkPolicy/execution-gateway: spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 opens the whole internet and no external peer this service depends on declares it with a reason',
    ]);
  });
});

describe('wide CIDRs need a reason', () => {
  /** The configuration error of loading the reference environments with one edit, or ''. */
  function loadError(file: string, search: string | RegExp, replacement: string): string {
    const dir = copyEnvironments();
    edit(dir, file, search, replacement);
    try {
      loadPlatform(dir);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  }
  const exchanges = /cidrs: \[203\.0\.113\.0\/24\]/;
  const allowed =
    /narrow it to the peer's own ranges \(each block \/8 or narrower for IPv4, \/32 or narrower for IPv6, at most one such block of public addresses in all\) or add a "reason" to externals\.exchanges/;

  it('fails on two halves that together cover the whole IPv4 internet', () => {
    const message = loadError('defaults.yaml', exchanges, 'cidrs: [0.0.0.0/1, 128.0.0.0/1]');
    expect(message).toMatch(/defaults\.yaml:\d+: externals\.exchanges\.cidrs\[0\]: 0\.0\.0\.0\/1 is wider than a \/8/);
    expect(message).toMatch(
      /defaults\.yaml:\d+: externals\.exchanges\.cidrs\[1\]: 128\.0\.0\.0\/1 is wider than a \/8 \(the widest IPv4 block allowed without a reason\)/,
    );
    expect(message).toMatch(allowed);
  });

  it('fails on /8 blocks that together cover the whole IPv4 internet', () => {
    const all = Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`).join(', ');
    const message = loadError('defaults.yaml', exchanges, `cidrs: [${all}]`);
    expect(message).toMatch(
      /defaults\.yaml:\d+: externals\.exchanges\.cidrs: 0\.0\.0\.0\/8, 1\.0\.0\.0\/8, .* together cover the whole IPv4 internet; narrow it/,
    );
  });

  it('fails on a single IPv4 block wider than /8', () => {
    const message = loadError('defaults.yaml', exchanges, 'cidrs: [64.0.0.0/4]');
    expect(message).toMatch(/defaults\.yaml:\d+: externals\.exchanges\.cidrs\[0\]: 64\.0\.0\.0\/4 is wider than a \/8/);
    expect(message).toMatch(allowed);
  });

  it('fails on blocks that together hold more public addresses than one /8', () => {
    const message = loadError('defaults.yaml', exchanges, 'cidrs: [3.0.0.0/8, 4.0.0.0/9]');
    expect(message).toMatch(
      /defaults\.yaml:\d+: externals\.exchanges\.cidrs: 3\.0\.0\.0\/8, 4\.0\.0\.0\/9 together cover more public addresses than one \/8/,
    );
  });

  it('does not count private ranges towards the public total', () => {
    // with private space counted, 10.0.0.0/8 alone would take up the whole allowance
    expect(loadError('defaults.yaml', exchanges, 'cidrs: [10.0.0.0/8, 172.16.0.0/12, 3.0.0.0/9]')).toBe('');
  });

  it('fails on ::/0 and on an IPv6 block wider than /32', () => {
    expect(loadError('defaults.yaml', exchanges, 'cidrs: ["::/0"]')).toMatch(
      /defaults\.yaml:\d+: externals\.exchanges\.cidrs\[0\]: ::\/0 opens the whole internet; narrow it/,
    );
    expect(loadError('defaults.yaml', exchanges, 'cidrs: ["2000::/3"]')).toMatch(
      /defaults\.yaml:\d+: externals\.exchanges\.cidrs\[0\]: 2000::\/3 is wider than a \/32 \(the widest IPv6 block allowed without a reason\)/,
    );
    expect(loadError('defaults.yaml', exchanges, 'cidrs: ["::/1", "8000::/1"]')).toMatch(
      /externals\.exchanges\.cidrs\[0\]: ::\/1 is wider than a \/32/,
    );
  });

  it('allows wide blocks when the peer declares a reason', () => {
    expect(
      loadError(
        'defaults.yaml',
        exchanges,
        'cidrs: [0.0.0.0/1, 128.0.0.0/1]\n    reason: venues rotate their order-entry addresses without notice',
      ),
    ).toBe('');
  });

  it('a 0.0.0.0/0 justified for one peer does not pass in the policy of a service that does not depend on it', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      exchanges,
      'cidrs: [0.0.0.0/0]\n    reason: venues rotate their order-entry addresses without notice',
    );
    const config = loadPlatform(dir).find((c) => c.target === 'development')!;
    const manifests = synthTarget(config);
    const at = (name: string) => manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === name)!;
    expect(checkPolicies(config, manifests).filter((v) => v.rule.startsWith('network-'))).toEqual([]);
    // copy the justified rule into data-service's policy, which does not depend on exchanges
    const rule = ((at('execution-gateway') as any).spec.egress as any[]).find((r) =>
      r.to.some((t: any) => t.ipBlock?.cidr === '0.0.0.0/0'),
    );
    const widened = manifests.map((m) =>
      m === at('data-service')
        ? ({ ...m, spec: { ...(m as any).spec, egress: [...(m as any).spec.egress, rule] } } as Manifest)
        : m,
    );
    const violations = checkPolicies(config, widened).filter((v) => v.rule.startsWith('network-'));
    expect(violations.map((v) => `${v.kind}/${v.name}: ${v.field}: ${v.message}`)).toEqual([
      expect.stringMatching(
        /^NetworkPolicy\/data-service: spec\.egress\[\d+\]\.to\[0\]\.ipBlock\.cidr: 0\.0\.0\.0\/0 opens the whole internet and no external peer this service depends on declares it with a reason$/,
      ),
    ]);
    expect(violations[0].fix).toMatch(
      /narrow the blocks \(\/8 or narrower for IPv4, \/32 for IPv6\), or declare them under externals with a "reason" and depend on that peer/,
    );
  });

  it('reports blocks that together cover the whole internet in a policy', () => {
    const config = configOf('staging');
    const loosened = manifestsOf('staging').map((m) =>
      m.kind === 'NetworkPolicy' && m.metadata.name === 'gateway'
        ? ({
            ...m,
            spec: {
              ...(m as any).spec,
              egress: [
                {
                  to: [{ ipBlock: { cidr: '0.0.0.0/1' } }, { ipBlock: { cidr: '128.0.0.0/1' } }],
                  ports: [{ port: 443, protocol: 'TCP' }],
                },
              ],
            },
          } as Manifest)
        : m,
    );
    const messages = checkPolicies(config, loosened)
      // the egress to the trace collector this edit drops is the tracing check's (test/constructs/tracing.test.ts)
      .filter((v) => v.rule.startsWith('network-') && v.rule !== 'network-tracing')
      .map((v) => `${v.field}: ${v.message}`);
    expect(messages).toEqual([
      'spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/1 is wider than a /8 (the widest IPv4 block allowed without a reason) and no external peer this service depends on declares it with a reason',
      'spec.egress[0].to[1].ipBlock.cidr: 128.0.0.0/1 is wider than a /8 (the widest IPv4 block allowed without a reason) and no external peer this service depends on declares it with a reason',
    ]);
  });
});

/**
 * Bad graphs must make `synth` exit non-zero with a message naming the file, the path and the
 * value, and leave the output untouched.
 */
describe('synth refuses a bad service graph', () => {
  let out: string;
  let before: string;

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    expect(runSynth(['--config', copyEnvironments(), '--out', out, '--quiet']).status).toBe(0);
    before = treeDigest(out);
  });

  function refuse(file: string, search: string | RegExp, replacement: string): string {
    const dir = copyEnvironments();
    edit(dir, file, search, replacement);
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(treeDigest(out)).toBe(before);
    return result.stderr;
  }

  it('fails on a dependency on an undeclared external peer', () => {
    const message = refuse('defaults.yaml', '- { external: market-data }', '- { external: market-feed }');
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.data-service\.dependsOn\[2\]\.external: "data-service" depends on the external peer "market-feed", which is not declared; declared externals: .*market-data/,
    );
  });

  it('fails on a dependency on an undeclared service', () => {
    const message = refuse(
      'defaults.yaml',
      '- { service: ml-service, port: http }\n      - { service: redis, port: redis }',
      '- { service: risk-engine, port: http }\n      - { service: redis, port: redis }',
    );
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.signal-service\.dependsOn\[1\]\.service: "signal-service" depends on "risk-engine", which is not a declared service/,
    );
  });

  it('fails on 0.0.0.0/0 without a reason', () => {
    const message = refuse('production.yaml', 'cidrs: [203.0.113.0/26, 198.51.100.128/26]', 'cidrs: [0.0.0.0/0]');
    expect(message).toMatch(
      /production\.yaml:\d+: regions\.us-east-1\.externals\.exchanges\.cidrs\[0\]: 0\.0\.0\.0\/0 opens the whole internet; narrow it .* or add a "reason"/,
    );
  });

  it('fails on a CIDR with host bits set and names its network address', () => {
    const message = refuse('staging.yaml', 'cidrs: [10.20.0.0/24]', 'cidrs: [10.20.0.5/24]');
    expect(message).toMatch(
      /staging\.yaml:\d+: externals\.postgres\.cidrs\[0\]: "10\.20\.0\.5\/24" has host bits set.*"10\.20\.0\.0\/24"/,
    );
  });
});

describe('ServiceNetworkPolicy without the platform configuration', () => {
  const api = { 'app.kubernetes.io/name': 'api' };
  const web = { 'app.kubernetes.io/name': 'web' };
  const build = (props: Partial<ConstructorParameters<typeof ServiceNetworkPolicy>[2]>) => {
    const chart = new Chart(Testing.app(), 'bare', { namespace: 'demo' });
    new ServiceNetworkPolicy(chart, 'policy', { name: 'api', selector: api, ...props });
    return chart;
  };

  it('admits exactly its two peers, each on its own port', () => {
    const chart = build({
      ingress: [
        { peer: { pods: web }, ports: [{ name: 'http', port: 8080 }] },
        {
          peer: { namespace: 'monitoring', pods: { 'app.kubernetes.io/name': 'prometheus' } },
          ports: [{ name: 'metrics', port: 9090 }],
        },
      ],
      egress: [{ peer: { cidrs: ['10.1.0.0/16'] }, ports: [{ name: 'db', port: 5432 }] }],
    });
    const net = new NetworkEvaluator(Testing.synth(chart) as Manifest[]);
    const apiPod: PodEndpoint = { namespace: 'demo', labels: api };
    const webPod: PodEndpoint = { namespace: 'demo', labels: web };
    const prometheus: PodEndpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
    expect(net.check(webPod, apiPod, 8080).allowed).toBe(true);
    expect(net.mayReach(webPod, apiPod, 9090)).toBe(false);
    expect(net.check(prometheus, apiPod, 9090).allowed).toBe(true);
    expect(
      net.mayReach({ namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana' } }, apiPod, 9090),
    ).toBe(false);
    expect(net.mayReach(apiPod, { ip: '10.1.2.3' }, 5432)).toBe(true);
    expect(net.mayReach(apiPod, { ip: '10.2.0.1' }, 5432)).toBe(false);
  });

  it('isolates both directions when nothing is allowed', () => {
    const [policy] = Testing.synth(build({})) as Array<Manifest & { spec: unknown }>;
    expect(policy.spec).toEqual({ podSelector: { matchLabels: api }, policyTypes: ['Ingress', 'Egress'] });
  });

  it('fails when a peer mixes address blocks with pods', () => {
    const chart = build({
      egress: [{ peer: { cidrs: ['10.1.0.0/16'], pods: web }, ports: [{ name: 'db', port: 5432 }] }],
    });
    expect(() => Testing.synth(chart)).toThrow(
      /a peer with cidrs \(10.1.0.0\/16\) must not also name pods or a namespace/,
    );
  });
});
