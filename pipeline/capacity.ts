/**
 * What a target asks of its namespace's ResourceQuota, computed from the synthesized manifests
 * (so it counts what will run, whoever built it): CPU and memory requests and limits and pods of
 * every workload at its minimum scale, and at its maximum scale plus the extra pods of a release.
 *
 * - replicas: an HPA's minReplicas/maxReplicas when one targets the workload, or a KEDA
 *   ScaledObject's minReplicaCount/maxReplicaCount (KEDA's defaults 0 and 100 when absent; KEDA
 *   makes the HPA, which dist/ never holds), else spec.replicas (Kubernetes' default 1 when absent);
 * - release surge at maximum scale: a Deployment's (or canary Rollout's) rollingUpdate.maxSurge
 *   (Kubernetes' default 25%, percentages rounded up); a blue/green Rollout runs a full second
 *   ReplicaSet until the old one is scaled down, so its surge is its replica count (or
 *   previewReplicaCount); a StatefulSet replaces pods in place (no surge);
 * - a pod asks for the sum of its containers, or its largest init container if that is more;
 *   ephemeral storage (logs, /tmp) is counted like memory;
 * - a VerticalPodAutoscaler that changes pods (updateMode other than Off) may raise a request up to
 *   its maxAllowed; limits then grow in proportion (controlledValues RequestsAndLimits), so at
 *   maximum scale such a container counts at maxAllowed.
 */
import { cpuMillis, formatCpu, formatMemory, memoryBytes } from '../core/quantity';
import { Manifest, Obj } from '../core/manifest';
import { ownValue } from '../config/model';
import type { TargetConfig } from '../config/types';
import { filesOf } from '../config/workload-rules';

/** CPU in millicores and memory in bytes, for requests and limits. */
export interface Amounts {
  readonly requestsCpu: number;
  readonly requestsMemory: number;
  readonly limitsCpu: number;
  readonly limitsMemory: number;
  /** Local ephemeral storage in bytes (logs, writable layers, emptyDirs such as /tmp). */
  readonly requestsEphemeral: number;
  readonly limitsEphemeral: number;
}

export const AMOUNT_KEYS = [
  'requestsCpu',
  'requestsMemory',
  'limitsCpu',
  'limitsMemory',
  'requestsEphemeral',
  'limitsEphemeral',
] as const;
export type AmountKey = (typeof AMOUNT_KEYS)[number];

/** The ResourceQuota name of each amount (`spec.hard` keys). */
export const QUOTA_KEY: Record<AmountKey | 'pods', string> = {
  requestsCpu: 'requests.cpu',
  requestsMemory: 'requests.memory',
  limitsCpu: 'limits.cpu',
  limitsMemory: 'limits.memory',
  requestsEphemeral: 'requests.ephemeral-storage',
  limitsEphemeral: 'limits.ephemeral-storage',
  pods: 'pods',
};

export interface WorkloadCapacity {
  readonly kind: string;
  readonly name: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** What scales the workload: `HorizontalPodAutoscaler`, `ScaledObject` (KEDA), or undefined for fixed replicas. */
  readonly scaledBy?: string;
  /** Extra pods during a release at maximum scale. */
  readonly surge: number;
  /** Why the surge is what it is, e.g. `maxSurge 1`, `blue/green`. */
  readonly surgeReason: string;
  /** One pod, as written. */
  readonly perPod: Amounts;
  /** One pod at maximum scale (VPA maxAllowed applied). */
  readonly perPodAtMax: Amounts;
  /** Whether an acting VPA may raise the pod's resources (to its maxAllowed). */
  readonly vpaRaised: boolean;
  /** All pods at minimum scale. */
  readonly atMin: Amounts;
  /** All pods at maximum scale plus surge. */
  readonly atMax: Amounts;
  readonly podsAtMax: number;
}

export interface Capacity {
  readonly workloads: WorkloadCapacity[];
  readonly atMin: Amounts & { readonly pods: number };
  readonly atMax: Amounts & { readonly pods: number };
  /** The namespace's quota (the tightest ResourceQuota per resource), when there is one. */
  readonly quota: Partial<Record<AmountKey | 'pods', number>>;
}

const ZERO: Amounts = {
  requestsCpu: 0,
  requestsMemory: 0,
  limitsCpu: 0,
  limitsMemory: 0,
  requestsEphemeral: 0,
  limitsEphemeral: 0,
};
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Rollout', 'ReplicaSet']);

/** The capacity of a target, from its manifests. */
export function capacityOf(manifests: readonly Manifest[]): Capacity {
  const hpaOf = firstTargeting(
    manifests.filter((m) => m.kind === 'HorizontalPodAutoscaler' || m.kind === 'ScaledObject'),
    'scaleTargetRef',
  );
  const vpaOf = firstTargeting(
    manifests.filter((m) => m.kind === 'VerticalPodAutoscaler'),
    'targetRef',
  );
  const workloads = manifests.filter((m) => WORKLOAD_KINDS.has(m.kind)).map((m) => workloadCapacity(m, hpaOf, vpaOf));
  workloads.sort((a, b) => a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind));
  const total = (pick: (w: WorkloadCapacity) => Amounts, pods: (w: WorkloadCapacity) => number) => ({
    ...workloads.reduce((acc, w) => add(acc, pick(w)), ZERO),
    pods: workloads.reduce((n, w) => n + pods(w), 0),
  });
  return {
    workloads,
    atMin: total(
      (w) => w.atMin,
      (w) => w.minReplicas,
    ),
    atMax: total(
      (w) => w.atMax,
      (w) => w.podsAtMax,
    ),
    quota: quotaOf(manifests),
  };
}

/** One exceeded quota: the total at maximum scale plus surge against the hard limit. */
export interface QuotaOverflow {
  readonly resource: AmountKey | 'pods';
  readonly total: number;
  readonly quota: number;
  /** The workloads that contribute most, largest first. */
  readonly top: Array<{ readonly name: string; readonly amount: number; readonly detail: string }>;
}

/** Every quota the target's maximum scale plus surge exceeds. */
export function quotaOverflows(capacity: Capacity): QuotaOverflow[] {
  const out: QuotaOverflow[] = [];
  for (const resource of [...AMOUNT_KEYS, 'pods'] as const) {
    const quota = capacity.quota[resource];
    const total = capacity.atMax[resource];
    if (quota === undefined || total <= quota) continue;
    const top = capacity.workloads
      .map((w) => {
        const amount = resource === 'pods' ? w.podsAtMax : w.atMax[resource];
        const each = resource === 'pods' ? '' : ` × ${format(resource, w.perPodAtMax[resource])}`;
        return { name: w.name, amount, detail: `${w.maxReplicas} max + ${w.surge} surge (${w.surgeReason})${each}` };
      })
      .filter((c) => c.amount > 0)
      .sort((a, b) => b.amount - a.amount || a.name.localeCompare(b.name))
      .slice(0, 3);
    out.push({ resource, total, quota, top });
  }
  return out;
}

/** A quantity for people: `23.85` (CPUs), `500m`, `43.25Gi`, `512Mi`, `66` (pods). */
export function format(resource: AmountKey | 'pods', value: number): string {
  if (resource === 'pods') return String(value);
  if (resource.endsWith('Cpu')) return value < 1000 ? formatCpu(value) : trim(value / 1000, 3);
  const gi = 1024 ** 3;
  return value < gi ? formatMemory(value) : `${trim(value / gi, 2)}Gi`;
}

function trim(n: number, digits: number): string {
  return String(Number(n.toFixed(digits)));
}

/**
 * The refusals of a target whose maximum scale plus release surge exceeds its quota: each names
 * the target, the resource, the total against the quota, the biggest contributors and the fix.
 * `quotaFile` is the environment file that sets `quota`.
 */
export function capacityProblems(target: string, quotaFile: string, capacity: Capacity): string[] {
  return quotaOverflows(capacity).map((o) => {
    const top = o.top.map((t) => `${t.name} ${format(o.resource, t.amount)} (${t.detail})`).join(', ');
    const field = o.resource === 'pods' ? 'quota.pods' : `quota.${QUOTA_KEY[o.resource]}`;
    return (
      `${target}: ${QUOTA_KEY[o.resource]} at maximum scale plus release surge is ${format(o.resource, o.total)}, ` +
      `over the namespace ResourceQuota of ${format(o.resource, o.quota)} by ${format(o.resource, o.total - o.quota)}; biggest: ${top}. ` +
      `Raise ${field} in ${quotaFile} or lower replicas.max of these services`
    );
  });
}

/** A PodDisruptionBudget that lets no pod go at the minimum scale of what it selects. */
export interface DrainBlocker {
  readonly pdb: string;
  readonly workload: string;
  readonly minReplicas: number;
  /** Pods the budget allows to be evicted at minimum scale. */
  readonly allowed: number;
}

/**
 * Budgets that would block a node drain, the one check of drain safety: it sees every PDB and the
 * minimum of what it selects (an HPA's minReplicas, a ScaledObject's minReplicaCount), whoever built them. (The configuration has
 * no budget setting: constructs/disruption-budget.ts always allows one eviction.)
 * At the minimum replicas of each workload a PDB selects,
 * it must allow at least one eviction (maxUnavailable >= 1, or minAvailable below the minimum).
 * Percentages are rounded up, as the disruption controller does.
 */
export function drainBlockers(manifests: readonly Manifest[], capacity = capacityOf(manifests)): DrainBlocker[] {
  const minReplicas = new Map(capacity.workloads.map((w) => [`${w.kind}/${w.name}`, w.minReplicas]));
  // workloads indexed by each label of their pods, so a PDB looks only at plausible candidates
  const byLabel = new Map<string, Manifest[]>();
  for (const m of manifests.filter((w) => WORKLOAD_KINDS.has(w.kind))) {
    const podLabels: Record<string, string> = (m.spec as Obj)?.template?.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(podLabels)) {
      const key = `${k}=${v}`;
      const bucket = byLabel.get(key);
      if (bucket) bucket.push(m);
      else byLabel.set(key, [m]);
    }
  }
  const allWorkloads = manifests.filter((w) => WORKLOAD_KINDS.has(w.kind));
  const out: DrainBlocker[] = [];
  for (const pdb of manifests.filter((m) => m.kind === 'PodDisruptionBudget')) {
    const spec = (pdb.spec ?? {}) as Obj;
    const selector: Record<string, string> = spec.selector?.matchLabels ?? {};
    const pairs = Object.entries(selector);
    const candidates = pairs.length
      ? pairs.map(([k, v]) => byLabel.get(`${k}=${v}`) ?? []).reduce((a, b) => (b.length < a.length ? b : a))
      : allWorkloads;
    for (const m of candidates) {
      const podLabels: Record<string, string> = (m.spec as Obj)?.template?.metadata?.labels ?? {};
      if (!pairs.every(([k, v]) => podLabels[k] === v)) continue;
      const min = minReplicas.get(`${m.kind}/${m.metadata.name}`)!;
      if (min === 0) continue;
      const allowed =
        spec.maxUnavailable !== undefined
          ? Math.min(min, resolve(spec.maxUnavailable, min))
          : min - Math.min(min, resolve(spec.minAvailable ?? 1, min));
      if (allowed < 1)
        out.push({ pdb: pdb.metadata.name, workload: `${m.kind}/${m.metadata.name}`, minReplicas: min, allowed });
    }
  }
  return out;
}

/**
 * `drainBlockers` as messages; a workload of a configured service names where its minimum is set.
 * `capacity` is the manifests' own (`capacityOf(manifests)`), when the caller has it already.
 */
export function drainProblems(
  config: TargetConfig,
  manifests: readonly Manifest[],
  capacity = capacityOf(manifests),
): string[] {
  return drainBlockers(manifests, capacity).map((b) => {
    const service = ownValue(config.services, b.workload.slice(b.workload.indexOf('/') + 1));
    const minimum = service
      ? `, or raise services.${service.name}.replicas${typeof service.replicas === 'number' ? '' : '.min'} in ${filesOf(config)} above what the budget keeps`
      : '';
    return (
      `${config.target}: PodDisruptionBudget/${b.pdb} allows ${b.allowed} eviction(s) at the minimum of ${b.minReplicas} replica(s) of ${b.workload}, ` +
      `so a node drain would wait on it forever; use maxUnavailable: 1 (constructs/disruption-budget.ts), or a minAvailable below the minimum replicas${minimum}`
    );
  });
}

/** Headroom left by `used` under `quota`, in whole percent of the quota. */
export function headroomPercent(used: number, quota: number | undefined): number | undefined {
  if (quota === undefined || quota === 0) return undefined;
  return Math.floor(((quota - used) / quota) * 100);
}

/** `hpaOf`: the first HorizontalPodAutoscaler or KEDA ScaledObject (both target by `scaleTargetRef`) of a workload. */
function workloadCapacity(m: Manifest, hpaOf: FirstTargeting, vpaOf: FirstTargeting): WorkloadCapacity {
  const spec = (m.spec ?? {}) as Obj;
  const hpa = hpaOf(m);
  const vpa = vpaOf(m);
  const { min: minReplicas, max: maxReplicas } = hpa
    ? replicaRangeOf(hpa)
    : { min: spec.replicas ?? 1, max: spec.replicas ?? 1 };
  const { surge, reason } = surgeOf(m.kind, spec, maxReplicas);
  const podSpec = spec.template?.spec ?? {};
  const perPod = podAmounts(podSpec, undefined);
  const perPodAtMax = podAmounts(podSpec, vpa);
  return {
    kind: m.kind,
    name: m.metadata.name,
    minReplicas,
    maxReplicas,
    scaledBy: hpa?.kind,
    surge,
    surgeReason: reason,
    perPod,
    perPodAtMax,
    vpaRaised: AMOUNT_KEYS.some((k) => perPodAtMax[k] !== perPod[k]),
    atMin: times(perPod, minReplicas),
    atMax: times(perPodAtMax, maxReplicas + surge),
    podsAtMax: maxReplicas + surge,
  };
}

/** The replicas an HPA or a KEDA ScaledObject scales between, with each API's defaults. */
function replicaRangeOf(autoscaler: Manifest): { min: number; max: number } {
  const spec = (autoscaler.spec ?? {}) as Obj;
  return autoscaler.kind === 'ScaledObject'
    ? { min: spec.minReplicaCount ?? 0, max: spec.maxReplicaCount ?? 100 }
    : { min: spec.minReplicas ?? 1, max: spec.maxReplicas };
}

/** The first autoscaler, in the manifests' order, that targets a workload. */
type FirstTargeting = (workload: Manifest) => Manifest | undefined;

/**
 * The autoscalers, by the kind and name that their `field` (`scaleTargetRef` or `targetRef`)
 * points at: a namespace has as many autoscalers as workloads, so each workload looks up its own
 * instead of searching them all. Kind and name are keys as given, each in its own map (as `===`
 * compares them: the name `1` is not `"1"`, and kind `Deployment/a` with name `b` is not a
 * Deployment named `a/b`).
 */
function firstTargeting(autoscalers: readonly Manifest[], field: string): FirstTargeting {
  const index = new Map<unknown, Map<unknown, { autoscaler: Manifest; apiVersion?: unknown }[]>>();
  for (const autoscaler of autoscalers) {
    const ref = (autoscaler.spec as Obj)?.[field];
    // a ScaledObject's target is a Deployment unless it says otherwise (KEDA's default)
    const kind = ref?.kind ?? (autoscaler.kind === 'ScaledObject' ? 'Deployment' : undefined);
    // no target, or a name that equals nothing (a map would find NaN)
    if (kind === undefined || ref == null || Number.isNaN(ref.name)) continue;
    if (!index.has(kind)) index.set(kind, new Map());
    const byName = index.get(kind)!;
    if (!byName.has(ref.name)) byName.set(ref.name, []);
    byName.get(ref.name)!.push({ autoscaler, apiVersion: ref.apiVersion });
  }
  return (workload) =>
    index
      .get(workload.kind)
      ?.get(workload.metadata.name)
      ?.find(({ apiVersion }) => apiVersion === undefined || apiVersion === workload.apiVersion)?.autoscaler;
}

function surgeOf(kind: string, spec: Obj, replicas: number): { surge: number; reason: string } {
  if (kind === 'StatefulSet') return { surge: 0, reason: 'StatefulSet: in place' };
  if (kind === 'Rollout' && spec.strategy?.blueGreen) {
    const preview = spec.strategy.blueGreen.previewReplicaCount;
    return { surge: preview ?? replicas, reason: 'blue/green: second ReplicaSet' };
  }
  const strategy = kind === 'Rollout' ? spec.strategy?.canary : spec.strategy;
  if (kind === 'Deployment' && strategy?.type === 'Recreate') return { surge: 0, reason: 'Recreate' };
  const maxSurge = (kind === 'Rollout' ? strategy?.maxSurge : strategy?.rollingUpdate?.maxSurge) ?? '25%';
  return { surge: resolve(maxSurge, replicas), reason: `maxSurge ${maxSurge}` };
}

/** An int-or-percent of `replicas`, percentages rounded up as the Deployment controller does for surge. */
function resolve(value: number | string, replicas: number): number {
  if (typeof value === 'number') return value;
  const percent = /^([0-9]+)%$/.exec(value);
  return percent ? Math.ceil((replicas * Number(percent[1])) / 100) : Number(value);
}

function podAmounts(podSpec: Obj, vpa: Manifest | undefined): Amounts {
  const policies: Obj[] = (vpa?.spec as Obj)?.resourcePolicy?.containerPolicies ?? [];
  const acting = vpa !== undefined && ((vpa.spec as Obj)?.updatePolicy?.updateMode ?? 'Recreate') !== 'Off';
  const of = (c: Obj) =>
    containerAmounts(
      c,
      acting
        ? (policies.find((p) => p.containerName === c.name) ?? policies.find((p) => p.containerName === '*'))
        : undefined,
    );
  const containers = ((podSpec.containers ?? []) as Obj[]).map(of).reduce(add, ZERO);
  const inits = ((podSpec.initContainers ?? []) as Obj[]).map(of);
  return Object.fromEntries(
    AMOUNT_KEYS.map((k) => [k, Math.max(containers[k], ...inits.map((i) => i[k]))]),
  ) as unknown as Amounts;
}

function containerAmounts(container: Obj, policy: Obj | undefined): Amounts {
  const r = container.resources ?? {};
  const amounts = {
    requestsCpu: r.requests?.cpu !== undefined ? cpuMillis(String(r.requests.cpu)) : 0,
    requestsMemory: r.requests?.memory !== undefined ? memoryBytes(String(r.requests.memory)) : 0,
    limitsCpu: r.limits?.cpu !== undefined ? cpuMillis(String(r.limits.cpu)) : 0,
    limitsMemory: r.limits?.memory !== undefined ? memoryBytes(String(r.limits.memory)) : 0,
    requestsEphemeral:
      r.requests?.['ephemeral-storage'] !== undefined ? memoryBytes(String(r.requests['ephemeral-storage'])) : 0,
    limitsEphemeral:
      r.limits?.['ephemeral-storage'] !== undefined ? memoryBytes(String(r.limits['ephemeral-storage'])) : 0,
  };
  if (!policy || policy.mode === 'Off') return amounts;
  const controlled: string[] = policy.controlledResources ?? ['cpu', 'memory'];
  const limitsToo = (policy.controlledValues ?? 'RequestsAndLimits') === 'RequestsAndLimits';
  const raise = (resource: 'cpu' | 'memory', request: number, limit: number, parse: (q: string) => number) => {
    const max = policy.maxAllowed?.[resource];
    if (!controlled.includes(resource) || max === undefined) return { request, limit };
    const raised = Math.max(request, parse(String(max)));
    return {
      request: raised,
      limit: limitsToo && request > 0 ? Math.round((limit * raised) / request) : Math.max(limit, raised),
    };
  };
  const cpu = raise('cpu', amounts.requestsCpu, amounts.limitsCpu, cpuMillis);
  const memory = raise('memory', amounts.requestsMemory, amounts.limitsMemory, memoryBytes);
  return {
    ...amounts,
    requestsCpu: cpu.request,
    requestsMemory: memory.request,
    limitsCpu: cpu.limit,
    limitsMemory: memory.limit,
  };
}

function quotaOf(manifests: readonly Manifest[]): Partial<Record<AmountKey | 'pods', number>> {
  const quota: Partial<Record<AmountKey | 'pods', number>> = {};
  for (const q of manifests.filter((m) => m.kind === 'ResourceQuota')) {
    const hard = ((q.spec as Obj)?.hard ?? {}) as Record<string, string | number>;
    for (const key of [...AMOUNT_KEYS, 'pods'] as const) {
      const raw =
        hard[QUOTA_KEY[key]] ?? (key === 'requestsCpu' ? hard.cpu : key === 'requestsMemory' ? hard.memory : undefined);
      if (raw === undefined) continue;
      const value =
        key === 'pods' ? Number(raw) : key.endsWith('Cpu') ? cpuMillis(String(raw)) : memoryBytes(String(raw));
      quota[key] = Math.min(quota[key] ?? Infinity, value);
    }
  }
  return quota;
}

function add(a: Amounts, b: Amounts): Amounts {
  return {
    requestsCpu: a.requestsCpu + b.requestsCpu,
    requestsMemory: a.requestsMemory + b.requestsMemory,
    limitsCpu: a.limitsCpu + b.limitsCpu,
    limitsMemory: a.limitsMemory + b.limitsMemory,
    requestsEphemeral: a.requestsEphemeral + b.requestsEphemeral,
    limitsEphemeral: a.limitsEphemeral + b.limitsEphemeral,
  };
}

function times(a: Amounts, n: number): Amounts {
  return {
    requestsCpu: a.requestsCpu * n,
    requestsMemory: a.requestsMemory * n,
    limitsCpu: a.limitsCpu * n,
    limitsMemory: a.limitsMemory * n,
    requestsEphemeral: a.requestsEphemeral * n,
    limitsEphemeral: a.limitsEphemeral * n,
  };
}
