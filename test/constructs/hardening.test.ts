import * as path from 'path';
import { parse } from 'yaml';
import { listExamples, EXAMPLES_DIR } from '../../bin/synth-examples';
import { loadPlatform } from '../../config/load';
import { TargetConfig } from '../../config/types';
import { Manifest, ofKind } from '../../core/manifest';
import { livenessProblem } from '../../pipeline/policy';
import { podTemplateOf } from '../../pipeline/pod-security';
import { synthesizeAll } from '../../pipeline/synth';
import { configIssues, copyEnvironments, edit, referencePlatform, ROOT } from '../helpers';

/**
 * Runtime hardening (issue 16), checked on every target of the reference platform and of every
 * example: what a peer linter (kube-score) and a reviewer found in dist/.
 */
jest.setTimeout(180_000);

type Obj = Record<string, any>;

interface Target {
  readonly name: string;
  readonly config: TargetConfig;
  readonly manifests: Manifest[];
  readonly files: Map<string, string>;
}

const synthesizedReadme = (t: Target) => t.files.get('README.md') ?? '';

let all: Target[] | undefined;
/** Every target of the reference platform and of each example, synthesized once. */
function targets(): Target[] {
  if (!all) {
    all = [];
    const add = (platform: string, configs: TargetConfig[]) => {
      const outputs = synthesizeAll(configs);
      for (const config of configs) {
        const output = outputs.find((o) => o.folder === config.target)!;
        all!.push({ name: `${platform}/${config.target}`, config, manifests: output.manifests, files: output.files });
      }
    };
    add('reference', referencePlatform().configs);
    for (const example of listExamples(ROOT))
      add(example, loadPlatform(path.join(ROOT, EXAMPLES_DIR, example, 'environments')));
  }
  return all;
}

/** Every pod template of a target with the workload it belongs to. */
function pods(t: Target): Array<{ workload: Obj; spec: Obj; annotations: Record<string, string> }> {
  return t.manifests.flatMap((m) => {
    const pod = podTemplateOf(m as Obj);
    return pod ? [{ workload: m as Obj, spec: pod.spec, annotations: pod.annotations }] : [];
  });
}

const containersOf = (spec: Obj): Obj[] => [...(spec.initContainers ?? []), ...spec.containers];

describe('redis authentication', () => {
  it('every service with auth demands it, and its sidecars and every dependant receive it from an ExternalSecret', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const server of Object.values(t.config.services).filter((s) => s.auth)) {
        const auth = server.auth!;
        const serverPod = pods(t).find((p) => p.workload.metadata.name === server.name)!;
        for (const c of containersOf(serverPod.spec)) {
          const env = (c.env ?? []).find((e: Obj) => e.name === auth.env);
          expect({ target: t.name, container: c.name, env: env?.valueFrom?.secretKeyRef?.key }).toEqual({
            target: t.name,
            container: c.name,
            env: auth.env,
          });
        }
        const dependants = Object.values(t.config.services).filter((s) =>
          (s.dependsOn ?? []).some((d) => 'service' in d && d.service === server.name),
        );
        expect(dependants.length).toBeGreaterThan(0);
        for (const client of dependants) {
          const pod = pods(t).find((p) => p.workload.metadata.name === client.name)!;
          const env = (pod.spec.containers[0].env ?? []).find((e: Obj) => e.name === auth.env);
          expect({ target: t.name, client: client.name, secret: env?.valueFrom?.secretKeyRef?.name }).toEqual({
            target: t.name,
            client: client.name,
            secret: `${client.name}-secrets`,
          });
          const external = ofKind(t.manifests, 'ExternalSecret').find(
            (e) => e.metadata.name === `${client.name}-secrets`,
          ) as Obj;
          expect(external.spec.data).toContainEqual({ secretKey: auth.env, remoteRef: { key: auth.remoteKey } });
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('every redis-server requires a password that is a reference, never a literal; its NetworkPolicy stays', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const { workload, spec } of pods(t)) {
        // redis-server is the command, or the first argument of a Sentinel set's start script
        const redis = spec.containers.find(
          (c: Obj) => (c.command ?? [])[0] === 'redis-server' || (c.args ?? [])[0] === 'redis-server',
        );
        if (!redis) continue;
        const args: string[] = redis.args ?? [];
        const at = args.indexOf('--requirepass');
        expect({ target: t.name, requirepass: at >= 0 }).toEqual({ target: t.name, requirepass: true });
        const ref = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(args[at + 1]);
        expect(ref).not.toBeNull();
        expect(redis.env.find((e: Obj) => e.name === ref![1]).valueFrom.secretKeyRef).toBeDefined();
        const policy = ofKind(t.manifests, 'NetworkPolicy').find(
          (n) => n.metadata.name === workload.metadata.name,
        ) as Obj;
        expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});

describe('metrics ingress', () => {
  it('admits Prometheus pods only (namespace and pod selector in one peer), the selector set per environment', () => {
    for (const t of targets()) {
      for (const policy of ofKind(t.manifests, 'NetworkPolicy') as Obj[]) {
        for (const rule of policy.spec.ingress ?? []) {
          const scrapes = (rule.from ?? []).filter(
            (p: Obj) =>
              p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === t.config.monitoring.namespace,
          );
          for (const peer of scrapes)
            expect({ target: t.name, policy: policy.metadata.name, pods: peer.podSelector?.matchLabels }).toEqual({
              target: t.name,
              policy: policy.metadata.name,
              pods: { 'app.kubernetes.io/name': 'prometheus' },
            });
        }
      }
    }
    const dir = copyEnvironments();
    edit(dir, 'staging.yaml', /^monitoring:\n/m, 'monitoring:\n  prometheusPodSelector: { prometheus: staging-k8s }\n');
    const staging = loadPlatform(dir).find((c) => c.target === 'staging')!;
    const policy = synthesizeAll([staging])[0].manifests.find(
      (m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'gateway',
    ) as Obj;
    const scrape = policy.spec.ingress
      .flatMap((r: Obj) => r.from)
      .find((p: Obj) => p.namespaceSelector && p.podSelector);
    // mappings merge key by key: the environment's label narrows the default selector (both must match)
    expect(scrape.podSelector).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'prometheus', prometheus: 'staging-k8s' },
    });
  });
});

describe('user and group IDs', () => {
  it('every container of every target runs as UID and GID 10000 or more, volumes owned by such a group', () => {
    for (const t of targets()) {
      for (const { workload, spec } of pods(t)) {
        expect({
          target: t.name,
          workload: workload.metadata.name,
          fsGroup: spec.securityContext.fsGroup >= 10000,
        }).toEqual({ target: t.name, workload: workload.metadata.name, fsGroup: true });
        for (const c of containersOf(spec)) {
          for (const id of ['runAsUser', 'runAsGroup']) {
            const value = c.securityContext?.[id] ?? spec.securityContext[id];
            expect({ target: t.name, container: c.name, [id]: value >= 10000 }).toEqual({
              target: t.name,
              container: c.name,
              [id]: true,
            });
          }
        }
      }
    }
  });

  it('refuses a service UID below 10000 with the file and the allowed range', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', '    workload: statefulset\n', '    workload: statefulset\n    runAsUser: 999\n');
    const issues = configIssues(dir);
    expect(issues).toContainEqual(
      expect.objectContaining({
        file: expect.stringContaining('defaults.yaml'),
        path: 'services.redis.runAsUser',
        message: expect.stringContaining('10000'),
      }),
    );
  });
});

describe('liveness and readiness probes', () => {
  const handler = (p: Obj) => JSON.stringify([p.httpGet, p.tcpSocket, p.grpc, p.exec]);
  const tolerance = (p: Obj) => p.periodSeconds * p.failureThreshold + p.timeoutSeconds;

  it('every container with both checks something else for liveness, and tolerates it at least as long', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const { spec } of pods(t)) {
        for (const c of spec.containers.filter((x: Obj) => x.livenessProbe && x.readinessProbe)) {
          expect({
            target: t.name,
            container: c.name,
            same: handler(c.livenessProbe) === handler(c.readinessProbe),
          }).toEqual({ target: t.name, container: c.name, same: false });
          expect(tolerance(c.livenessProbe)).toBeGreaterThanOrEqual(tolerance(c.readinessProbe));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('the policy check refuses a liveness probe that repeats the readiness probe', () => {
    const c = {
      name: 'x',
      readinessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 1 },
    };
    expect(livenessProblem({ ...c, livenessProbe: { ...c.readinessProbe, periodSeconds: 10 } })).toMatch(
      /same as the readiness probe/,
    );
    expect(
      livenessProblem({
        ...c,
        livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 1 },
      }),
    ).toMatch(/tolerates 2s/);
    expect(
      livenessProblem({
        ...c,
        livenessProbe: { exec: { command: ['true'] }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1 },
      }),
    ).toBeUndefined();
  });
});

describe('topology spread', () => {
  const REVISION: Record<string, string> = {
    Deployment: 'pod-template-hash',
    StatefulSet: 'controller-revision-hash',
    Rollout: 'rollouts-pod-template-hash',
  };

  it('spreads each revision on its own (matchLabelKeys), zones as the environment decided with its reason', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const { workload, spec } of pods(t)) {
        for (const c of spec.topologySpreadConstraints ?? []) {
          expect({ target: t.name, workload: workload.metadata.name, keys: c.matchLabelKeys }).toEqual({
            target: t.name,
            workload: workload.metadata.name,
            keys: [REVISION[workload.kind]],
          });
          const service = t.config.services[workload.metadata.name];
          // a Sentinel set spreads one pod per zone, required, whatever the environment decided
          if (c.topologyKey === 'topology.kubernetes.io/zone' && service.replication?.mode === 'sentinel') {
            expect(c.whenUnsatisfiable).toBe('DoNotSchedule');
          } else if (
            c.topologyKey === 'topology.kubernetes.io/zone' &&
            !(t.config.tier === 'production' && service.spreadPolicy)
          ) {
            expect(c.whenUnsatisfiable).toBe(t.config.availability.zoneSpread!.whenUnsatisfiable);
          }
          checked++;
        }
      }
      if (t.config.tier === 'production') expect(t.config.availability.zoneSpread?.reason).toMatch(/\w+ \w+ \w+/);
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('cordoned nodes are not spread domains (nodeTaintsPolicy: Honor), so a zone can be drained under DoNotSchedule', () => {
    // the live twin's Drain scenario: with the default (Ignore) the drained zone still counts as a
    // domain with 0 pods, and every other zone would exceed maxSkew 1: the evicted pods stay Pending
    let checked = 0;
    for (const t of targets()) {
      for (const { workload, spec } of pods(t)) {
        for (const c of spec.topologySpreadConstraints ?? []) {
          expect({
            target: t.name,
            workload: workload.metadata.name,
            key: c.topologyKey,
            nodeTaintsPolicy: c.nodeTaintsPolicy,
          }).toEqual({
            target: t.name,
            workload: workload.metadata.name,
            key: c.topologyKey,
            nodeTaintsPolicy: 'Honor',
          });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('production without a zone spread decision is refused, naming the key', () => {
    const dir = copyEnvironments();
    edit(dir, 'production.yaml', /^  zoneSpread:\n    whenUnsatisfiable: .*\n    reason: .*\n/m, '');
    expect(configIssues(dir)).toContainEqual(
      expect.objectContaining({ path: 'availability', message: expect.stringContaining('zoneSpread') }),
    );
  });
});

describe('feature flags', () => {
  const mounts = (spec: Obj) => (spec.volumes ?? []).some((v: Obj) => v.configMap?.name === 'feature-flags');

  it('each flag has an owner service, whose pods mount the ConfigMap; no other pod does unless it asks', () => {
    let checked = 0;
    for (const t of targets()) {
      const flags = parse(
        (ofKind(t.manifests, 'ConfigMap').find((m) => m.metadata.name === 'feature-flags') as Obj).data['flags.yaml'],
      ).flags as Obj[];
      for (const flag of flags) {
        expect(t.config.services[flag.owner]).toBeDefined();
        const pod = pods(t).find((p) => p.workload.metadata.name === flag.owner)!;
        expect({ target: t.name, flag: flag.name, mounted: mounts(pod.spec) }).toEqual({
          target: t.name,
          flag: flag.name,
          mounted: true,
        });
        checked++;
      }
      for (const { workload } of pods(t).filter((p) => mounts(p.spec))) {
        const service = t.config.services[workload.metadata.name];
        expect(service.featureFlags === true || flags.some((f) => f.owner === service.name)).toBe(true);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4 * 3);
    // ml-signal-v2 is signal-service's
    const staging = targets().find((t) => t.name === 'reference/staging')!;
    expect(mounts(pods(staging).find((p) => p.workload.metadata.name === 'signal-service')!.spec)).toBe(true);
  });

  it('refuses a flag whose owner is not a declared service', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', 'owner: signal-service', 'owner: signals');
    expect(configIssues(dir)).toContainEqual(
      expect.objectContaining({
        path: 'featureFlags.ml-signal-v2.owner',
        message: expect.stringContaining('"signals" is not a declared service'),
      }),
    );
  });
});

describe('secret rotation', () => {
  it('every workload whose containers read a Secret is restarted by Reloader when exactly those Secrets change', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const { workload, spec } of pods(t)) {
        const secrets = [
          ...new Set(
            containersOf(spec).flatMap((c) =>
              (c.env ?? []).map((e: Obj) => e.valueFrom?.secretKeyRef?.name).filter(Boolean),
            ),
          ),
        ].sort();
        const annotation = workload.metadata.annotations?.['secret.reloader.stakater.com/reload'];
        expect({ target: t.name, workload: workload.metadata.name, reload: annotation?.split(',').sort() }).toEqual({
          target: t.name,
          workload: workload.metadata.name,
          reload: secrets.length ? secrets : undefined,
        });
        if (secrets.length) checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});

describe('regions', () => {
  it('the regions of an environment get distinct dashboard uids, and every alert carries its region', () => {
    const regional = targets().filter((t) => t.config.region);
    expect(regional.length).toBeGreaterThanOrEqual(2);
    const uids = new Map<string, string>();
    for (const t of regional) {
      for (const map of ofKind(t.manifests, 'ConfigMap').filter((m) =>
        m.metadata.name.endsWith('-dashboard'),
      ) as Obj[]) {
        const uid = JSON.parse(Object.values(map.data)[0] as string).uid;
        expect(uids.get(uid)).toBeUndefined();
        uids.set(uid, t.name);
      }
      const alerts = (ofKind(t.manifests, 'PrometheusRule') as Obj[]).flatMap((r) =>
        r.spec.groups.flatMap((g: Obj) => g.rules.filter((x: Obj) => x.alert)),
      );
      expect(alerts.length).toBeGreaterThan(20);
      for (const alert of alerts)
        expect({ alert: alert.alert, region: alert.labels.region }).toEqual({
          alert: alert.alert,
          region: t.config.region,
        });
    }
  });
});

describe('absent metrics and error budgets', () => {
  const rulesOf = (t: Target, service: string): Obj[] =>
    (
      (ofKind(t.manifests, 'PrometheusRule').find((r) => r.metadata.name === service) as Obj | undefined)?.spec
        .groups ?? []
    ).flatMap((g: Obj) => g.rules as Obj[]);

  it('every scraped service has an absent() alert on its targets', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const service of Object.values(t.config.services).filter((s) => s.ports.some((p) => p.name === 'metrics'))) {
        const absent = rulesOf(t, service.name).find((r) => r.alert === 'MetricsAbsent');
        expect({ target: t.name, service: service.name, expr: absent?.expr }).toEqual({
          target: t.name,
          service: service.name,
          expr: `absent(up{namespace="${t.config.namespace}",job="${service.name}"})`,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('every SLO records its objective, budget, burn rates and budget remaining, and its dashboard shows them', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const service of Object.values(t.config.services).filter(
        (s) => s.monitoring?.slo && s.ports.some((p) => p.name === 'metrics'),
      )) {
        const records = new Map<string, Obj>(
          rulesOf(t, service.name)
            .filter((r) => r.record)
            .map((r) => [r.record as string, r]),
        );
        const objective = /^vector\(([0-9.]+)\)$/.exec(records.get('slo:objective:ratio')?.expr ?? '');
        expect(Number(objective?.[1])).toBeCloseTo(service.monitoring!.slo!.availability / 100, 10);
        expect(records.get('slo:objective:ratio')?.labels).toEqual({
          namespace: t.config.namespace,
          job: service.name,
        });
        for (const w of ['5m', '1h', '6h', '1d', '3d']) expect(records.has(`slo:burn_rate:ratio_rate${w}`)).toBe(true);
        expect(records.get('slo:error_budget_remaining:ratio')?.expr).toMatch(/^1 - slo:sli_error:ratio_rate30d\{/);
        const map = ofKind(t.manifests, 'ConfigMap').find(
          (m) => m.metadata.name === `${service.name}-dashboard`,
        ) as Obj;
        const model = JSON.parse(map.data[`${service.name}.json`]);
        const queries: string[] = model.panels.flatMap((p: Obj) => (p.targets ?? []).map((q: Obj) => q.expr));
        expect(queries.some((q) => q.startsWith('slo:error_budget_remaining:ratio{'))).toBe(true);
        expect(queries.some((q) => q.startsWith('slo:objective:ratio{'))).toBe(true);
        expect(queries.some((q) => q.startsWith('slo:burn_rate:ratio_rate1h{'))).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('ephemeral storage', () => {
  it('every container (sidecars included) requests and limits it; the quota, the LimitRange and the capacity table count it', () => {
    let checked = 0;
    for (const t of targets()) {
      for (const { spec } of pods(t)) {
        for (const c of containersOf(spec)) {
          expect({
            target: t.name,
            container: c.name,
            request: !!c.resources?.requests?.['ephemeral-storage'],
            limit: !!c.resources?.limits?.['ephemeral-storage'],
          }).toEqual({ target: t.name, container: c.name, request: true, limit: true });
          checked++;
        }
      }
      const quota = ofKind(t.manifests, 'ResourceQuota')[0] as Obj;
      expect(Object.keys(quota.spec.hard)).toEqual(
        expect.arrayContaining(['requests.ephemeral-storage', 'limits.ephemeral-storage']),
      );
      const limits = (ofKind(t.manifests, 'LimitRange')[0] as Obj).spec.limits[0];
      for (const key of ['defaultRequest', 'default', 'max']) expect(limits[key]['ephemeral-storage']).toBeDefined();
      const readme = synthesizedReadme(t);
      expect(readme).toMatch(/\| ephemeral-storage requests min \/ max \| ephemeral-storage limits min \/ max \|/);
    }
    expect(checked).toBeGreaterThan(60);
  });
});
