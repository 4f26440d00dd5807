import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { effectiveVpa } from '../../config/autoscaling-rules';
import { replicaRange } from '../../config/model';
import { Resources, TargetConfig } from '../../config/types';
import { effectiveResources } from '../../config/resources';
import {
  AMOUNT_KEYS,
  AmountKey,
  capacityOf,
  drainBlockers,
  drainProblems,
  format,
  QUOTA_KEY,
} from '../../pipeline/capacity';
import { Manifest, ofKind } from '../../core/manifest';
import { cpuMillis, memoryBytes } from '../../core/quantity';
import {
  configOf,
  copyEnvironments,
  edit,
  manifestsOf,
  referencePlatform,
  runSynth,
  TARGETS,
  PLATFORM_SERVICES,
} from '../helpers';

type Obj = Record<string, any>;
type Totals = Record<AmountKey | 'pods', number>;

/**
 * The capacity of a target worked out from its configuration alone, independently of
 * pipeline/capacity.ts (which reads the manifests): replicas from `replicas`, surge from the release
 * strategy and availability.maxSurge, requests after requestScale, a VPA that acts at maxAllowed.
 */
function expectedCapacity(config: TargetConfig): { atMin: Totals; atMax: Totals } {
  const atMin: Totals = {
    requestsCpu: 0,
    requestsMemory: 0,
    limitsCpu: 0,
    limitsMemory: 0,
    requestsEphemeral: 0,
    limitsEphemeral: 0,
    pods: 0,
  };
  // ephemeral storage: the container's own, else the LimitRange's defaults, else 256Mi / 1Gi
  const ephemeral = (r: Resources) => ({
    requestsEphemeral: memoryBytes(
      r.requests.ephemeralStorage ?? config.limitRange.defaultRequest.ephemeralStorage ?? '256Mi',
    ),
    limitsEphemeral: memoryBytes(r.limits.ephemeralStorage ?? config.limitRange.default.ephemeralStorage ?? '1Gi'),
  });
  const atMax: Totals = { ...atMin };
  for (const service of Object.values(config.services)) {
    const { min, max } = replicaRange(service);
    const maxSurge = config.availability.maxSurge;
    const surge =
      service.release?.strategy === 'blueGreen'
        ? max
        : service.workload === 'statefulset'
          ? 0
          : typeof maxSurge === 'number'
            ? maxSurge
            : Math.ceil((max * parseInt(maxSurge, 10)) / 100);
    const { requests, limits } = effectiveResources(config, service);
    const pod = {
      requestsCpu: cpuMillis(requests.cpu),
      requestsMemory: memoryBytes(requests.memory),
      limitsCpu: cpuMillis(limits.cpu),
      limitsMemory: memoryBytes(limits.memory),
      ...ephemeral({ requests, limits }),
    };
    const podAtMax = { ...pod };
    const vpa = effectiveVpa(service);
    if (vpa && vpa.updateMode !== 'Off') {
      const maxAllowed = service.vpa?.maxAllowed ?? {};
      if (vpa.controlledResources.includes('cpu') && maxAllowed.cpu) {
        podAtMax.requestsCpu = Math.max(pod.requestsCpu, cpuMillis(maxAllowed.cpu));
        podAtMax.limitsCpu = (pod.limitsCpu * podAtMax.requestsCpu) / pod.requestsCpu;
      }
      if (vpa.controlledResources.includes('memory') && maxAllowed.memory) {
        podAtMax.requestsMemory = Math.max(pod.requestsMemory, memoryBytes(maxAllowed.memory));
        podAtMax.limitsMemory = (pod.limitsMemory * podAtMax.requestsMemory) / pod.requestsMemory;
      }
    }
    // sidecars count in every pod; the VPA leaves them alone (containerPolicies mode Off)
    for (const sidecar of service.sidecars ?? []) {
      const r = effectiveResources(config, service, sidecar.resources);
      const extra = {
        requestsCpu: cpuMillis(r.requests.cpu),
        requestsMemory: memoryBytes(r.requests.memory),
        limitsCpu: cpuMillis(r.limits.cpu),
        limitsMemory: memoryBytes(r.limits.memory),
        ...ephemeral(r),
      };
      for (const k of AMOUNT_KEYS) {
        pod[k] += extra[k];
        podAtMax[k] += extra[k];
      }
    }
    for (const k of AMOUNT_KEYS) {
      atMin[k] += pod[k] * min;
      atMax[k] += podAtMax[k] * (max + surge);
    }
    atMin.pods += min;
    atMax.pods += max + surge;
  }
  return { atMin, atMax };
}

const readmeOf = (target: string) =>
  referencePlatform()
    .outputs.find((o) => o.folder === target)!
    .files.get('README.md')!;

describe.each(TARGETS)('capacity of %s', (target) => {
  it('equals, at minimum and at maximum scale plus surge, what the configuration adds up to', () => {
    const capacity = capacityOf(manifestsOf(target));
    const expected = expectedCapacity(configOf(target));
    expect({ ...capacity.atMin }).toEqual(expected.atMin);
    expect({ ...capacity.atMax }).toEqual(expected.atMax);
  });

  it('fits the namespace quota, which is the configured one', () => {
    const capacity = capacityOf(manifestsOf(target));
    const quota = configOf(target).quota;
    expect(capacity.quota).toEqual({
      requestsCpu: cpuMillis(quota.requests.cpu),
      requestsMemory: memoryBytes(quota.requests.memory),
      limitsCpu: cpuMillis(quota.limits.cpu),
      limitsMemory: memoryBytes(quota.limits.memory),
      pods: quota.pods,
      requestsEphemeral: memoryBytes(quota.requests.ephemeralStorage!),
      limitsEphemeral: memoryBytes(quota.limits.ephemeralStorage!),
    });
    for (const k of [...AMOUNT_KEYS, 'pods'] as const)
      expect(capacity.atMax[k]).toBeLessThanOrEqual(capacity.quota[k]!);
  });

  it('prints the figures in dist/<target>/README.md: every workload, the totals, the quota and the headroom', () => {
    const readme = readmeOf(target);
    const { atMin, atMax } = expectedCapacity(configOf(target));
    expect(readme).toContain('## Capacity');
    const total = readme.split('\n').find((l) => l.startsWith('| **total** |'))!;
    expect(total).toBeDefined();
    for (const k of [
      'requestsCpu',
      'limitsCpu',
      'requestsMemory',
      'limitsMemory',
      'requestsEphemeral',
      'limitsEphemeral',
    ] as const) {
      expect(total).toContain(`**${format(k, atMin[k])} / ${format(k, atMax[k])}**`);
    }
    expect(total).toContain(`**${atMin.pods} / ${atMax.pods}**`);
    for (const name of Object.keys(configOf(target).services))
      expect(readme).toMatch(new RegExp(`^\\| ${name}( \\(VPA maxAllowed at max\\))? \\|`, 'm'));
    const quota = configOf(target).quota;
    expect(readme).toContain(
      `| quota | | | | ${quota.requests.cpu} | ${quota.limits.cpu} | ${quota.requests.memory} | ${quota.limits.memory} | ${quota.requests.ephemeralStorage} | ${quota.limits.ephemeralStorage} | ${quota.pods} |`,
    );
    const headroom = Math.floor(((quota.pods - atMax.pods) / quota.pods) * 100);
    expect(readme).toMatch(new RegExp(`^\\| headroom at max \\|.*\\| ${headroom}% \\|$`, 'm'));
  });
});

describe('the reference figures', () => {
  it.each(['production-us-east-1', 'production-eu-west-1'])(
    "of %s: 54.6 CPU limits (redis's exporter sidecar included) and 66 pods at maximum scale plus surge for the services of PLATFORM.md",
    (target) => {
      // gateway 30 pods × 500m (15 max + a full blue/green second set), data-service 11 × 500m,
      // signal-service 9 × 500m, ml-service 6 × 2, orchestrator 3 × 1, execution-gateway 6 × 2,
      // redis 1 × 2.5 (VPA Initial up to maxAllowed 500m, limit grown 5×) plus its exporter
      // sidecar's 100m, which the VPA leaves alone. Services added since count in the totals
      // (checked against the configuration above), not in these hand-computed figures.
      const capacity = capacityOf(manifestsOf(target));
      const platform = capacity.workloads.filter((w) => PLATFORM_SERVICES.includes(w.name));
      expect(platform.map((w) => w.name).sort()).toEqual([...PLATFORM_SERVICES].sort());
      expect(platform.reduce((n, w) => n + w.atMax.limitsCpu, 0)).toBe(
        15000 + 5500 + 4500 + 12000 + 3000 + 12000 + 2500 + 100,
      );
      expect(platform.reduce((n, w) => n + w.podsAtMax, 0)).toBe(66);
      expect(capacity.atMax.limitsCpu).toBe(capacity.workloads.reduce((n, w) => n + w.atMax.limitsCpu, 0));
      expect(capacity.atMax.pods).toBe(capacity.workloads.reduce((n, w) => n + w.podsAtMax, 0));
      const gateway = capacity.workloads.find((w) => w.name === 'gateway')!;
      expect(gateway).toMatchObject({ kind: 'Rollout', minReplicas: 2, maxReplicas: 15, surge: 15, podsAtMax: 30 });
      expect(capacity.workloads.find((w) => w.name === 'redis')).toMatchObject({
        kind: 'StatefulSet',
        surge: 0,
        vpaRaised: true,
      });
    },
  );

  it('prints one capacity line per target in the synth summary', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const result = runSynth(['--target', 'staging', '--out', out]);
    expect(result.status).toBe(0);
    const { atMax } = expectedCapacity(configOf('staging'));
    const quota = configOf('staging').quota;
    expect(result.stdout).toContain(
      `capacity at max + surge / quota: requests.cpu ${format('requestsCpu', atMax.requestsCpu)}/${quota.requests.cpu}, `,
    );
    expect(result.stdout).toContain(`pods ${atMax.pods}/${quota.pods}`);
  });
});

describe('a quota that maximum scale plus surge exceeds', () => {
  function refuse(search: string | RegExp, replacement: string): string {
    const dir = copyEnvironments();
    edit(dir, 'production.yaml', search, replacement);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(fs.readdirSync(out)).toEqual([]);
    return result.stderr;
  }

  /** What the refusal must say of `target`, from the reference figures (the quota edited to below them). */
  function expected(target: string, resource: AmountKey | 'pods', total: number, quota: number): string {
    const label = QUOTA_KEY[resource];
    return `${target}: ${label} at maximum scale plus release surge is ${format(resource, total)}, over the namespace ResourceQuota of ${format(resource, quota)} by ${format(resource, total - quota)}; biggest: `;
  }
  /** The names the refusal lists as biggest, which must be the largest contributors. */
  function expectBiggest(
    line: string,
    target: string,
    resource: AmountKey | 'pods',
    extra: Record<string, number> = {},
  ): void {
    const amounts = capacityOf(manifestsOf(target)).workloads.map((w) => ({
      name: w.name,
      amount: (resource === 'pods' ? w.podsAtMax : w.atMax[resource]) + (extra[w.name] ?? 0),
    }));
    const listed = line
      .split('; biggest: ')[1]
      .split('. Raise')[0]
      .split(/, (?=[a-z0-9-]+ [0-9.]+[a-zA-Z]* \()/)
      .map((entry) => entry.split(' ')[0]);
    expect(listed.length).toBe(Math.min(3, amounts.length));
    const smallestListed = Math.min(...amounts.filter((a) => listed.includes(a.name)).map((a) => a.amount));
    for (const other of amounts.filter((a) => !listed.includes(a.name)))
      expect([other.name, other.amount <= smallestListed]).toEqual([other.name, true]);
  }

  it('refuses the synth, naming the target, the resource, the total, the quota and the biggest services', () => {
    const total = capacityOf(manifestsOf('production-us-east-1')).atMax.limitsCpu;
    const quota = (Math.floor(total / 1000) - 4) * 1000;
    const message = refuse('limits: { cpu: "64", memory: 128Gi,', `limits: { cpu: "${quota / 1000}", memory: 128Gi,`);
    for (const target of ['production-us-east-1', 'production-eu-west-1']) {
      const line = message.split('\n').find((l) => l.includes(`${target}: limits.cpu`))!;
      expect(line).toContain(expected(target, 'limitsCpu', capacityOf(manifestsOf(target)).atMax.limitsCpu, quota));
      expectBiggest(line, target, 'limitsCpu');
      // PLATFORM.md's figures for the gateway: 15 pods at most, and as many again during a blue/green release
      expect(line).toContain('gateway 15 (15 max + 15 surge (blue/green: second ReplicaSet) × 500m)');
    }
    expect(message).toMatch(/Raise quota\.limits\.cpu in \S*production\.yaml or lower replicas\.max of these services/);
    expect(message).not.toContain('staging:');
  });

  it('refuses more pods than quota.pods', () => {
    const total = capacityOf(manifestsOf('production-us-east-1')).atMax.pods;
    const message = refuse(`pods: ${configOf('production-us-east-1').quota.pods}`, `pods: ${total - 6}`);
    const line = message.split('\n').find((l) => l.includes('production-us-east-1: pods'))!;
    expect(line).toContain(expected('production-us-east-1', 'pods', total, total - 6));
    expectBiggest(line, 'production-us-east-1', 'pods');
    expect(line).toContain('gateway 30 (15 max + 15 surge (blue/green: second ReplicaSet))');
  });

  it('counts raising replicas.max against the quota', () => {
    const message = refuse('replicas: { min: 3, max: 10 }', 'replicas: { min: 3, max: 40 }');
    // data-service: +30 pods × 500m limits
    const c = capacityOf(manifestsOf('production-us-east-1'));
    const quota = cpuMillis(configOf('production-us-east-1').quota.limits.cpu);
    const line = message.split('\n').find((l) => l.includes('production-us-east-1: limits.cpu'))!;
    expect(line).toContain(expected('production-us-east-1', 'limitsCpu', c.atMax.limitsCpu + 30 * 500, quota));
    expect(line).toContain('data-service 20.5 (40 max + 1 surge (maxSurge 1) × 500m)');
    expectBiggest(line, 'production-us-east-1', 'limitsCpu', { 'data-service': 30 * 500 });
  });
});

describe('PodDisruptionBudgets never block a node drain', () => {
  const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);

  it.each(TARGETS)('in %s: each budget lets a pod go at the minimum replicas of what it selects', (target) => {
    const manifests = manifestsOf(target);
    const pdbs = ofKind(manifests, 'PodDisruptionBudget') as Obj[];
    expect(pdbs.length).toBe(Object.keys(configOf(target).services).length);
    for (const pdb of pdbs) {
      const workloads = manifests.filter(
        (m) =>
          ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind) &&
          selects(pdb.spec.selector.matchLabels, (m as Obj).spec.template.metadata.labels),
      ) as Obj[];
      expect(workloads).toHaveLength(1);
      const [workload] = workloads;
      const hpa = ofKind(manifests, 'HorizontalPodAutoscaler').find(
        (h) => (h as Obj).spec.scaleTargetRef.name === workload.metadata.name,
      ) as Obj | undefined;
      const min: number = hpa ? hpa.spec.minReplicas : workload.spec.replicas;
      const { maxUnavailable, minAvailable } = pdb.spec;
      const allowsOne =
        (typeof maxUnavailable === 'number' && maxUnavailable >= 1) ||
        (typeof minAvailable === 'number' && minAvailable < min);
      expect({ pdb: pdb.metadata.name, min, allowsOne }).toEqual({ pdb: pdb.metadata.name, min, allowsOne: true });
      expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    }
    expect(drainBlockers(manifests)).toEqual([]);
  });

  it('gives single-replica services maxUnavailable 1', () => {
    for (const target of TARGETS) {
      for (const service of Object.values(configOf(target).services).filter((s) => replicaRange(s).min === 1)) {
        const pdb = ofKind(manifestsOf(target), 'PodDisruptionBudget').find(
          (m) => m.metadata.name === service.name,
        ) as Obj;
        expect(pdb.spec.maxUnavailable).toBe(1);
      }
    }
  });

  it('refuses a budget that allows no eviction at the minimum replicas', () => {
    const withPdb = (name: string, spec: Obj): Manifest[] =>
      manifestsOf('production-us-east-1').map((m) =>
        m.kind === 'PodDisruptionBudget' && m.metadata.name === name
          ? { ...m, spec: { selector: (m as Obj).spec.selector, ...spec } }
          : m,
      );
    expect(drainProblems(configOf('production-us-east-1'), withPdb('orchestrator', { minAvailable: 2 }))).toEqual([
      'production-us-east-1: PodDisruptionBudget/orchestrator allows 0 eviction(s) at the minimum of 2 replica(s) of Deployment/orchestrator, ' +
        'so a node drain would wait on it forever; use maxUnavailable: 1 (constructs/disruption-budget.ts), or a minAvailable below the minimum replicas, ' +
        'or raise services.orchestrator.replicas in environments/defaults.yaml, environments/production.yaml above what the budget keeps',
    ]);
    // ml-service may run 1 replica (HPA minimum): minAvailable 1 or maxUnavailable 0 would block
    expect(drainBlockers(withPdb('ml-service', { minAvailable: 1 }))).toEqual([
      { pdb: 'ml-service', workload: 'Deployment/ml-service', minReplicas: 1, allowed: 0 },
    ]);
    // the minimum of a service that scales is replicas.min of its configuration
    expect(drainProblems(configOf('production-us-east-1'), withPdb('ml-service', { minAvailable: 1 }))[0]).toMatch(
      /, or raise services\.ml-service\.replicas\.min in environments\/defaults\.yaml, environments\/production\.yaml above what the budget keeps$/,
    );
    expect(drainBlockers(withPdb('ml-service', { maxUnavailable: 0 }))).toHaveLength(1);
    expect(drainBlockers(withPdb('gateway', { minAvailable: '50%' }))).toEqual([]);
    expect(drainBlockers(withPdb('gateway', { minAvailable: '100%' }))).toEqual([
      { pdb: 'gateway', workload: 'Rollout/gateway', minReplicas: 2, allowed: 0 },
    ]);
  });
});

describe('which autoscaler counts for a workload', () => {
  const deployment = (name: string): Manifest => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 2, template: { spec: { containers: [{ name, resources: {} }] } } },
  });
  const hpa = (name: string, ref: Obj, min: number, max: number): Manifest => ({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name },
    spec: { scaleTargetRef: ref, minReplicas: min, maxReplicas: max },
  });
  const replicas = (manifests: Manifest[]) =>
    Object.fromEntries(
      capacityOf(manifests).workloads.map((w) => [w.name, [w.minReplicas, w.maxReplicas, w.scaledBy ?? 'none']]),
    );

  it("is the first that names the workload's kind, name and (if it gives one) API version", () => {
    const manifests = [
      deployment('api'),
      deployment('web'),
      deployment('batch'),
      hpa('api-other-group', { apiVersion: 'apps/v1beta2', kind: 'Deployment', name: 'api' }, 9, 9),
      hpa('api-statefulset', { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'api' }, 8, 8),
      hpa('api', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, 3, 6),
      hpa('api-second', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, 7, 7),
      hpa('web', { kind: 'Deployment', name: 'web' }, 4, 5),
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'batch' },
        spec: { scaleTargetRef: { name: 'batch' }, maxReplicaCount: 12 },
      },
    ];
    expect(replicas(manifests)).toEqual({
      api: [3, 6, 'HorizontalPodAutoscaler'],
      web: [4, 5, 'HorizontalPodAutoscaler'],
      // a ScaledObject without a kind targets a Deployment (KEDA's default), 0 to maxReplicaCount
      batch: [0, 12, 'ScaledObject'],
    });
  });

  it('is one that names the same kind and name, not one whose kind and name only join into the same text', () => {
    const manifests = [
      deployment('a/b'),
      deployment('1'),
      hpa('slash', { kind: 'Deployment/a', name: 'b' }, 3, 6),
      hpa('number', { kind: 'Deployment', name: 1 }, 3, 6),
    ];
    expect(replicas(manifests)).toEqual({ 'a/b': [2, 2, 'none'], '1': [2, 2, 'none'] });
  });

  it('is none when no autoscaler names it: the replicas of its spec count', () => {
    const manifests = [
      deployment('api'),
      hpa('other', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'apix' }, 3, 6),
    ];
    expect(replicas(manifests)).toEqual({ api: [2, 2, 'none'] });
  });
});
