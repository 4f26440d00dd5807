#!/usr/bin/env node
// The live twin: every target on the real Kubernetes 1.28 control plane, scheduler and
// controllers, kwok's fake Nodes, the real Argo Rollouts controller and a loopback Prometheus.
//
//   node test/live/run.mjs                      # self-test fixtures + every target of dist/ and examples/*/dist/
//   node test/live/run.mjs dist/staging ...     # only these targets
//   node test/live/run.mjs --self-test          # only the fixtures (--self-test=bad-pdb,...: some)
//   node test/live/run.mjs --ci                 # self-test, dist/ and each example's production (.ci/run)
//   --jobs=N (LIVE_TEST_JOBS): N targets at once, each on its own twin; --scenarios=Apply,Drain
//
// Per target, each a line of output: Apply, Spread, Maximum, Drain, Spot (targets with a spot
// pool), Release (targets with Rollouts), Re-apply. See test/live/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, tail } from '../cluster/lib/controlplane.mjs';
import {
  CRD_DIR,
  externalNamespaces,
  installCleanup,
  installCrds,
  pool,
  rel,
  REPO,
  resolveAssets,
  targetFolders,
} from '../cluster/lib/harness.mjs';
import { conditionsOf, Kube, ref, sleep, waitFor } from '../cluster/lib/kube.mjs';
import { loadObjects, prepareCrds } from '../cluster/lib/manifests.mjs';
import { FixtureExporter, startControllers, startPrometheus, startRollouts, stopProcess } from './lib/twin.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TIMEOUT_S = Number(process.env.LIVE_TEST_TIMEOUT ?? 5400);
/** Targets (and fixtures) run side by side, each on its own twin (`--jobs=N` or LIVE_TEST_JOBS). */
const JOBS = Number(
  process.argv.find((a) => a.startsWith('--jobs='))?.slice('--jobs='.length) ?? process.env.LIVE_TEST_JOBS ?? 1,
);
/** Time compression of the twin (README: "What the twin changes"). */
const TWIN = { analysisInterval: '2s', analysisInitialDelay: '10s', rateWindow: '10s', scaleDownDelaySeconds: 10 };
/** Bounds (seconds) of each wait; a fixture's twin.conf may set its own. */
const DEFAULT_BOUND = { availableS: 240, drainS: Number(process.env.LIVE_TEST_DRAIN_TIMEOUT ?? 180), releaseS: 240 };

// ---------------------------------------------------------------------------
// Self-test fixtures: each must FAIL the named scenario with a report mentioning the strings.
const SELF_TESTS = [
  {
    dir: 'fixtures/bad-unschedulable',
    scenario: 'Apply',
    mustMention: ['Deployment live-bad-unschedulable/too-big', 'FailedScheduling', 'Insufficient cpu'],
  },
  {
    dir: 'fixtures/bad-spread',
    scenario: 'Spread',
    mustMention: ['Deployment live-bad-spread/pinned', 'topology.kubernetes.io/zone', 'zone-a=3'],
  },
  {
    dir: 'fixtures/bad-quota',
    scenario: 'Maximum',
    mustMention: ['Deployment live-bad-quota/tight', 'exceeded quota'],
  },
  {
    dir: 'fixtures/bad-pdb',
    scenario: 'Drain',
    mustMention: ['PodDisruptionBudget live-bad-pdb/blocker', 'disruption budget'],
  },
  {
    dir: 'fixtures/bad-spot',
    scenario: 'Spot',
    mustMention: ['Deployment live-bad-spot/spot-only', 'FailedScheduling', "didn't match Pod's node affinity"],
  },
  {
    dir: 'fixtures/bad-analysis',
    scenario: 'Release',
    mustMention: ['Rollout live-bad-analysis/api', 'AnalysisRun', 'Failed', 'always-fails'],
  },
];

// ---------------------------------------------------------------------------
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'live-test-'));
const closers = new Set();
const { cleanup, cleaned } = installCleanup('live-test', () => {
  for (const c of closers) {
    try {
      c();
    } catch {
      /* gone */
    }
  }
  if (!process.env.LIVE_TEST_KEEP_TMP) fs.rmSync(TMP, { recursive: true, force: true });
});

const log = (msg) => console.log(`live-test: ${msg}`);

/** The binaries; the twin's are built by build-assets.sh --live when missing (cold: see README). */
function assetsDir() {
  // rollouts-controller is looked for when a target has Rollouts (startRollouts)
  const need = [
    'etcd',
    'kube-apiserver',
    'kubectl',
    'kube-scheduler',
    'kube-controller-manager',
    'kwok',
    'kwok-stages.yaml',
  ];
  return resolveAssets({ dir: process.env.LIVE_TEST_ASSETS, live: true, need, log });
}

// ---------------------------------------------------------------------------
// The node pool and the expectations of a target.
async function twinConfigOf(dir) {
  const fixture = path.join(dir, 'twin.conf');
  if (fs.existsSync(fixture)) return JSON.parse(fs.readFileSync(fixture, 'utf8'));
  // dist/<target> -> environments/; examples/<x>/dist/<target> -> examples/<x>/environments/
  const envDir = path.join(path.dirname(path.dirname(dir)), 'environments');
  const load = path.join(REPO, 'build/config/load.js');
  if (!fs.existsSync(load)) throw new Error('build/config/load.js missing: run `npm run build` (or npm test) first');
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const cwd = process.cwd();
  process.chdir(REPO); // the loader names files relative to the working directory
  try {
    const { loadPlatform } = require(load);
    const { spotPoolOf } = require(path.join(REPO, 'build/config/model.js'));
    const config = loadPlatform(envDir).find((c) => c.target === path.basename(dir));
    if (!config) throw new Error(`no target ${path.basename(dir)} in ${rel(envDir)}`);
    // the spot pool, when the environment declares its nodes: labelled and tainted as cluster.spot says
    const spot = config.cluster.spot?.nodes && { nodes: config.cluster.spot.nodes, ...spotPoolOf(config) };
    return { namespace: config.namespace, nodes: config.cluster.nodes, spot, source: rel(envDir) };
  } finally {
    process.chdir(cwd);
  }
}

const DEFAULT_NODES = { zones: ['zone-a', 'zone-b', 'zone-c'], perZone: 2, cpu: '8', memory: '32Gi', pods: 110 };
/**
 * The node pool's configuration has no disk size: a real kubelet reports its root disk as
 * `ephemeral-storage`, and every container requests some (config/resources.ts), so the twin's
 * nodes need one. 100Gi: a modest node root volume (README, "What the twin assumes").
 */
const DEFAULT_NODE_EPHEMERAL_STORAGE = '100Gi';

/**
 * The Nodes of a pool: `perZone` in each zone, with the pool's `labels`. A spot pool (`spot`: its
 * label and taint, as cluster.spot gives them) is named twin-spot-*, labelled and tainted.
 */
function nodeObjects(nodes, spot) {
  const out = [];
  const resources = {
    cpu: String(nodes.cpu),
    memory: nodes.memory,
    pods: String(nodes.pods),
    'ephemeral-storage': nodes.ephemeralStorage ?? DEFAULT_NODE_EPHEMERAL_STORAGE,
  };
  for (const zone of nodes.zones) {
    for (let i = 1; i <= nodes.perZone; i++) {
      const name = `twin-${spot ? 'spot-' : ''}${zone}-${i}`;
      out.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: {
            ...(nodes.labels ?? {}),
            ...(spot ? { [spot.label.key]: spot.label.value } : {}),
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'topology.kubernetes.io/zone': zone,
            type: 'kwok',
          },
        },
        spec: spot ? { taints: [spot.taint] } : {},
        status: {
          allocatable: resources,
          capacity: resources,
          nodeInfo: { kubeletVersion: 'v1.28.15', architecture: 'amd64', operatingSystem: 'linux' },
        },
      });
    }
  }
  return out;
}

/** Static PVs (no provisioner) for every claim a StatefulSet can make up to its maximum scale. */
function storageObjects(objects) {
  const hpaMax = new Map(
    objects
      .filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject')
      .map((o) => {
        const { min, max, target } = rangeOf(o.data);
        return [`${target.kind}/${target.name}`, Math.max(min, max)];
      }),
  );
  const classes = new Set();
  const pvs = [];
  for (const o of objects.filter((x) => x.kind === 'StatefulSet')) {
    const sts = o.data;
    const replicas = hpaMax.get(`StatefulSet/${sts.metadata.name}`) ?? sts.spec.replicas ?? 1;
    for (const t of sts.spec.volumeClaimTemplates ?? []) {
      const cls = t.spec.storageClassName;
      if (cls) classes.add(cls);
      for (let i = 0; i < replicas; i++) {
        const claim = `${t.metadata.name}-${sts.metadata.name}-${i}`;
        pvs.push({
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: `twin-${o.namespace}-${claim}`.slice(0, 253) },
          spec: {
            capacity: { storage: t.spec.resources.requests.storage },
            accessModes: t.spec.accessModes ?? ['ReadWriteOnce'],
            storageClassName: cls ?? '',
            persistentVolumeReclaimPolicy: 'Retain',
            claimRef: { namespace: o.namespace, name: claim },
            hostPath: { path: `/tmp/live-twin/${claim}` },
          },
        });
      }
    }
  }
  const defined = new Set(objects.filter((x) => x.kind === 'StorageClass').map((x) => x.name));
  const scs = [...classes]
    .filter((c) => !defined.has(c))
    .map((name) => ({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'Immediate',
    }));
  return [...scs, ...pvs];
}

/**
 * The twin's copy of a target: the objects as synthesized, except that analyses query the
 * loopback Prometheus on a compressed clock and the blue/green scale-down delay is short.
 */
function twinCopy(objects, promUrl) {
  return objects.map((o) => {
    const data = structuredClone(o.data);
    if (o.kind === 'AnalysisTemplate' || o.kind === 'ClusterAnalysisTemplate') {
      for (const m of data.spec.metrics ?? []) {
        if (m.provider?.prometheus) {
          m.provider.prometheus.address = promUrl ?? 'http://127.0.0.1:9';
          m.provider.prometheus.query = m.provider.prometheus.query.replace(/\[\d+[smh]\]/g, `[${TWIN.rateWindow}]`);
          if (m.interval) m.interval = TWIN.analysisInterval;
          if (m.initialDelay) m.initialDelay = TWIN.analysisInitialDelay;
        }
      }
    }
    if (o.kind === 'Rollout' && data.spec.strategy?.blueGreen?.scaleDownDelaySeconds !== undefined) {
      data.spec.strategy.blueGreen.scaleDownDelaySeconds = TWIN.scaleDownDelaySeconds;
    }
    return { ...o, data };
  });
}

/**
 * How Argo CD applies these targets: their Applications do not set `ServerSideApply=true`, so a
 * sync is a client-side `kubectl apply` (three-way merge against the last-applied annotation) and
 * the comparison is against that annotation too. It matters: a Service's `selector` is an atomic
 * map, so a server-side apply would take back the `rollouts-pod-template-hash` the Rollouts
 * controller puts there (the active Service would select old and new pods alike); a client-side
 * apply leaves keys it never set alone.
 */
const ARGOCD_APPLY = ['apply'];

const toDocs = (list) => list.map((d) => `---\n${JSON.stringify(d.data ?? d)}\n`).join('');

// ---------------------------------------------------------------------------
// Autoscalers. The twin runs no KEDA operator: a KEDA ScaledObject's workload is scaled by the
// harness as KEDA's HPA would (to minReplicaCount at apply, to maxReplicaCount for Maximum),
// HorizontalPodAutoscalers by the real HPA controller (minimum) and the harness (maximum).

/** An HPA's or a ScaledObject's target and replica range (KEDA's defaults: 0 and 100). */
function rangeOf(o) {
  const spec = o.spec ?? {};
  if (o.kind === 'ScaledObject')
    return {
      target: { kind: spec.scaleTargetRef.kind ?? 'Deployment', name: spec.scaleTargetRef.name },
      min: spec.minReplicaCount ?? 0,
      max: spec.maxReplicaCount ?? 100,
    };
  return { target: spec.scaleTargetRef, min: spec.minReplicas ?? 1, max: spec.maxReplicas };
}

/** The autoscalers of the namespace as applied: HPAs, and ScaledObjects where the target has them. */
async function autoscalers(ctx) {
  const { kube, ns } = ctx;
  const hpas = (await kube.json(['get', 'hpa', '-n', ns])).map((o) => ({ ...o, kind: 'HorizontalPodAutoscaler' }));
  const keda = ctx.objects.some((o) => o.kind === 'ScaledObject')
    ? (await kube.json(['get', 'scaledobjects.keda.sh', '-n', ns])).map((o) => ({ ...o, kind: 'ScaledObject' }))
    : [];
  return [...hpas, ...keda].map((o) => ({ ...rangeOf(o), ref: `${o.kind} ${ns}/${o.metadata.name}`, object: o }));
}

const SCALE_RESOURCE = {
  Deployment: 'deployment.apps',
  StatefulSet: 'statefulset.apps',
  Rollout: 'rollout.argoproj.io',
};

/** Scales an autoscaler's target as its controller would; returns an error line or undefined. */
async function scaleTarget(kube, ns, scaler, replicas) {
  const kind = SCALE_RESOURCE[scaler.target.kind] ?? scaler.target.kind;
  const r = await kube.run(['scale', '-n', ns, `${kind}/${scaler.target.name}`, `--replicas=${replicas}`]);
  return r.code === 0 ? undefined : `${scaler.ref}: ${r.cmd}: ${r.out.trim()}`;
}

// ---------------------------------------------------------------------------
// Reading the cluster.
/** The workload kinds of the current target (Rollouts only where their CRD is installed). */
async function workloads(kube, ns) {
  return kube.json(['get', kube.workloadResources, '-n', ns]);
}

function workloadReady(w) {
  const s = w.status ?? {};
  const want = w.spec.replicas ?? 1;
  if (w.kind === 'Rollout') return s.phase === 'Healthy' && (s.availableReplicas ?? 0) >= want;
  if (w.kind === 'StatefulSet')
    return (
      (s.readyReplicas ?? 0) >= want &&
      (s.updatedReplicas ?? 0) >= want &&
      s.observedGeneration >= w.metadata.generation
    );
  return (
    (s.availableReplicas ?? 0) >= want &&
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) === want &&
    s.observedGeneration >= w.metadata.generation
  );
}

async function warningEvents(kube, ns, since = 0) {
  const events = await kube.json(['get', 'events', '-n', ns, '--field-selector=type=Warning']);
  return events.filter(
    (e) => new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp).getTime() >= since,
  );
}

/** Why the workloads that are not ready are not: their conditions, their pending pods, their events. */
async function explainNotReady(kube, ns, notReady, since = 0) {
  const pods = await kube.json(['get', 'pods', '-n', ns]);
  const events = await warningEvents(kube, ns, since);
  const lines = [];
  for (const w of notReady) {
    const s = w.status ?? {};
    lines.push(
      `${ref(w)}: ${w.spec.replicas ?? 1} wanted, ${s.readyReplicas ?? s.availableReplicas ?? 0} ready${s.phase ? `, phase ${s.phase}${s.message ? ` (${s.message})` : ''}` : ''}; ${conditionsOf(w, ['Available', 'Progressing', 'ReplicaFailure']) || 'no conditions'}`,
    );
    const prefix = `${w.metadata.name}-`;
    for (const p of pods
      .filter(
        (x) => x.metadata.name.startsWith(prefix) && x.status?.phase !== 'Running' && x.status?.phase !== 'Succeeded',
      )
      .slice(0, 3)) {
      lines.push(
        `  Pod ${ns}/${p.metadata.name}: ${p.status?.phase}; ${conditionsOf(p, ['PodScheduled']) || 'not scheduled'}`,
      );
    }
    const mine = events.filter(
      (e) => e.involvedObject.name === w.metadata.name || e.involvedObject.name.startsWith(prefix),
    );
    for (const e of dedupeEvents(mine).slice(0, 4))
      lines.push(`  event ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason}: ${e.message}`);
  }
  return lines;
}

function dedupeEvents(events) {
  const seen = new Map();
  for (const e of events) seen.set(`${e.involvedObject.kind}/${e.involvedObject.name}/${e.reason}`, e);
  return [...seen.values()];
}

async function waitReady(kube, ns, timeoutS, since) {
  const r = await waitFor(
    async () => {
      const ws = await workloads(kube, ns);
      const notReady = ws.filter((w) => !workloadReady(w));
      return { done: notReady.length === 0, notReady, count: ws.length };
    },
    { timeoutMs: timeoutS * 1000, intervalMs: 2000 },
  );
  if (r.ok) return { ok: true, count: r.value.count };
  return { ok: false, lines: r.last?.error ? [r.last.error] : await explainNotReady(kube, ns, r.last.notReady, since) };
}

// ---------------------------------------------------------------------------
// Scenarios. Each returns { ok, detail } (detail: one line on success, lines on failure).

async function scenarioApply(ctx) {
  const { kube, ns, t0 } = ctx;
  // the workloads an HPA owns have no replicas of their own (Argo CD must not fight the HPA): they
  // start at 1 until the HPA raises them to its minimum. Wait for that first, so that every later
  // scenario sees the scale production runs at (the HPA does this without the metrics API; for a
  // ScaledObject the harness does what KEDA's HPA would)
  const scalers = await autoscalers(ctx);
  for (const s of scalers.filter((x) => x.object.kind === 'ScaledObject')) {
    const error = await scaleTarget(kube, ns, s, s.min);
    if (error) return { ok: false, detail: [error] };
  }
  const atMin = await waitFor(
    async () => {
      const ws = await workloads(kube, ns);
      const low = scalers.filter((h) => {
        const w = ws.find((x) => x.kind === h.target.kind && x.metadata.name === h.target.name);
        return !w || (w.spec.replicas ?? 1) < h.min;
      });
      return { done: low.length === 0, low };
    },
    { timeoutMs: kube.bound.availableS * 1000, intervalMs: 2000 },
  );
  if (!atMin.ok)
    return {
      ok: false,
      detail: (atMin.last?.low ?? []).map(
        (h) => `${h.ref}: its target is below its minimum of ${h.min} replicas; ${conditionsOf(h.object)}`,
      ),
    };
  const ready = await waitReady(kube, ns, kube.bound.availableS, t0);
  if (!ready.ok) return { ok: false, detail: [...ready.lines, ...(await claimEvidence(kube, ns))] };
  const pods = (await kube.json(['get', 'pods', '-n', ns])).filter(
    (p) => !p.metadata.ownerReferences?.some((o) => o.kind === 'Job'),
  );
  const bad = pods.filter((p) => p.status?.phase !== 'Running' || !p.spec.nodeName);
  if (bad.length)
    return {
      ok: false,
      detail: bad.map(
        (p) => `Pod ${ns}/${p.metadata.name}: ${p.status?.phase}, node ${p.spec.nodeName ?? '-'}; ${conditionsOf(p)}`,
      ),
    };
  // Warning events of objects that are still unhappy: pods not running, claims not bound
  const events = dedupeEvents(await warningEvents(kube, ns)).filter(
    (e) => !['HorizontalPodAutoscaler'].includes(e.involvedObject.kind),
  );
  const claims = await kube.json(['get', 'pvc', '-n', ns]);
  const unbound = claims.filter((c) => c.status?.phase !== 'Bound');
  if (unbound.length)
    return {
      ok: false,
      detail: unbound.map((c) => `PersistentVolumeClaim ${ns}/${c.metadata.name}: ${c.status?.phase}`),
    };
  const resolved = events.map((e) => e.reason);
  const summary = [...new Set(resolved)].map((r) => `${r} x${resolved.filter((x) => x === r).length}`).join(', ');
  return {
    ok: true,
    detail: `${ready.count} workloads available, ${pods.length} pods Running on ${new Set(pods.map((p) => p.spec.nodeName)).size} nodes, ${claims.length} claims bound${summary ? `; resolved warnings: ${summary}` : ''}`,
  };
}

async function podsByOwner(kube, ns) {
  const pods = await kube.json(['get', 'pods', '-n', ns]);
  const nodes = new Map((await kube.json(['get', 'nodes'])).map((n) => [n.metadata.name, n]));
  return { pods: pods.filter((p) => p.spec.nodeName && p.status?.phase === 'Running'), nodes };
}

/** Spread of every workload (or of those `include` picks) with two or more pods. */
async function scenarioSpread(ctx, include = () => true) {
  const { kube, ns } = ctx;
  const ws = await workloads(kube, ns);
  const { pods, nodes } = await podsByOwner(kube, ns);
  const problems = [];
  const report = [];
  for (const w of ws.filter(include)) {
    const selector = w.spec.selector?.matchLabels ?? {};
    const mine = pods.filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    if (mine.length < 2) continue;
    const constraints = w.spec.template.spec.topologySpreadConstraints ?? [];
    const parts = [];
    // the domains are those of the nodes the scheduler counts, as each constraint says (Kubernetes'
    // defaults: nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore): with Honor a spot node is none of
    // an on-demand workload's domains, and a pinned pod's are only the labelled nodes
    const template = { spec: w.spec.template.spec };
    const nodeSelector = w.spec.template.spec.nodeSelector ?? {};
    const counted = (n, c) =>
      !n.spec.unschedulable &&
      (c?.nodeTaintsPolicy !== 'Honor' ||
        (n.spec.taints ?? []).every((t) => t.effect === 'PreferNoSchedule' || toleratesTaint(template, t))) &&
      ((c?.nodeAffinityPolicy ?? 'Honor') !== 'Honor' ||
        Object.entries(nodeSelector).every(([k, v]) => n.metadata.labels?.[k] === v));
    for (const key of ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']) {
      const c = constraints.find((x) => x.topologyKey === key);
      const domains = new Map();
      for (const n of nodes.values())
        if (n.metadata.labels?.[key] && counted(n, c)) domains.set(n.metadata.labels[key], 0);
      for (const p of mine) {
        const d = nodes.get(p.spec.nodeName)?.metadata.labels?.[key];
        domains.set(d, (domains.get(d) ?? 0) + 1);
      }
      const counts = [...domains.values()];
      const skew = Math.max(...counts) - Math.min(...counts);
      if (key === 'topology.kubernetes.io/zone')
        parts.push(
          [...domains.entries()]
            .filter(([, v]) => v > 0)
            .sort()
            .map(([d, v]) => `${d}=${v}`)
            .join(' '),
        );
      if (c && skew > c.maxSkew) {
        problems.push(
          `${ref(w)}: ${mine.length} pods over ${key} skew ${skew} > maxSkew ${c.maxSkew} (${c.whenUnsatisfiable}); ${[
            ...domains.entries(),
          ]
            .sort()
            .map(([d, v]) => `${d}=${v}`)
            .join(' ')}`,
        );
      }
    }
    report.push(`${w.metadata.name} [${parts.join('')}]`);
  }
  return problems.length
    ? { ok: false, detail: problems }
    : { ok: true, detail: report.join(', ') || 'no multi-replica workload' };
}

/**
 * The claims of the namespace that are not Bound, each with the twin's static volume made for it
 * (storageObjects): its phase and claimRef. The binder of kube-controller-manager binds them; one
 * CI run saw a claim stay Pending for four minutes, unexplained, and this says what it was waiting on.
 */
async function claimEvidence(kube, ns) {
  const claims = (await kube.json(['get', 'pvc', '-n', ns])).filter((c) => c.status?.phase !== 'Bound');
  if (!claims.length) return [];
  const volumes = await kube.json(['get', 'pv']);
  return claims.map((c) => {
    const pv = volumes.find((v) => v.spec.claimRef?.namespace === ns && v.spec.claimRef?.name === c.metadata.name);
    return `  PersistentVolumeClaim ${ns}/${c.metadata.name}: ${c.status?.phase}, class ${c.spec.storageClassName ?? '-'}, ${c.spec.resources?.requests?.storage}; ${
      pv
        ? `PersistentVolume ${pv.metadata.name}: ${pv.status?.phase}, class ${pv.spec.storageClassName || '-'}, ${pv.spec.capacity?.storage}, claimRef uid ${pv.spec.claimRef?.uid ?? '-'}`
        : 'no PersistentVolume made for it'
    }`;
  });
}

async function quotaUsed(kube, ns) {
  const quotas = await kube.json(['get', 'resourcequota', '-n', ns]);
  return quotas.map((q) => ({ name: q.metadata.name, used: q.status?.used ?? {}, hard: q.status?.hard ?? {} }));
}

async function scenarioMaximum(ctx) {
  const { kube, ns } = ctx;
  const since = Date.now() - 1000;
  const scalers = await autoscalers(ctx);
  const scaled = [];
  for (const h of scalers) {
    const error = await scaleTarget(kube, ns, h, h.max);
    if (error) return { ok: false, detail: [error] };
    scaled.push(`${h.target.name}=${h.max}${h.object.kind === 'ScaledObject' ? ' (KEDA)' : ''}`);
  }
  // wait for maximum scale, then start a release of every workload at once
  await waitReady(kube, ns, kube.bound.availableS, since);
  const ws = await workloads(kube, ns);
  for (const w of ws) {
    const kind = { Deployment: 'deployment.apps', StatefulSet: 'statefulset.apps', Rollout: 'rollout.argoproj.io' }[
      w.kind
    ];
    const r = await kube.run([
      'patch',
      '-n',
      ns,
      `${kind}/${w.metadata.name}`,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { template: { metadata: { annotations: { 'live-twin/release': 'maximum' } } } } }),
    ]);
    if (r.code !== 0) return { ok: false, detail: [`${ref(w)}: ${r.cmd}: ${r.out.trim()}`] };
  }
  // done when every Deployment/StatefulSet rolled and every Rollout's preview is up at full size
  let peakPods = 0;
  let peakQuota = [];
  const r = await waitFor(
    async () => {
      const used = await quotaUsed(kube, ns);
      const podsUsed = Math.max(0, ...used.map((q) => Number(q.used.pods ?? 0)));
      if (podsUsed >= peakPods) {
        peakPods = podsUsed;
        peakQuota = used;
      }
      const all = await workloads(kube, ns);
      const rss = all.some((w) => w.kind === 'Rollout') ? await kube.json(['get', 'replicasets.apps', '-n', ns]) : [];
      const pending = [];
      for (const w of all) {
        if (w.kind === 'Rollout') {
          // the Rollout's status counts the new revision only: look at both ReplicaSets
          const bg = w.status?.blueGreen ?? {};
          const ready = (hash) =>
            rss
              .filter(
                (x) =>
                  x.metadata.labels?.['rollouts-pod-template-hash'] === hash &&
                  x.metadata.ownerReferences?.some((o) => o.name === w.metadata.name),
              )
              .reduce((n, x) => n + (x.status?.readyReplicas ?? 0), 0);
          const want = w.spec.replicas ?? 1;
          const previewUp =
            bg.previewSelector &&
            bg.previewSelector !== bg.activeSelector &&
            ready(bg.previewSelector) >= want &&
            ready(bg.activeSelector) >= want;
          if (!previewUp) pending.push(w);
        } else if (!workloadReady(w)) pending.push(w);
      }
      return { done: pending.length === 0, pending };
    },
    { timeoutMs: kube.bound.availableS * 1000, intervalMs: 2000 },
  );
  const events = dedupeEvents(await warningEvents(kube, ns, since)).filter((e) =>
    /exceeded quota|Insufficient|FailedScheduling/.test(`${e.reason} ${e.message}`),
  );
  const synth = ctx.predicted;
  const quotaLine = peakQuota
    .map(
      (q) =>
        `${q.name}: ${['pods', 'requests.cpu', 'requests.memory']
          .filter((k) => q.hard[k] !== undefined)
          .map((k) => `${k} ${q.used[k] ?? 0}/${q.hard[k]}`)
          .join(', ')}`,
    )
    .join('; ');
  let result;
  if (!r.ok) {
    const lines = r.last?.error ? [r.last.error] : await explainNotReady(kube, ns, r.last.pending, since);
    for (const e of events.slice(0, 6))
      lines.push(`event ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason}: ${e.message}`);
    lines.push(
      `peak quota use: ${quotaLine || 'no ResourceQuota'}${synth ? `; synth predicted ${synth.pods} pods at max + surge` : ''}`,
    );
    result = { ok: false, detail: lines };
  } else {
    result = {
      ok: true,
      detail: `${scaled.length ? `scaled ${scaled.join(' ')}; ` : ''}release at maximum admitted and scheduled; peak ${quotaLine || 'no ResourceQuota'}${synth ? ` (synth: ${synth.pods} pods, requests.cpu ${synth.cpu} at max + surge)` : ''}`,
    };
  }
  const back = await restore(ctx, scalers);
  if (!back.ok)
    return {
      ok: false,
      detail: [
        ...[].concat(result.detail),
        'then, back at the synthesized state (releases undone, HPA targets at their minimum, re-applied), not everything became ready again:',
        ...back.lines.map((l) => `  ${l}`),
      ],
    };
  return result;
}

/**
 * `kubectl drain` of `nodes` (bounded by the twin's drain timeout) while every PodDisruptionBudget
 * of the namespace is watched each second: the drain's result, and per budget the lowest margin
 * (healthy pods above its minimum) seen during the drain.
 */
async function drainWatchingBudgets(kube, ns, nodes) {
  const worst = new Map();
  let draining = true;
  const watcher = (async () => {
    while (draining) {
      try {
        for (const p of await kube.json(['get', 'pdb', '-n', ns])) {
          const margin = (p.status?.currentHealthy ?? 0) - (p.status?.desiredHealthy ?? 0);
          if (!worst.has(p.metadata.name) || margin < worst.get(p.metadata.name)) worst.set(p.metadata.name, margin);
        }
      } catch {
        /* next round */
      }
      await sleep(1000);
    }
  })();
  const r = await kube.run(
    ['drain', ...nodes, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${kube.bound.drainS}s`],
    { timeoutMs: (kube.bound.drainS + 30) * 1000 },
  );
  draining = false;
  await watcher;
  return { r, worst };
}
/** Back to the synthesized state: releases aborted, autoscaled workloads at their minimum, objects re-applied. */
async function restore(ctx, scalers = []) {
  const { kube, ns } = ctx;
  // the release's annotation is the harness's (kubectl patch), not Argo CD's: a re-apply would
  // keep it. Removing it takes every template back to the synthesized one (for a Rollout: back to
  // its stable ReplicaSet, the preview goes away)
  for (const w of await workloads(kube, ns)) {
    const kind = { Deployment: 'deployment.apps', StatefulSet: 'statefulset.apps', Rollout: 'rollout.argoproj.io' }[
      w.kind
    ];
    const annotations = w.spec.template.metadata?.annotations ?? {};
    if (annotations['live-twin/release']) {
      // the whole map when it was the only key: a Rollout's pod-template hash tells {} from none
      const path =
        Object.keys(annotations).length === 1
          ? '/spec/template/metadata/annotations'
          : '/spec/template/metadata/annotations/live-twin~1release';
      await kube.run([
        'patch',
        '-n',
        ns,
        `${kind}/${w.metadata.name}`,
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'remove', path }]),
      ]);
    }
  }
  for (const h of scalers) await scaleTarget(kube, ns, h, h.min);
  await kube.run([...ARGOCD_APPLY, '-f', path.join(ctx.dir, 'twin-copy.yaml')]);
  return waitReady(kube, ns, kube.bound.availableS, Date.now());
}

async function scenarioDrain(ctx) {
  const { kube, ns, nodes } = ctx;
  const lines = [];
  const report = [];
  const pdbs = await kube.json(['get', 'pdb', '-n', ns]);
  for (const zone of nodes.zones) {
    const names = (await kube.json(['get', 'nodes', '-l', `topology.kubernetes.io/zone=${zone}`])).map(
      (n) => n.metadata.name,
    );
    const t0 = Date.now();
    const { r, worst } = await drainWatchingBudgets(kube, ns, names);
    const took = (Date.now() - t0) / 1000;
    if (r.code !== 0) {
      const blocked = [...new Set([...r.out.matchAll(/disruption budget[^\n]*/gi)].map((m) => m[0]))];
      const evictPods = [...new Set([...r.out.matchAll(/evicting pod ([\w-]+\/[\w.-]+)/g)].map((m) => m[1]))];
      const budgets = pdbs.filter((p) =>
        evictPods.some((ep) =>
          ep
            .split('/')[1]
            .startsWith(`${(p.spec.selector?.matchLabels ?? {})['app.kubernetes.io/name'] ?? p.metadata.name}-`),
        ),
      );
      lines.push(
        `zone ${zone}: kubectl drain ${names.join(' ')} did not complete within ${kube.bound.drainS}s (exit ${r.code})`,
      );
      for (const p of budgets.length ? budgets : pdbs.filter((x) => (x.status?.disruptionsAllowed ?? 1) === 0)) {
        lines.push(
          `  PodDisruptionBudget ${ns}/${p.metadata.name}: disruptionsAllowed ${p.status?.disruptionsAllowed}, currentHealthy ${p.status?.currentHealthy}, desiredHealthy ${p.status?.desiredHealthy}; ${conditionsOf(p)}`,
        );
      }
      for (const b of blocked.slice(0, 3)) lines.push(`  kubectl: ${b}`);
      await kube.run(['uncordon', ...names]);
      break;
    }
    const below = [...worst.entries()].filter(([, m]) => m < 0);
    for (const [name, m] of below)
      lines.push(`zone ${zone}: PodDisruptionBudget ${ns}/${name} went ${-m} below desiredHealthy during the drain`);
    const ready = await waitReady(kube, ns, kube.bound.availableS, t0);
    if (!ready.ok) {
      lines.push(
        `zone ${zone} drained: not everything rescheduled on the other zones within ${kube.bound.availableS}s:`,
        ...ready.lines.map((l) => `  ${l}`),
      );
      await kube.run(['uncordon', ...names]);
      break;
    }
    const rescheduled = (Date.now() - t0) / 1000;
    await kube.run(['uncordon', ...names]);
    report.push(`${zone} ${took.toFixed(0)}s (all available after ${rescheduled.toFixed(0)}s)`);
  }
  return lines.length
    ? { ok: false, detail: lines }
    : { ok: true, detail: `drained each zone in turn, no PDB went below its minimum: ${report.join(', ')}` };
}

/** Whether a pod tolerates a taint (core/scheduling.ts's rule, for the harness's own check). */
function toleratesTaint(pod, taint) {
  return (pod.spec.tolerations ?? []).some(
    (t) =>
      (!t.effect || t.effect === taint.effect) &&
      (t.operator === 'Exists'
        ? !t.key || t.key === taint.key
        : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
  );
}

/**
 * The spot pool goes (reclaimed, scaled to zero): its pods are where the spot services' preference put
 * them, only pods that tolerate the taint are there, then every spot node is drained at once (the
 * PodDisruptionBudgets sampled as in Drain) and deleted; everything must be available on the on-demand
 * nodes, spread within its constraints. The pool is then created again for the later scenarios.
 */
async function scenarioSpot(ctx) {
  const { kube, ns, spot } = ctx;
  if (!spot) return { ok: true, skip: true, detail: 'no spot pool (cluster.spot.nodes)' };
  const selector = `${spot.label.key}=${spot.label.value}`;
  const spotNodes = (await kube.json(['get', 'nodes', '-l', selector])).map((n) => n.metadata.name);
  const pods = (await kube.json(['get', 'pods', '-n', ns])).filter((p) => p.spec.nodeName);
  const onSpot = pods.filter((p) => spotNodes.includes(p.spec.nodeName));
  const intruders = onSpot.filter((p) => !toleratesTaint(p, spot.taint));
  if (intruders.length)
    return {
      ok: false,
      detail: intruders.map(
        (p) => `Pod ${ns}/${p.metadata.name}: on spot node ${p.spec.nodeName} without tolerating ${spot.taint.key}`,
      ),
    };
  const tolerating = pods.filter((p) => toleratesTaint(p, spot.taint));
  // the preference works: each service placed on spot has a pod there while the pool has room
  const owners = (list) => [
    ...new Set(list.map((p) => p.metadata.labels?.['app.kubernetes.io/name'] ?? p.metadata.name)),
  ];
  const missing = owners(tolerating).filter((o) => !owners(onSpot).includes(o));
  if (missing.length)
    return {
      ok: false,
      detail: missing.map(
        (o) => `${o}: tolerates the spot taint but none of its pods is on a spot node (${spotNodes.join(' ')})`,
      ),
    };
  const before = `${onSpot.length} pods of ${owners(onSpot).join(', ') || 'nothing'} on ${spotNodes.length} spot nodes`;

  const t0 = Date.now();
  const { r, worst } = await drainWatchingBudgets(kube, ns, spotNodes);
  const lines = [];
  if (r.code !== 0) {
    lines.push(
      `kubectl drain of the spot pool (${spotNodes.join(' ')}) did not complete within ${kube.bound.drainS}s (exit ${r.code})`,
    );
    for (const b of [...new Set([...r.out.matchAll(/disruption budget[^\n]*/gi)].map((m) => m[0]))].slice(0, 3))
      lines.push(`  kubectl: ${b}`);
  }
  for (const [name, m] of worst.entries())
    if (m < 0) lines.push(`PodDisruptionBudget ${ns}/${name} went ${-m} below desiredHealthy during the spot drain`);
  if (!lines.length) {
    // the pool is gone: its nodes deleted, as when the cloud reclaims them
    await kube.run(['delete', 'node', ...spotNodes, '--wait=true']);
    const ready = await waitReady(kube, ns, kube.bound.availableS, t0);
    if (!ready.ok)
      lines.push(
        'without the spot pool not everything became available on the on-demand nodes:',
        ...ready.lines.map((l) => `  ${l}`),
      );
    else {
      // the workloads that moved (the others may still show where Drain left them: nothing rebalances)
      const spread = await scenarioSpread(ctx, (w) => toleratesTaint({ spec: w.spec.template.spec }, spot.taint));
      if (!spread.ok)
        lines.push(
          'without the spot pool the pods do not spread as their constraints ask:',
          ...[].concat(spread.detail),
        );
    }
  }
  const took = ((Date.now() - t0) / 1000).toFixed(0);
  // the pool comes back (uncordoned, or created again) for the later scenarios
  const again = await kube.apply(toDocs(nodeObjects(spot.nodes, spot)));
  if (again.code !== 0) lines.push(`creating the spot nodes again: ${again.out.trim()}`);
  await kube.run(['uncordon', ...spotNodes]);
  if (lines.length) return { ok: false, detail: lines };
  const after = (await kube.json(['get', 'pods', '-n', ns])).filter((p) => spotNodes.includes(p.spec.nodeName));
  return {
    ok: true,
    detail: `${before}; the pool drained and deleted, no PDB below its minimum, everything available on on-demand nodes after ${took}s${after.length ? ` (still ${after.length} on spot?)` : ''}`,
  };
}

function newImage(image, suffix) {
  const at = image.indexOf('@sha256:');
  if (at >= 0) {
    const digest = image.slice(at + 8);
    const flipped = [...digest]
      .map((c, i) => (i < 8 ? ((parseInt(c, 16) + suffix.length) % 16).toString(16) : c))
      .join('');
    return `${image.slice(0, at)}@sha256:${flipped}`;
  }
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? `${image}-${suffix}` : `${image}:${suffix}`;
}

async function releaseOne(ctx, name) {
  const { kube, ns, exporter } = ctx;
  const get = () => kube.json(['get', 'rollout.argoproj.io', name, '-n', ns]);
  const activeSelector = async (svc) =>
    (await kube.json(['get', 'service', svc, '-n', ns])).spec.selector?.['rollouts-pod-template-hash'];
  const ro = await get();
  const bg = ro.spec.strategy.blueGreen;
  const container = ro.spec.template.spec.containers[0];
  const stableHash = ro.status?.blueGreen?.activeSelector;
  const steps = [];
  const runsOf = async (hash) =>
    (await kube.json(['get', 'analysisrun.argoproj.io', '-n', ns])).filter(
      (a) =>
        a.metadata.ownerReferences?.some((o) => o.name === name) &&
        (!hash || a.metadata.labels?.['rollouts-pod-template-hash'] === hash),
    );
  const runLine = (a) =>
    `AnalysisRun ${ns}/${a.metadata.name}: ${a.status?.phase}${a.status?.message ? ` (${a.status.message})` : ''}; ${(a.status?.metricResults ?? []).map((m) => `${m.name}=${m.phase}${m.message ? ` (${m.message})` : ''}`).join(', ')}`;

  /**
   * What a failed analysis saw, to tell a wrong release from a wrong measurement: the arguments it
   * ran with, each metric's measured values, and the pods the fixture exporter serves for the
   * pod-template hash it queried (their image, and whether the exporter answers for them as bad).
   */
  const evidenceOf = (a) => {
    const args = (a.spec?.args ?? []).map((x) => `${x.name}=${x.value}`).join(' ');
    const hash = (a.spec?.args ?? []).find((x) => x.name === 'pod-template-hash')?.value;
    const pods = exporter.pods
      .filter((p) => hash && p.name.startsWith(`${name}-${hash}-`))
      .map((p) => `${p.name} ${p.image}${exporter.badImages.has(p.image) ? ' (bad)' : ''}`);
    return [
      `args: ${args}`,
      ...(a.status?.metricResults ?? []).map(
        (m) => `${m.name}: ${(m.measurements ?? []).map((v) => `${v.phase} ${v.value ?? ''}`.trim()).join(', ')}`,
      ),
      `exporter's pods of ${hash}: ${pods.join(', ') || 'none'}`,
    ];
  };

  /** A patch of the Rollout; a refused patch is the scenario's failure (named with the command). */
  const patchRollout = async (what, args) => {
    const r = await kube.run(['patch', '-n', ns, `rollout.argoproj.io/${name}`, ...args]);
    return r.code === 0
      ? undefined
      : { ok: false, detail: [`Rollout ${ns}/${name}: ${what}: ${r.cmd}: ${r.out.trim()}`] };
  };
  const setImage = (image) =>
    patchRollout(`set image ${image}`, [
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }]),
    ]);
  /** Promotion as `kubectl argo rollouts promote` does it: the pause conditions cleared. */
  const promote = () =>
    patchRollout('promote', ['--subresource=status', '--type=merge', '-p', '{"status":{"pauseConditions":null}}']);

  // 1. a good release: preview up, pre-promotion analysis passes, promotion, switch, post-promotion, scale-down
  const good = newImage(container.image, 'twin1');
  // until the controller has seen the new image, the preview selects an earlier revision (the
  // stable one, or the one the Maximum scenario left waiting), whose analysis is not this release's
  const earlier = new Set([stableHash, ro.status?.blueGreen?.previewSelector]);
  let failed = await setImage(good);
  if (failed) return failed;
  const paused = await waitFor(
    async () => {
      const x = await get();
      if (earlier.has(x.status?.blueGreen?.previewSelector)) return { done: false, x, runs: [] };
      const runs = (await runsOf()).filter(
        (a) => a.metadata.labels?.['rollouts-pod-template-hash'] === x.status?.blueGreen?.previewSelector,
      );
      const failed = runs.find((a) => ['Failed', 'Error', 'Inconclusive'].includes(a.status?.phase));
      if (failed || x.status?.abort)
        return {
          done: true,
          fail: failed ? runLine(failed) : `aborted: ${x.status?.message}`,
          evidence: failed ? evidenceOf(failed) : [],
          x,
        };
      const waiting = (x.status?.pauseConditions ?? []).some((c) => c.reason === 'BlueGreenPause');
      return { done: waiting && runs.some((a) => a.status?.phase === 'Successful'), x, runs };
    },
    { timeoutMs: kube.bound.releaseS * 1000, intervalMs: 1000 },
  );
  if (!paused.ok || paused.value.fail) {
    const x = paused.last?.x ?? (await get());
    return {
      ok: false,
      detail: [
        `Rollout ${ns}/${name} (image ${good}): pre-promotion did not pass: ${paused.value?.fail ?? `phase ${x.status?.phase}${x.status?.message ? ` (${x.status.message})` : ''}, pauseConditions ${JSON.stringify(x.status?.pauseConditions ?? [])}`}`,
        ...(paused.value?.evidence ?? []).map((line) => `  ${line}`),
        ...(await runsOf()).map((a) => `  ${runLine(a)}`),
      ],
    };
  }
  const newHash = paused.value.x.status.blueGreen.previewSelector;
  if ((await activeSelector(bg.activeService)) !== stableHash)
    return { ok: false, detail: [`Service ${ns}/${bg.activeService} moved before promotion`] };
  const pre = paused.value.runs.find((a) => a.status?.phase === 'Successful');
  steps.push(
    `preview ${newHash} up, pre-promotion passed (${(pre.status.metricResults ?? []).map((m) => `${m.name} ${m.phase}`).join(', ')})`,
  );
  failed = await promote();
  if (failed) return failed;
  // the design (README, "Blue/green releases"): the old pods stay until the post-promotion analysis
  // passed and at least scaleDownDelaySeconds after the switch (the window of `rollouts undo`)
  const at = {};
  const promotedT0 = Date.now();
  const promoted = await waitFor(
    async () => {
      const x = await get();
      const active = await activeSelector(bg.activeService);
      const rss = await kube.json([
        'get',
        'replicasets.apps',
        '-n',
        ns,
        '-l',
        `rollouts-pod-template-hash=${stableHash}`,
      ]);
      const oldReplicas = rss.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
      const runs = await runsOf(newHash);
      const fail = runs.find((a) => ['Failed', 'Error'].includes(a.status?.phase));
      if (fail) return { done: true, fail: runLine(fail) };
      const now = Date.now();
      if (active === newHash) at.switched ??= now;
      if (runs.some((a) => a.metadata.name.endsWith('-post') && a.status?.phase === 'Successful'))
        at.postPassed ??= now;
      if (oldReplicas === 0) at.scaledDown ??= now;
      return { done: active === newHash && x.status?.phase === 'Healthy' && oldReplicas === 0, active, oldReplicas, x };
    },
    { timeoutMs: kube.bound.releaseS * 1000, intervalMs: 1000 },
  );
  if (!promoted.ok || promoted.value.fail) {
    const l = promoted.last ?? {};
    return {
      ok: false,
      detail: [
        `Rollout ${ns}/${name}: after promotion: ${promoted.value?.fail ?? `active Service selects ${l.active}, want ${newHash}; old ReplicaSet replicas ${l.oldReplicas}; phase ${l.x?.status?.phase} ${l.x?.status?.message ?? ''}`}`,
        ...(await runsOf(newHash)).map((a) => `  ${runLine(a)}`),
      ],
    };
  }
  const hasPost = Boolean(bg.postPromotionAnalysis);
  const secs = (t) => ((t - promotedT0) / 1000).toFixed(0);
  // sampled each second: allow 2 s of sampling error on the delay
  const delay = bg.scaleDownDelaySeconds ?? 30;
  if ((hasPost && !(at.postPassed <= at.scaledDown)) || at.scaledDown - at.switched < (delay - 2) * 1000) {
    return {
      ok: false,
      detail: [
        `Rollout ${ns}/${name}: old ReplicaSet ${stableHash} scaled down too early: Service switched at ${secs(at.switched)}s, post-promotion passed at ${at.postPassed ? `${secs(at.postPassed)}s` : 'never'}, old pods gone at ${secs(at.scaledDown)}s (scaleDownDelaySeconds ${delay})`,
      ],
    };
  }
  steps.push(
    `promoted, Service ${bg.activeService} switched at ${secs(at.switched)}s, ${hasPost ? `post-promotion passed at ${secs(at.postPassed)}s, ` : ''}old ReplicaSet scaled down at ${secs(at.scaledDown)}s`,
  );

  // 2. a bad release: its analysis fails, the release is aborted, the active Service never moves
  const bad = newImage(container.image, 'twin-bad');
  exporter.badImages.add(bad);
  failed = await setImage(bad);
  if (failed) return failed;
  let moved = false;
  const aborted = await waitFor(
    async () => {
      const x = await get();
      if ((await activeSelector(bg.activeService)) !== newHash) moved = true;
      const runs = (await runsOf()).filter(
        (a) =>
          a.metadata.labels?.['rollouts-pod-template-hash'] &&
          a.metadata.labels['rollouts-pod-template-hash'] !== newHash,
      );
      return { done: Boolean(x.status?.abort) && runs.some((a) => a.status?.phase === 'Failed'), x, runs };
    },
    { timeoutMs: kube.bound.releaseS * 1000, intervalMs: 1000 },
  );
  if (!aborted.ok || moved) {
    const x = aborted.last?.x ?? (await get());
    return {
      ok: false,
      detail: [
        `Rollout ${ns}/${name} (bad image ${bad}): ${moved ? 'the active Service moved to the failing release' : `not aborted: phase ${x.status?.phase} ${x.status?.message ?? ''}`}`,
        ...(aborted.last?.runs ?? []).map((a) => `  ${runLine(a)}`),
      ],
    };
  }
  steps.push(
    `bad release aborted by its analysis (${aborted.value.runs
      .filter((a) => a.status?.phase === 'Failed')
      .map((a) =>
        (a.status.metricResults ?? [])
          .filter((m) => m.phase === 'Failed')
          .map((m) => m.name)
          .join('+'),
      )
      .join(', ')} failed), Service never moved`,
  );
  if (!bg.postPromotionAnalysis) return { ok: true, detail: `${name}: ${steps.join('; ')}` };

  // 3. a release that fails only on live traffic: healthy until promoted, failing after; the
  // post-promotion analysis must fail and the active Service go back to the old pods (the rollback
  // the README promises while the old ReplicaSet is kept)
  const late = newImage(container.image, 'twin-late');
  // until the controller has seen the new image, the preview still selects the aborted release,
  // whose failed analysis is not this release's
  const badHashes = new Set(
    aborted.value.runs
      .filter((a) => a.status?.phase === 'Failed')
      .map((a) => a.metadata.labels['rollouts-pod-template-hash']),
  );
  failed = await setImage(late);
  if (failed) return failed;
  const latePaused = await waitFor(
    async () => {
      const x = await get();
      const hash = x.status?.blueGreen?.previewSelector;
      const runs = hash && hash !== newHash && !badHashes.has(hash) ? await runsOf(hash) : [];
      const failed = runs.find((a) => ['Failed', 'Error', 'Inconclusive'].includes(a.status?.phase));
      if (failed) return { done: true, fail: runLine(failed), evidence: evidenceOf(failed) };
      const waiting = (x.status?.pauseConditions ?? []).some((c) => c.reason === 'BlueGreenPause');
      return {
        done: waiting && runs.some((a) => a.metadata.name.endsWith('-pre') && a.status?.phase === 'Successful'),
        hash,
        x,
      };
    },
    { timeoutMs: kube.bound.releaseS * 1000, intervalMs: 1000 },
  );
  if (!latePaused.ok || latePaused.value.fail) {
    const x = latePaused.last?.x ?? {};
    return {
      ok: false,
      detail: [
        `Rollout ${ns}/${name} (image ${late}, healthy until promoted): pre-promotion did not pass: ${latePaused.value?.fail ?? `phase ${x.status?.phase} ${x.status?.message ?? ''}`}`,
        ...(latePaused.value?.evidence ?? []).map((line) => `  ${line}`),
      ],
    };
  }
  const lateHash = latePaused.value.hash;
  exporter.badImages.add(late);
  failed = await promote();
  if (failed) return failed;
  let switched = false;
  const rolledBack = await waitFor(
    async () => {
      const x = await get();
      const active = await activeSelector(bg.activeService);
      if (active === lateHash) switched = true;
      const runs = await runsOf(lateHash);
      const post = runs.find((a) => a.metadata.name.endsWith('-post'));
      return {
        done: switched && Boolean(x.status?.abort) && post?.status?.phase === 'Failed' && active === newHash,
        active,
        post,
        x,
      };
    },
    { timeoutMs: kube.bound.releaseS * 1000, intervalMs: 1000 },
  );
  if (!rolledBack.ok) {
    const l = rolledBack.last ?? {};
    return {
      ok: false,
      detail: [
        `Rollout ${ns}/${name} (image ${late}, failing after promotion): ${!switched ? 'the active Service never switched to it' : `not rolled back: active Service selects ${l.active}, want ${newHash}; abort ${Boolean(l.x?.status?.abort)}; phase ${l.x?.status?.phase} ${l.x?.status?.message ?? ''}`}`,
        ...(l.post ? [`  ${runLine(l.post)}`] : []),
      ],
    };
  }
  steps.push(
    `release failing after promotion: post-promotion ${(rolledBack.value.post.status.metricResults ?? [])
      .filter((m) => m.phase === 'Failed')
      .map((m) => m.name)
      .join('+')} failed, aborted, Service ${bg.activeService} back on ${newHash}`,
  );
  return { ok: true, detail: `${name}: ${steps.join('; ')}` };
}

async function scenarioRelease(ctx) {
  const rollouts = (await workloads(ctx.kube, ctx.ns)).filter(
    (w) => w.kind === 'Rollout' && w.spec.strategy?.blueGreen,
  );
  if (!rollouts.length) return { ok: true, skip: true, detail: 'no blue/green Rollout' };
  const results = await Promise.all(rollouts.map((w) => releaseOne(ctx, w.metadata.name)));
  const failed = results.filter((x) => !x.ok);
  // no restore: the Re-apply scenario puts the synthesized image back (a release of its own)
  return failed.length
    ? { ok: false, detail: failed.flatMap((x) => x.detail) }
    : { ok: true, detail: results.map((x) => x.detail).join(' | ') };
}

async function scenarioReapply(ctx) {
  const { kube } = ctx;
  const file = path.join(ctx.dir, 'twin-copy.yaml');
  const res = await kube.run([...ARGOCD_APPLY, '-f', file]);
  const warnings = res.out.split('\n').filter((l) => /^Warning:/i.test(l));
  if (res.code !== 0 || warnings.length)
    return {
      ok: false,
      detail: [
        `${res.cmd} (exit ${res.code}):`,
        ...res.out
          .trim()
          .split('\n')
          .filter((l) => !/serverside-applied$/.test(l))
          .slice(0, 20),
      ],
    };
  const diff = await kube.run(['diff', '-f', file]);
  if (diff.code === 0)
    return { ok: true, detail: `${ctx.twin.length} objects re-applied, kubectl diff: no difference` };
  const lines = diff.out.split('\n');
  const objs = [
    ...new Set(lines.filter((l) => l.startsWith('diff -u')).map((l) => l.split(/\s+/).pop().split('/').pop())),
  ];
  return {
    ok: false,
    detail: [
      `kubectl diff found drift on ${objs.join(', ') || '(see diff)'}:`,
      ...lines.filter((l) => /^[-+] /.test(l)).slice(0, 40),
    ],
  };
}

const SCENARIOS = [
  ['Apply', scenarioApply],
  ['Spread', scenarioSpread],
  ['Maximum', scenarioMaximum],
  ['Drain', scenarioDrain],
  ['Spot', scenarioSpot],
  ['Release', scenarioRelease],
  ['Re-apply', scenarioReapply],
];

// ---------------------------------------------------------------------------
/**
 * The CRDs a target needs: those of the kinds it uses, and with a Rollout all of Argo Rollouts'
 * (its controller lists AnalysisRuns, Experiments and ClusterAnalysisTemplates at start).
 */
function crdsFor(crds, objects) {
  const all = crds.yaml
    .split('---\n')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => JSON.parse(d));
  const used = new Set(objects.map((o) => `${o.apiVersion.split('/')[0]}/${o.kind}`));
  const rollouts = objects.some((o) => o.kind === 'Rollout');
  const picked = all.filter(
    (c) =>
      used.has(`${c.spec.group}/${c.spec.names.kind}`) ||
      (rollouts &&
        c.spec.group === 'argoproj.io' &&
        ['Rollout', 'AnalysisRun', 'AnalysisTemplate', 'ClusterAnalysisTemplate', 'Experiment'].includes(
          c.spec.names.kind,
        )),
  );
  return { yaml: picked.map((c) => `---\n${JSON.stringify(c)}\n`).join(''), count: picked.length };
}

function predictedCapacity(objects) {
  try {
    const { capacityOf, format } = requireCache(path.join(REPO, 'build/pipeline/capacity.js'));
    const c = capacityOf(objects.map((o) => o.data));
    return { pods: c.atMax.pods, cpu: format('requestsCpu', c.atMax.requestsCpu) };
  } catch {
    return undefined;
  }
}
let requireCache;

/** Runs every scenario on one target; returns [{ scenario, ok, detail }]. */
async function runTarget(label, dir, assets, crds, only) {
  const { objects, errors } = loadObjects(dir);
  if (errors.length) return [{ scenario: 'Apply', ok: false, detail: errors }];
  const twinConfig = await twinConfigOf(dir);
  const bound = { ...DEFAULT_BOUND, ...(twinConfig.bounds ?? {}) };
  const nodes = twinConfig.nodes ?? DEFAULT_NODES;
  const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.name);
  const ns = twinConfig.namespace ?? namespaces[0];
  const workDir = fs.mkdtempSync(path.join(TMP, `${label.replace(/[^a-z0-9]+/gi, '-')}-`));
  const results = [];
  const t0 = Date.now();
  const cp = await startControlPlane({ assets, dir: workDir, serviceAccountAdmission: true });
  const procs = [];
  let exporter;
  try {
    const kube = new Kube({ kubectl: path.join(assets, 'kubectl'), kubeconfig: cp.kubeconfig, tmp: workDir });
    // per target (targets may run side by side): the bounds of its waits, the workload kinds it has
    kube.bound = bound;
    kube.workloadResources = 'deployments.apps,statefulsets.apps';
    const phase = (what) =>
      process.env.LIVE_TEST_DEBUG && log(`    ${label}: ${what} at ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    phase('control plane up');
    procs.push(...(await startControllers({ assets, dir: workDir, cp })));
    await installCrds(kube, crdsFor(crds, objects));
    phase('CRDs established');
    const hasRollouts = objects.some((o) => o.kind === 'Rollout');
    kube.workloadResources = `deployments.apps,statefulsets.apps${hasRollouts ? ',rollouts.argoproj.io' : ''}`;
    let promUrl;
    if (hasRollouts) {
      exporter = new FixtureExporter({ namespace: ns });
      exporter.closer = () => exporter.server.close();
      closers.add(exporter.closer);
      exporter.learn(
        objects
          .filter((o) => o.kind === 'AnalysisTemplate')
          .flatMap((o) => (o.data.spec.metrics ?? []).map((m) => m.provider?.prometheus?.query).filter(Boolean)),
      );
      const prom = await startPrometheus({ dir: workDir, exporterPort: await exporter.listen() });
      procs.push(prom.proc);
      promUrl = prom.url;
      procs.push(await startRollouts({ assets, dir: workDir, cp }));
    }
    // nodes, namespaces owned elsewhere, storage
    const spot = twinConfig.spot;
    let r = await kube.apply(toDocs([...nodeObjects(nodes), ...(spot ? nodeObjects(spot.nodes, spot) : [])]));
    if (r.code !== 0) throw new Error(`creating nodes: ${r.out}`);
    for (const n of externalNamespaces(objects)) await kube.run(['create', 'namespace', n]);
    const storage = storageObjects(objects);
    if (storage.length) {
      r = await kube.apply(toDocs(storage));
      if (r.code !== 0) throw new Error(`creating storage: ${r.out}`);
    }
    phase('nodes and storage created');
    const ready = await waitFor(
      async () => {
        const ns2 = await kube.json(['get', 'nodes']);
        return {
          done:
            ns2.length ===
              nodes.zones.length * nodes.perZone + (spot ? spot.nodes.zones.length * spot.nodes.perZone : 0) &&
            ns2.every((n) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')),
        };
      },
      { timeoutMs: 60_000 },
    );
    if (!ready.ok) throw new Error('kwok nodes not Ready after 60s');
    log(
      `  ${label}: ${nodes.zones.length} zones x ${nodes.perZone} nodes (${nodes.cpu} CPU, ${nodes.memory}, ${nodes.pods} pods each${
        nodes.labels
          ? `, labelled ${Object.entries(nodes.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}`
          : ''
      })${spot ? ` + spot ${spot.nodes.zones.length} x ${spot.nodes.perZone} (${spot.taint.key}=${spot.taint.value}:${spot.taint.effect})` : ''}${twinConfig.source ? ` from ${twinConfig.source}` : ''}; up in ${((Date.now() - t0) / 1000).toFixed(0)}s`,
    );

    const twin = twinCopy(objects, promUrl);
    fs.writeFileSync(path.join(workDir, 'twin-copy.yaml'), toDocs(twin));
    const ctx = {
      kube,
      ns,
      objects,
      twin,
      nodes,
      spot,
      exporter,
      dir: workDir,
      t0: Date.now(),
      predicted: predictedCapacity(objects),
    };
    if (exporter) {
      // the exporter follows the Rollouts' pods
      const follow = async () => {
        while (!cleaned() && exporter.server.listening) {
          try {
            const pods = await kube.json(['get', 'pods', '-n', ns, '-l', 'rollouts-pod-template-hash']);
            const known = new Map(exporter.pods.map((p) => [p.name, p]));
            exporter.pods = pods
              .filter((p) => p.status?.phase === 'Running')
              .map(
                (p) =>
                  known.get(p.metadata.name) ?? {
                    name: p.metadata.name,
                    image: p.spec.containers[0].image,
                    since: Date.now(),
                  },
              );
          } catch {
            /* next round */
          }
          await sleep(1000);
        }
      };
      follow();
    }
    // Argo CD applies Namespaces (and CRDs) first; server-side apply, like Argo CD's
    r = await kube.run([...ARGOCD_APPLY, '-f', '-'], { input: toDocs(twin.filter((o) => o.kind === 'Namespace')) });
    r = await kube.run([...ARGOCD_APPLY, '-f', path.join(workDir, 'twin-copy.yaml')]);
    const warnings = r.out.split('\n').filter((l) => /^Warning:|^Error|^error/i.test(l));
    if (r.code !== 0 || warnings.length) {
      results.push({
        scenario: 'Apply',
        ok: false,
        detail: [`kubectl apply (exit ${r.code}):`, ...warnings.slice(0, 20)],
      });
      return results;
    }
    for (const [name, fn] of SCENARIOS) {
      if (only && !only.includes(name)) continue;
      const s0 = Date.now();
      let out;
      try {
        out = await fn(ctx);
      } catch (err) {
        out = { ok: false, detail: [`harness error: ${err?.stack ?? err}`] };
      }
      const secs = ((Date.now() - s0) / 1000).toFixed(0);
      results.push({ scenario: name, ok: out.ok, skip: out.skip, detail: out.detail, secs });
      const first = Array.isArray(out.detail) ? out.detail[0] : out.detail;
      log(`  ${out.ok ? (out.skip ? 'SKIP' : 'PASS') : 'FAIL'} ${label} ${name} (${secs}s): ${first}`);
      if (!out.ok && Array.isArray(out.detail)) for (const l of out.detail.slice(1)) log(`       ${l}`);
      if (!out.ok && name === 'Apply') break; // nothing else means anything
    }
    return results;
  } catch (err) {
    results.push({
      scenario: 'harness',
      ok: false,
      detail: [
        String(err?.message ?? err),
        ...procs.filter((p) => p.exited).map((p) => `${p.name} exited (${p.exitCode}):\n${tail(p.logFile, 10)}`),
      ],
    });
    return results;
  } finally {
    if (exporter) {
      closers.delete(exporter.closer);
      await exporter.close();
    }
    for (const p of procs.reverse()) await stopProcess(p);
    await cp.stop();
    if (!process.env.LIVE_TEST_KEEP_TMP) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** A deployment target has a Namespace; argocd/ (Applications only) is not one. */
const isTarget = (dir) => loadObjects(dir).objects.some((o) => o.kind === 'Namespace');

async function main() {
  const argv = process.argv.slice(2);
  // --self-test or --self-test=bad-analysis,bad-pdb (some fixtures only)
  const selfTestArg = argv.find((a) => a === '--self-test' || a.startsWith('--self-test='));
  const onlySelfTest = Boolean(selfTestArg);
  // --ci: what .ci/run runs within CI's budget (README, "CI"): the self-test, every target of dist/
  // and the production target(s) of each example
  const ci = argv.includes('--ci');
  const selfTests = selfTestArg?.includes('=')
    ? SELF_TESTS.filter((t) => selfTestArg.slice('--self-test='.length).split(',').includes(path.basename(t.dir)))
    : SELF_TESTS;
  const only = argv
    .find((a) => a.startsWith('--scenarios='))
    ?.slice('--scenarios='.length)
    .split(',');
  const dirs = argv.filter((a) => !a.startsWith('--'));
  const runSelfTest = onlySelfTest || dirs.length === 0;
  const started = Date.now();
  const { createRequire } = await import('node:module');
  requireCache = createRequire(import.meta.url);

  const assets = assetsDir();
  const timer = setTimeout(() => {
    console.error(`live-test: FAILED: overall timeout of ${TIMEOUT_S}s exceeded (LIVE_TEST_TIMEOUT)`);
    cleanup();
    process.exit(3);
  }, TIMEOUT_S * 1000);
  timer.unref();
  const crds = prepareCrds(CRD_DIR);

  const lines = []; // { name, ok, detail }
  if (runSelfTest) {
    const results = await pool(selfTests, JOBS, async (t) => {
      const dir = path.join(HERE, t.dir);
      log(`self-test ${t.dir}: expecting ${t.scenario} to FAIL`);
      const res = await runTarget(t.dir, dir, assets, crds, t.scenario === 'Apply' ? ['Apply'] : ['Apply', t.scenario]);
      const hit = res.find((x) => x.scenario === t.scenario);
      const report = hit
        ? Array.isArray(hit.detail)
          ? hit.detail.join('\n')
          : hit.detail
        : res.map((x) => `${x.scenario}: ${[].concat(x.detail).join('\n')}`).join('\n');
      const missing = t.mustMention.filter((m) => !report.includes(m));
      const ok = hit && !hit.ok && !missing.length;
      const why = !hit
        ? `scenario ${t.scenario} did not run: ${report}`
        : hit.ok
          ? `${t.scenario} passed on a bad fixture`
          : missing.length
            ? `report does not mention: ${missing.join(' | ')}\n${report}`
            : '';
      log(`${ok ? 'PASS' : 'FAIL'} self-test ${t.dir} (${t.scenario} failed as expected${ok ? '' : `: NO: ${why}`})`);
      return { name: `self-test ${t.dir} ${t.scenario}`, ok, detail: why };
    });
    lines.push(...results);
  }
  let targets = dirs.map((d) => path.resolve(d));
  if (!onlySelfTest && !dirs.length) {
    targets = targetFolders(
      (dir) =>
        isTarget(dir) &&
        (!ci || !path.relative(REPO, dir).startsWith('examples') || path.basename(dir).startsWith('production')),
    );
    if (!targets.length)
      lines.push({ name: 'targets', ok: false, detail: 'no targets under dist/ (run `npm run synth` first)' });
  }
  const perTarget = await pool(targets, JOBS, async (dir) => {
    const label = rel(dir);
    log(`target ${label}`);
    const t0 = Date.now();
    const res = await runTarget(label, dir, assets, crds, only);
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    log(`${res.every((r) => r.ok) ? 'PASS' : 'FAIL'} target ${label} (${secs}s)`);
    return { label, secs, res };
  });
  for (const { label, res } of perTarget) {
    for (const r of res) {
      if (r.skip) continue;
      lines.push({
        name: `${label} ${r.scenario}`,
        ok: r.ok,
        detail: Array.isArray(r.detail) ? r.detail.join('\n') : r.detail,
      });
    }
  }
  // one line per target: its scenarios and their seconds (the README's times table)
  if (perTarget.length > 1) {
    console.log('\nlive-test: times per target (s): twin start + scenarios');
    for (const { label, secs, res } of perTarget)
      console.log(
        `  ${label} ${secs}s: ${res.map((r) => `${r.scenario} ${r.ok ? (r.skip ? 'skip' : 'ok') : 'FAIL'} ${r.secs ?? '-'}`).join(', ')}`,
      );
  }

  const failed = lines.filter((l) => !l.ok);
  if (failed.length) {
    console.log('\n================ live-test failures ================');
    for (const f of failed) console.log(`\nFAIL ${f.name}\n  ${String(f.detail).split('\n').join('\n  ')}`);
    console.log('');
  }
  log(`run time ${((Date.now() - started) / 1000).toFixed(0)}s`);
  console.log(`live-test: ${lines.length - failed.length} passed, ${failed.length} failed`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (err) => {
    console.error(`live-test: FAILED: ${err?.stack ?? err}`);
    cleanup();
    process.exit(2);
  },
);
