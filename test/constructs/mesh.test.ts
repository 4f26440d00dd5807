import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { loadPlatform } from '../../config/load';
import { TargetConfig } from '../../config/types';
import { NamespaceMesh, ServiceAuthorization } from '../../constructs/mesh';
import { find, Manifest, ofKind } from '../../core/manifest';
import { checkNetworkPolicies } from '../../pipeline/network-policy-check';
import { synthesizeAll } from '../../pipeline/synth';
import { crdErrors } from '../crd-schema';
import { configIssues, configOf, copyEnvironments, edit, manifestsOf, TARGETS } from '../helpers';
import { NetworkEvaluator, podOf, PodEndpoint } from '../network-evaluator';
import { AuthorizationEvaluator, disagreements, HBONE, mayCallByMesh, mayCallByNetwork } from '../mesh-evaluator';

type Obj = Record<string, any>;

/** The mesh block the tests turn on (the reference platform leaves it off). */
const MESH = `
mesh:
  mode: ambient
  mtls: STRICT
  prometheusServiceAccount: prometheus-k8s
  ingressServiceAccount: ingress-nginx
`;

/** The reference platform with the mesh on in staging and production, synthesized once. */
let meshed: { configs: TargetConfig[]; manifests: Map<string, Manifest[]> } | undefined;
function referenceWithMesh() {
  if (!meshed) {
    const dir = copyEnvironments();
    for (const file of ['staging.yaml', 'production.yaml']) fs.appendFileSync(path.join(dir, file), MESH);
    const configs = loadPlatform(dir);
    const outputs = synthesizeAll(configs);
    meshed = { configs, manifests: new Map(outputs.map((o) => [o.folder, o.manifests])) };
  }
  return meshed;
}
const MESH_TARGETS = ['staging', 'production-us-east-1'];
const meshedConfig = (target: string) => referenceWithMesh().configs.find((c) => c.target === target)!;
const meshedManifests = (target: string) => referenceWithMesh().manifests.get(target)!;

describe('the mesh off (the reference platform)', () => {
  it.each(TARGETS)('%s has no Istio object, no ambient label and no mesh port', (target) => {
    const manifests = manifestsOf(target);
    expect(ofKind(manifests, 'AuthorizationPolicy')).toEqual([]);
    expect(ofKind(manifests, 'PeerAuthentication')).toEqual([]);
    expect(ofKind(manifests, 'Namespace')[0].metadata.labels).not.toHaveProperty(['istio.io/dataplane-mode']);
    expect(JSON.stringify(ofKind(manifests, 'NetworkPolicy'))).not.toMatch(/15008|169\.254\.7\.127/);
  });

  it('refuses port 15008 and the probe address in a NetworkPolicy when the target has no mesh', () => {
    const target = TARGETS[0];
    const manifests = structuredClone(manifestsOf(target)) as Obj[];
    const gateway = manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'gateway')!;
    gateway.spec.ingress[0].ports.push({ port: HBONE, protocol: 'TCP' });
    gateway.spec.ingress.push({ from: [{ ipBlock: { cidr: '169.254.7.127/32' } }], ports: [{ port: 8080 }] });
    const findings = checkNetworkPolicies(configOf(target), manifests as Manifest[]).filter(
      (f) => f.rule === 'network-mesh-ports',
    );
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/opens port 15008 .* but the target has no mesh/),
      expect.stringMatching(/admits 169\.254\.7\.127.* but the target has no mesh/),
    ]);
  });
});

describe.each(MESH_TARGETS)('the reference platform with the mesh on: %s', (target) => {
  const config = () => meshedConfig(target);
  const manifests = () => meshedManifests(target);

  it('gets the same answer from the NetworkPolicies, the AuthorizationPolicies and the graph for every pair and port', () => {
    expect(disagreements(config(), manifests())).toEqual([]);
  });

  it('answers "may gateway call execution-gateway?" no, and orchestrator → execution-gateway:9000 yes, on both layers', () => {
    for (const ask of [mayCallByNetwork, mayCallByMesh]) {
      expect([ask.name, ask(manifests(), 'gateway', 'execution-gateway', 9000)]).toEqual([ask.name, false]);
      expect([ask.name, ask(manifests(), 'orchestrator', 'execution-gateway', 9000)]).toEqual([ask.name, true]);
      expect([ask.name, ask(manifests(), 'orchestrator', 'execution-gateway', 9090)]).toEqual([ask.name, false]);
      expect([ask.name, ask(manifests(), 'gateway', 'redis', 6379)]).toEqual([ask.name, false]);
    }
  });

  it('opens HBONE (15008) only between the pods of a declared call', () => {
    const net = new NetworkEvaluator(manifests());
    const pod = (name: string) => podOf(manifests(), name);
    expect(net.mayReach(pod('gateway'), pod('orchestrator'), HBONE)).toBe(true);
    expect(net.mayReach(pod('gateway'), pod('execution-gateway'), HBONE)).toBe(false);
    expect(net.mayReach(pod('orchestrator'), pod('gateway'), HBONE)).toBe(false);
    // never towards an address outside the cluster
    expect(net.mayReach(pod('execution-gateway'), { ip: '8.8.8.8' }, HBONE)).toBe(false);
  });

  it('enrolls the namespace in ambient mode and requires mutual TLS (one STRICT PeerAuthentication for the whole namespace)', () => {
    const ns = find(manifests(), 'Namespace', config().namespace);
    expect(ns.metadata.labels).toMatchObject({
      'istio.io/dataplane-mode': 'ambient',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    const peers = ofKind(manifests(), 'PeerAuthentication') as Obj[];
    expect(peers.map((p) => [p.metadata.name, p.metadata.namespace, p.spec])).toEqual([
      ['default', config().namespace, { mtls: { mode: 'STRICT' } }],
    ]);
    // a plaintext caller (a namespace outside the mesh) is refused even on a port a rule opens
    const authz = new AuthorizationEvaluator(manifests());
    const gateway = podOf(manifests(), 'gateway');
    expect(authz.check({ namespace: 'legacy', serviceAccount: 'orchestrator' }, gateway, 8080)).toMatchObject({
      allowed: false,
      why: expect.stringMatching(/STRICT/),
    });
  });

  it('admits nobody to a pod no service policy selects (a namespace-wide allow-nothing)', () => {
    const deny = find(manifests(), 'AuthorizationPolicy', 'default-deny') as Obj;
    expect(deny.spec).toEqual({ action: 'ALLOW' });
    const authz = new AuthorizationEvaluator(manifests());
    const debug = { namespace: config().namespace, labels: { 'app.kubernetes.io/name': 'debug' } };
    expect(authz.mayCall({ namespace: config().namespace, serviceAccount: 'gateway' }, debug, 8080)).toBe(false);
  });

  it('admits Prometheus on the metrics port only, by its identity, in a policy named for it', () => {
    const authz = new AuthorizationEvaluator(manifests(), { meshNamespaces: [config().monitoring.namespace] });
    const prometheus = { namespace: config().monitoring.namespace, serviceAccount: 'prometheus-k8s' };
    for (const name of Object.keys(config().services)) {
      const policy = find(manifests(), 'AuthorizationPolicy', `${name}-prometheus-scrape`) as Obj;
      expect(policy.metadata.annotations['kubernetes.io/description']).toMatch(
        /Prometheus .* scrapes the metrics port/,
      );
      const pod = podOf(manifests(), name);
      expect(authz.mayCall(prometheus, pod, 9090)).toBe(true);
      for (const port of (pod.ports ?? []).map((p) => p.containerPort).filter((p) => p !== 9090))
        expect(authz.mayCall(prometheus, pod, port)).toBe(false);
      // another identity of the monitoring namespace is refused
      expect(authz.mayCall({ ...prometheus, serviceAccount: 'grafana' }, pod, 9090)).toBe(false);
    }
  });

  it('admits the ingress controller on the public port of the public services only, in a policy named for it', () => {
    const authz = new AuthorizationEvaluator(manifests(), { meshNamespaces: [config().ingress.controllerNamespace] });
    const controller = { namespace: config().ingress.controllerNamespace, serviceAccount: 'ingress-nginx' };
    for (const service of Object.values(config().services)) {
      const pod = podOf(manifests(), service.name);
      const policy = manifests().find((m) => m.metadata.name === `${service.name}-ingress-controller`);
      if (service.expose === 'public') {
        expect(policy?.kind).toBe('AuthorizationPolicy');
        expect(authz.mayCall(controller, pod, 8080)).toBe(true);
        expect(authz.mayCall(controller, pod, 9090)).toBe(false);
      } else {
        expect(policy).toBeUndefined();
        for (const p of pod.ports ?? []) expect(authz.mayCall(controller, pod, p.containerPort)).toBe(false);
      }
    }
  });

  it('runs each blue/green smoke test as its own ServiceAccount, admitted to the tested port only', () => {
    const templates = ofKind(manifests(), 'AnalysisTemplate') as Obj[];
    const rollouts = ofKind(manifests(), 'Rollout');
    if (target === 'staging') expect(rollouts).toEqual([]);
    for (const rollout of rollouts) {
      const name = rollout.metadata.name;
      const job = templates
        .find((t) => t.metadata.name === `${name}-pre-promotion`)!
        .spec.metrics.find((m: Obj) => m.name === 'smoke-test').provider.job;
      expect(job.spec.template.spec.serviceAccountName).toBe(`${name}-smoke-test`);
      const account = find(manifests(), 'ServiceAccount', `${name}-smoke-test`) as Obj;
      expect(account.automountServiceAccountToken).toBe(false);
      const authz = new AuthorizationEvaluator(manifests());
      const caller = { namespace: config().namespace, serviceAccount: `${name}-smoke-test` };
      const pod = podOf(manifests(), name);
      // the port the smoke test's own NetworkPolicy lets it reach (besides the tunnel)
      const port = (find(manifests(), 'NetworkPolicy', `${name}-smoke-test`) as Obj).spec.egress[0].ports[0].port;
      expect(authz.mayCall(caller, pod, port)).toBe(true);
      for (const other of (pod.ports ?? []).map((p) => p.containerPort).filter((p) => p !== port))
        expect(authz.mayCall(caller, pod, other)).toBe(false);
      // and its NetworkPolicy reaches the pods through the tunnel
      const net = new NetworkEvaluator(manifests());
      const smoke: PodEndpoint = { namespace: config().namespace, labels: job.spec.template.metadata.labels };
      expect(net.mayReach(smoke, pod, HBONE)).toBe(true);
      expect(net.mayReach(smoke, pod, port)).toBe(true);
    }
  });

  it('keeps a policy without rules for a service nobody calls, saying why', () => {
    const called = new Set(
      Object.values(config().services).flatMap((s) =>
        (s.dependsOn ?? []).flatMap((d) => ('service' in d ? [d.service] : [])),
      ),
    );
    const uncalled = Object.keys(config().services).filter((s) => !called.has(s));
    expect(uncalled).toContain('gateway');
    for (const name of uncalled) {
      const policy = find(manifests(), 'AuthorizationPolicy', name) as Obj;
      expect(policy.spec.rules).toBeUndefined();
      expect(policy.spec.action).toBe('ALLOW');
      expect(policy.metadata.annotations['kubernetes.io/description']).toMatch(
        new RegExp(`^allow-nothing: no service declares "${name}" in its dependsOn`),
      );
    }
  });

  it('admits the kubelet probes, which ztunnel sends from 169.254.7.127, on the probed ports only', () => {
    const net = new NetworkEvaluator(manifests());
    for (const name of Object.keys(config().services)) {
      const pod = podOf(manifests(), name);
      const template = (
        manifests().find(
          (m) => m.metadata.name === name && ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind),
        ) as Obj
      ).spec.template;
      const probed = new Set<number>(
        template.spec.containers.flatMap((c: Obj) =>
          [c.livenessProbe, c.readinessProbe, c.startupProbe].flatMap((p: Obj | undefined) => {
            const ref = p?.httpGet?.port ?? p?.tcpSocket?.port;
            if (ref === undefined) return [];
            return typeof ref === 'number' ? [ref] : [c.ports.find((q: Obj) => q.name === ref).containerPort];
          }),
        ),
      );
      expect(probed.size).toBeGreaterThan(0);
      for (const p of pod.ports ?? [])
        expect([name, p.containerPort, net.mayReach({ ip: '169.254.7.127' }, pod, p.containerPort)]).toEqual([
          name,
          p.containerPort,
          probed.has(p.containerPort),
        ]);
      expect(net.mayReach({ ip: '169.254.7.128' }, pod, [...probed][0])).toBe(false);
    }
  });

  it('uses only what ztunnel enforces (principals and ports) and passes the CRD schema', () => {
    for (const policy of [
      ...ofKind(manifests(), 'AuthorizationPolicy'),
      ...ofKind(manifests(), 'PeerAuthentication'),
    ]) {
      expect(crdErrors(policy)).toEqual([]);
      for (const rule of ((policy as Obj).spec.rules ?? []) as Obj[]) {
        expect(Object.keys(rule).sort()).toEqual(['from', 'to']);
        for (const f of rule.from) expect(Object.keys(f.source)).toEqual(['principals']);
        for (const t of rule.to) expect(Object.keys(t.operation)).toEqual(['ports']);
      }
    }
  });

  it('is found out by the network check when a rule between meshed pods lacks 15008 or the probes are not admitted', () => {
    const broken = structuredClone(manifests()) as Obj[];
    const orchestrator = broken.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'orchestrator')!;
    const rule = orchestrator.spec.egress.find((r: Obj) => r.ports.some((p: Obj) => p.port === HBONE));
    rule.ports = rule.ports.filter((p: Obj) => p.port !== HBONE);
    const redis = broken.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'redis')!;
    redis.spec.ingress = redis.spec.ingress.filter((r: Obj) => !r.from.some((f: Obj) => f.ipBlock));
    const gateway = broken.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'gateway')!;
    gateway.spec.ingress
      .find((r: Obj) => r.from.some((f: Obj) => f.ipBlock))
      .ports.push({ port: 9090, protocol: 'TCP' });
    const messages = checkNetworkPolicies(config(), broken as Manifest[])
      .filter((f) => f.rule === 'network-mesh-ports')
      .map((f) => `${f.manifest?.metadata.name}: ${f.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^orchestrator: admits pods of the mesh on .* but not on 15008/),
        expect.stringMatching(/^redis: the kubelet probes StatefulSet "redis" on 6379.*never become ready/),
        expect.stringMatching(/^gateway: admits 169\.254\.7\.127 .* on 9090, which no probe/),
      ]),
    );
    expect(messages).toHaveLength(3);
    expect(checkNetworkPolicies(config(), manifests()).filter((f) => f.rule === 'network-mesh-ports')).toEqual([]);
  });
});

describe('mesh configuration errors', () => {
  it('refuses sidecar mode, which Pod Security restricted would refuse pod by pod', () => {
    const dir = copyEnvironments();
    fs.appendFileSync(path.join(dir, 'staging.yaml'), MESH.replace('ambient', 'sidecar'));
    const issues = configIssues(dir);
    expect(issues).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/staging\.yaml$/),
        path: 'mesh.mode',
        message: expect.stringMatching(
          /"sidecar" cannot run under Pod Security "restricted".*NET_ADMIN.*Use mode: ambient/,
        ),
      }),
    ]);
    expect(issues[0].line).toBeGreaterThan(1);
  });

  it('refuses a container port that ztunnel listens on in every meshed pod', () => {
    const dir = copyEnvironments();
    fs.appendFileSync(path.join(dir, 'staging.yaml'), MESH);
    edit(dir, 'defaults.yaml', /- \{ name: metrics, port: 9090 \}/, '- { name: metrics, port: 15008 }');
    const issues = configIssues(dir).filter((i) => i.path.endsWith('.port'));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({
      file: expect.stringMatching(/defaults\.yaml$/),
      path: expect.stringMatching(/^services\.[a-z-]+\.ports\[\d+\]\.port$/),
      message: expect.stringMatching(/15008 is a port ztunnel listens on inside every pod of the mesh \(HBONE/),
    });
  });

  it('refuses an unknown mode and a mutual TLS other than STRICT, naming what is allowed', () => {
    const dir = copyEnvironments();
    fs.appendFileSync(path.join(dir, 'staging.yaml'), MESH.replace('ambient', 'istio').replace('STRICT', 'PERMISSIVE'));
    const messages = configIssues(dir).map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mesh\.mode: .*ambient.*sidecar.*off/),
        expect.stringMatching(/^mesh\.mtls: .*STRICT/),
      ]),
    );
  });

  it('switches the mesh off per environment with mode: off', () => {
    const dir = copyEnvironments();
    fs.appendFileSync(path.join(dir, 'defaults.yaml'), MESH);
    fs.appendFileSync(path.join(dir, 'development.yaml'), '\nmesh:\n  mode: "off"\n');
    const outputs = synthesizeAll(loadPlatform(dir));
    const kinds = (folder: string) => outputs.find((o) => o.folder === folder)!.manifests.map((m) => m.kind);
    expect(kinds('development')).not.toContain('AuthorizationPolicy');
    expect(kinds('staging')).toContain('AuthorizationPolicy');
  });
});

describe('mesh constructs on a bare chart', () => {
  it('write a grant per caller and a named policy per exception, and refuse an empty or UDP grant', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test', { namespace: 'app' });
    new NamespaceMesh(chart, 'mesh', { mtls: 'STRICT' });
    new ServiceAuthorization(chart, 'db', {
      name: 'db',
      selector: { app: 'db' },
      callers: [{ principals: ['cluster.local/ns/app/sa/web'], ports: [{ name: 'sql', port: 5432 }] }],
      exceptions: [
        {
          name: 'backup',
          why: 'the backup job reads the database',
          principals: ['cluster.local/ns/ops/sa/backup'],
          ports: [{ name: 'sql', port: 5432 }],
        },
      ],
    });
    const out = Testing.synth(chart) as Manifest[];
    expect(out.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'PeerAuthentication/default',
      'AuthorizationPolicy/default-deny',
      'AuthorizationPolicy/db',
      'AuthorizationPolicy/db-backup',
    ]);
    const authz = new AuthorizationEvaluator(out, { meshNamespaces: ['app', 'ops'] });
    const db = { namespace: 'app', labels: { app: 'db' } };
    expect(authz.mayCall({ namespace: 'app', serviceAccount: 'web' }, db, 5432)).toBe(true);
    expect(authz.mayCall({ namespace: 'ops', serviceAccount: 'backup' }, db, 5432)).toBe(true);
    expect(authz.mayCall({ namespace: 'ops', serviceAccount: 'web' }, db, 5432)).toBe(false);

    const bad = new Chart(Testing.app(), 'bad', { namespace: 'app' });
    new ServiceAuthorization(bad, 'dns', {
      name: 'dns',
      selector: { app: 'dns' },
      callers: [
        { principals: [], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
        { principals: ['x'], ports: [] },
      ],
    });
    expect(() => Testing.synth(bad)).toThrow(/names no principal[\s\S]*not TCP[\s\S]*names no port/);
  });
});

describe('a Sentinel set in the mesh (FlashMM with the mesh turned on)', () => {
  // FlashMM's production runs redis as a Sentinel set (config/replication.ts); its seed asks for no mesh
  let production: Manifest[] | undefined;
  const manifests = () => {
    if (!production) {
      const dir = copyEnvironments(path.join(process.cwd(), 'examples', 'flashmm', 'environments'));
      fs.appendFileSync(path.join(dir, 'production.yaml'), MESH);
      const configs = loadPlatform(dir);
      production = synthesizeAll(configs.filter((c) => c.target === 'production'))[0].manifests;
    }
    return production;
  };

  it('lets the members reach each other on the data and Sentinel ports through both layers, and nothing else', () => {
    for (const ask of [mayCallByNetwork, mayCallByMesh]) {
      expect([ask.name, ask(manifests(), 'redis', 'redis', 6379)]).toEqual([ask.name, true]);
      expect([ask.name, ask(manifests(), 'redis', 'redis', 26379)]).toEqual([ask.name, true]);
      expect([ask.name, ask(manifests(), 'redis', 'redis', 9090)]).toEqual([ask.name, false]);
    }
  });

  it('lets the market maker ask the Sentinels for the master and talk to it, on both layers', () => {
    for (const ask of [mayCallByNetwork, mayCallByMesh]) {
      expect([ask.name, ask(manifests(), 'flashmm', 'redis', 26379)]).toEqual([ask.name, true]);
      expect([ask.name, ask(manifests(), 'flashmm', 'redis', 6379)]).toEqual([ask.name, true]);
    }
  });
});
