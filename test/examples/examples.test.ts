import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { exampleArgs, EXAMPLES_DIR, listExamples } from '../../bin/synth-examples';
import { loadPlatform } from '../../config/load';
import { TargetConfig } from '../../config/types';
import { find, Manifest, ofKind } from '../../core/manifest';
import { checkRestricted, podTemplateOf } from '../../pipeline/pod-security';
import { MARKER } from '../../pipeline/output';
import { checkPolicies } from '../../pipeline/policy';
import { mayRunOn, untoleratedTaints } from '../../core/scheduling';
import { onDemandNodesOf, spotNodeOf } from '../../pipeline/placement-check';
import { synthesizeAll, TargetOutput } from '../../pipeline/synth';
import { crdErrors } from '../crd-schema';
import { ROOT, runSynth } from '../helpers';
import { disagreements, mayCallByMesh, mayCallByNetwork } from '../mesh-evaluator';

/**
 * The five seed systems of ../shared/seeds, each an environments/ configuration under examples/
 * that the same constructs synthesize into examples/<system>/dist. Every example must pass every
 * check the reference platform passes, and carry what its seed document asks for.
 */
jest.setTimeout(120_000);

type Obj = Record<string, any>;

/** Example folder → the seed document it is written from. */
const SEEDS: Record<string, string> = {
  flashmm: '000',
  'autonomous-trading-system': '001',
  'hive-mind': '002',
  'signal-trading-system': '003',
  alphintra: '004',
};
const EXAMPLES = Object.keys(SEEDS).sort();
const TARGETS = ['development', 'production', 'staging'];
/** Kinds whose CRDs test/crd-schema.ts validates against. */
const CRD_KINDS = [
  'Application',
  'AppProject',
  'Rollout',
  'AnalysisTemplate',
  'Schedule',
  'ServiceMonitor',
  'PodMonitor',
  'ScaledObject',
  'AuthorizationPolicy',
  'PeerAuthentication',
];

const cache = new Map<string, { configs: TargetConfig[]; outputs: TargetOutput[] }>();

/** One example, loaded and synthesized in memory once per test file. */
function example(name: string): { configs: TargetConfig[]; outputs: TargetOutput[] } {
  let loaded = cache.get(name);
  if (!loaded) {
    const configs = loadPlatform(path.join(ROOT, EXAMPLES_DIR, name, 'environments'));
    loaded = { configs, outputs: synthesizeAll(configs) };
    cache.set(name, loaded);
  }
  return loaded;
}

function manifests(name: string, target: string): Manifest[] {
  const output = example(name).outputs.find((o) => o.folder === target);
  if (!output) throw new Error(`example ${name} has no target ${target}`);
  return output.manifests;
}

function config(name: string, target: string): TargetConfig {
  const found = example(name).configs.find((c) => c.target === target);
  if (!found) throw new Error(`example ${name} has no target ${target}`);
  return found;
}

/** Every alerting rule of a target, with the PrometheusRule it is in. */
function alerts(name: string, target: string): Array<Obj & { owner: string }> {
  return ofKind(manifests(name, target), 'PrometheusRule').flatMap((rule) =>
    ((rule as Obj).spec.groups as Obj[]).flatMap((g) =>
      (g.rules as Obj[]).filter((r) => r.alert).map((r) => ({ ...r, owner: rule.metadata.name })),
    ),
  );
}

const hpa = (name: string, target: string, workload: string) =>
  ofKind(manifests(name, target), 'HorizontalPodAutoscaler').find(
    (h) => (h as Obj).spec.scaleTargetRef.name === workload,
  ) as Obj | undefined;

const scaledObject = (name: string, target: string, workload: string) =>
  ofKind(manifests(name, target), 'ScaledObject').find((h) => (h as Obj).spec.scaleTargetRef.name === workload) as
    Obj | undefined;

/**
 * A workload scaled by KEDA on trading metrics: its ScaledObject (and no HPA of ours, since KEDA
 * makes and owns one), the prometheus triggers by name, and its resource triggers.
 */
function kedaScaled(name: string, target: string, workload: string) {
  const scaled = scaledObject(name, target, workload);
  expect(scaled).toBeDefined();
  expect(hpa(name, target, workload)).toBeUndefined();
  const triggers = scaled!.spec.triggers as Obj[];
  const { namespace, monitoring } = config(name, target);
  const prometheus: Record<string, Obj> = Object.fromEntries(
    triggers.filter((t) => t.type === 'prometheus').map((t) => [t.name, t]),
  );
  for (const t of Object.values(prometheus)) {
    // the target's Prometheus, and a query scoped to this namespace and the service's job
    expect(t.metadata.serverAddress).toBe(monitoring.prometheusUrl ?? 'http://prometheus-operated.monitoring.svc:9090');
    expect(t.metadata.query).toContain(`namespace="${namespace}",job="${workload}"`);
  }
  const resources = Object.fromEntries(
    triggers.filter((t) => t.type !== 'prometheus').map((t) => [t.type, Number(t.metadata.value)]),
  );
  // KEDA's HPA owns the replicas: the workload has none of its own
  const workloadObject = manifests(name, target).find(
    (m) => m.kind === scaled!.spec.scaleTargetRef.kind && m.metadata.name === workload,
  ) as Obj;
  expect(workloadObject.spec).not.toHaveProperty('replicas');
  return { spec: scaled!.spec as Obj, prometheus, resources };
}

/** The workloads of an example's target whose pods tolerate its spot pool's taint (semantic, core/scheduling.ts). */
function onSpot(name: string, target: string): string[] {
  const node = spotNodeOf(config(name, target));
  return manifests(name, target)
    .filter((m) => ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind))
    .filter((m) => untoleratedTaints(podTemplateOf(m)!.spec, node).length === 0)
    .map((m) => m.metadata.name);
}

describe('examples/', () => {
  it('holds the five seed systems, each with a README entry naming its seed', () => {
    expect(listExamples(ROOT)).toEqual(EXAMPLES);
    const readme = fs.readFileSync(path.join(ROOT, EXAMPLES_DIR, 'README.md'), 'utf8');
    for (const [name, seed] of Object.entries(SEEDS)) {
      const row = readme.split('\n').find((line) => line.includes(`[${name}]`));
      expect([name, row]).toEqual([name, expect.stringContaining(`seeds/${seed}`)]);
    }
  });

  describe.each(EXAMPLES)("%s's README: what its seed asks, quoted from the seed, and where it is in dist/", (name) => {
    const readme = () => fs.readFileSync(path.join(ROOT, EXAMPLES_DIR, name, 'README.md'), 'utf8');
    /** The table of "What the seed asks of Kubernetes, and where it is": its rows' cells. */
    const rows = () => {
      const section = readme()
        .split(/^## /m)
        .find((s) => s.startsWith('What the seed asks of Kubernetes'));
      expect(section).toBeDefined();
      return section!
        .split('\n')
        .filter((line) => line.startsWith('| ') && !line.startsWith('| ---') && !line.startsWith('| the seed asks'))
        .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, '')));
    };

    it('names its seed and has a row per ask', () => {
      expect(readme()).toContain(`seeds/${SEEDS[name]}`);
      expect(rows().length).toBeGreaterThanOrEqual(3);
    });

    it('quotes the seed document word for word', () => {
      const seedFile = fs.readdirSync(path.join(ROOT, '..', 'shared', 'seeds')).find((f) => f.startsWith(SEEDS[name]))!;
      // the seed's markdown emphasis is not part of the words
      const seed = fs.readFileSync(path.join(ROOT, '..', 'shared', 'seeds', seedFile), 'utf8').replace(/\*\*/g, '');
      const quotes = rows().flatMap(([ask]) => [...ask.matchAll(/"([^"]+)"/g)].map((m) => m[1]));
      expect(quotes.length).toBeGreaterThan(0);
      for (const quote of quotes)
        for (const words of quote.split(' … ').map((w) => w.trim()))
          expect([name, words, seed.includes(words)]).toEqual([name, words, true]);
    });

    it('points at files that exist in its dist/', () => {
      const dist = path.join(ROOT, EXAMPLES_DIR, name, 'dist');
      /** The files a `dist/...` path names: `{a,b}` is either folder, `*` any name in the folder. */
      const expand = (ref: string): string[] => {
        const brace = /\{([^}]+)\}/.exec(ref);
        if (brace) return brace[1].split(',').flatMap((alt) => expand(ref.replace(brace[0], alt)));
        const [folder, file] = ref.replace(/^dist\//, '').split('/');
        const folders =
          folder === '*'
            ? fs
                .readdirSync(dist, { withFileTypes: true })
                .filter((e) => e.isDirectory() && e.name !== 'argocd')
                .map((e) => e.name)
            : [folder];
        return folders.flatMap((f) => {
          const names = fs.readdirSync(path.join(dist, f));
          const re = new RegExp(`^${(file ?? '').replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
          const hits = file ? names.filter((n) => re.test(n)) : names;
          return hits.length ? hits.map((n) => `${f}/${n}`) : [`${f}/${file} (missing)`];
        });
      };
      const refs = rows().flatMap(([, , where]) => [...(where ?? '').matchAll(/`(dist\/[^`]+)`/g)].map((m) => m[1]));
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect([ref, expand(ref).filter((f) => f.endsWith('(missing)'))]).toEqual([ref, []]);
    });
  });

  it('names its seed in the header comment of every environment file, with the published schema', () => {
    for (const name of EXAMPLES) {
      const dir = path.join(ROOT, EXAMPLES_DIR, name, 'environments');
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
        const text = fs.readFileSync(path.join(dir, file), 'utf8');
        expect([name, file, text.split('\n')[0]]).toEqual([
          name,
          file,
          '# yaml-language-server: $schema=../../../environments/schema.json',
        ]);
        expect([name, file, text.slice(0, 400)]).toEqual([name, file, expect.stringContaining(`seeds/${SEEDS[name]}`)]);
      }
    }
  });

  it('are not known to any construct, chart or library by name', () => {
    const SYSTEM_NAME = /flashmm|\bhive(?:[-_ ]?mind)?\b|alphintra|autonomous|signal[-_ ]trading/i;
    const hits: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts')) {
          fs.readFileSync(full, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (SYSTEM_NAME.test(line)) hits.push(`${path.relative(ROOT, full)}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    for (const dir of ['constructs', 'charts', 'config', 'core', 'pipeline']) walk(path.join(ROOT, dir));
    expect(hits).toEqual([]);
  });
});

describe.each(EXAMPLES)('example %s', (name) => {
  it('synthesizes development, staging and production, and its Argo CD folder', () => {
    expect(example(name).configs.map((c) => c.target)).toEqual(TARGETS);
    expect(
      example(name)
        .outputs.map((o) => o.folder)
        .sort(),
    ).toEqual(['argocd', ...TARGETS]);
    for (const target of TARGETS) expect(manifests(name, target).length).toBeGreaterThan(10);
  });

  it.each(TARGETS)('passes the platform policy in %s', (target) => {
    expect(checkPolicies(config(name, target), manifests(name, target))).toEqual([]);
  });

  it.each(TARGETS)('runs every pod template in %s under Pod Security "restricted"', (target) => {
    const templates = manifests(name, target)
      .map((m) => ({ m, t: podTemplateOf(m) }))
      .filter((x) => x.t);
    expect(templates.length).toBeGreaterThan(0);
    for (const { m, t } of templates)
      expect([m.kind, m.metadata.name, checkRestricted(t!.spec, t!.annotations)]).toEqual([
        m.kind,
        m.metadata.name,
        [],
      ]);
  });

  it('writes custom resources that their CRDs accept', () => {
    for (const output of example(name).outputs) {
      for (const m of output.manifests.filter((x) => CRD_KINDS.includes(x.kind))) {
        expect([output.folder, m.kind, m.metadata.name, crdErrors(m)]).toEqual([
          output.folder,
          m.kind,
          m.metadata.name,
          [],
        ]);
      }
    }
  });

  it.each(TARGETS)('writes alerting rules for %s that promtool check rules accepts', (target) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rules-${name}-${target}-`));
    const files = ofKind(manifests(name, target), 'PrometheusRule').map((rule) => {
      const file = path.join(dir, `${rule.metadata.name}.yaml`);
      fs.writeFileSync(file, stringify({ groups: (rule as Obj).spec.groups }));
      return file;
    });
    expect(files.length).toBeGreaterThan(0);
    // promtool comes from the Debian package "prometheus" (see test/monitoring/promtool.test.ts)
    const run = spawnSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect([run.status, `${run.stdout}${run.stderr}`]).toEqual([0, expect.not.stringMatching(/FAILED/)]);
  });

  it('writes no Secret values: every secret comes from the secret manager by reference', () => {
    for (const target of TARGETS) {
      expect(ofKind(manifests(name, target), 'Secret')).toEqual([]);
      for (const es of ofKind(manifests(name, target), 'ExternalSecret')) {
        for (const item of (es as Obj).spec.data ?? []) expect(item.remoteRef.key).toEqual(expect.any(String));
      }
    }
  });

  it('points its Argo CD Applications at examples/<system>/dist in the repository', () => {
    const argocd = example(name).outputs.find((o) => o.folder === 'argocd')!.manifests;
    const applications = ofKind(argocd, 'Application') as Obj[];
    const paths = applications.map((a) => a.spec.source.path).sort();
    expect(paths).toEqual(
      [...TARGETS.map((t) => `${EXAMPLES_DIR}/${name}/dist/${t}`), `${EXAMPLES_DIR}/${name}/dist/argocd`].sort(),
    );
  });

  it('has a committed dist/ laid out like the reference dist/ and up to date', () => {
    const dist = path.join(ROOT, EXAMPLES_DIR, name, 'dist');
    expect(fs.readdirSync(dist).sort()).toEqual([MARKER, 'argocd', ...TARGETS].sort());
    for (const output of example(name).outputs) {
      expect(fs.readdirSync(path.join(dist, output.folder)).sort()).toEqual([...output.files.keys()].sort());
    }
    const run = runSynth([...exampleArgs(name), '--check']);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain('is up to date');
  });
});

describe('FlashMM (seeds/000)', () => {
  const prod = () => manifests('flashmm', 'production');

  it('auto-scales the market maker from 3 to 10 replicas in production on CPU, memory and trading metrics (KEDA)', () => {
    const { spec, prometheus, resources } = kedaScaled('flashmm', 'production', 'flashmm');
    expect(spec).toMatchObject({ minReplicaCount: 3, maxReplicaCount: 10, scaleTargetRef: { kind: 'Rollout' } });
    expect(resources).toEqual({ cpu: 70, memory: 80 });
    // "custom metrics for trading performance": orders queued per pod, and P95 order latency held
    // at half the 50ms the order latency alert fires at
    expect(prometheus['order-queue-depth']).toMatchObject({
      metricType: 'AverageValue',
      metadata: { query: 'sum(trading_order_queue_depth{namespace="flashmm",job="flashmm"})', threshold: '50' },
    });
    expect(prometheus['order-latency-p95'].metricType).toBe('Value');
    expect(prometheus['order-latency-p95'].metadata.query).toMatch(
      /^histogram_quantile\(0\.95, sum by \(le\) \(rate\(trading_order_latency_seconds_bucket\{[^}]+\}\[2m\]\)\)\)$/,
    );
    const alert = alerts('flashmm', 'production').find((a) => a.alert === 'OrderLatencyHigh')!;
    expect(Number(prometheus['order-latency-p95'].metadata.threshold)).toBeLessThan(
      Number(/> ([0-9.]+)$/.exec(alert.expr)![1]),
    );
    // the alert on the ceiling watches the HPA KEDA makes
    expect(alerts('flashmm', 'production').find((a) => a.alert === 'HPAAtMaxReplicas')!.expr).toContain(
      'horizontalpodautoscaler="keda-hpa-flashmm"',
    );
    // the VPA only recommends where the HPA scales on both resources
    const vpa = find(prod(), 'VerticalPodAutoscaler', 'flashmm') as Obj;
    expect(vpa.spec.updatePolicy.updateMode).toBe('Off');
  });

  it('releases blue/green in production and rolls in staging', () => {
    expect((find(prod(), 'Rollout', 'flashmm') as Obj).spec.strategy.blueGreen).toMatchObject({
      autoPromotionEnabled: false,
      activeService: 'flashmm',
    });
    expect(find(manifests('flashmm', 'staging'), 'Deployment', 'flashmm')).toBeDefined();
  });

  it('keeps Redis state on a volume and backs it up every 15 minutes (RPO < 15m) and daily', () => {
    expect(
      (find(prod(), 'StatefulSet', 'redis') as Obj).spec.volumeClaimTemplates[0].spec.resources.requests.storage,
    ).toBe('10Gi');
    expect(
      ofKind(prod(), 'Schedule')
        .map((s) => (s as Obj).spec.schedule)
        .sort(),
    ).toEqual(['*/15 * * * *', '0 2 * * *']);
  });

  it('runs Redis with Sentinel in staging and production (three pods, one per zone, quorum 2), one redis in development', () => {
    const set = find(prod(), 'StatefulSet', 'redis') as Obj;
    expect(set.spec.replicas).toBe(3);
    expect(set.spec.template.spec.containers.map((c: Obj) => c.name)).toContain('sentinel');
    expect(
      set.spec.template.spec.topologySpreadConstraints.find(
        (c: Obj) => c.topologyKey === 'topology.kubernetes.io/zone',
      ),
    ).toMatchObject({ whenUnsatisfiable: 'DoNotSchedule' });
    expect((find(prod(), 'ConfigMap', 'redis-sentinel-scripts') as Obj).data['start-sentinel.sh']).toContain(
      'sentinel monitor flashmm $master 6379 2\n',
    );
    const env = (find(prod(), 'Rollout', 'flashmm') as Obj).spec.template.spec.containers[0].env as Obj[];
    expect(env.filter((e) => e.name.startsWith('REDIS_SENTINEL_'))).toEqual([
      { name: 'REDIS_SENTINEL_HOSTS', value: 'redis-sentinel:26379' },
      { name: 'REDIS_SENTINEL_MASTER', value: 'flashmm' },
    ]);
    expect(env.find((e) => e.name === 'REDIS_URL')).toBeUndefined();
    expect((find(manifests('flashmm', 'staging'), 'StatefulSet', 'redis') as Obj).spec.replicas).toBe(3);
    // development: one redis, addressed directly
    const development = manifests('flashmm', 'development');
    expect((find(development, 'StatefulSet', 'redis') as Obj).spec.replicas).toBe(1);
    expect(
      ((find(development, 'Deployment', 'flashmm') as Obj).spec.template.spec.containers[0].env as Obj[]).find(
        (e) => e.name === 'REDIS_URL',
      ),
    ).toEqual({ name: 'REDIS_URL', value: 'redis://redis:6379/0' });
  });

  it('keeps the market maker off spot capacity (latency-critical by its order latency alert), and redis (its volume)', () => {
    for (const target of TARGETS) {
      const spot = onSpot('flashmm', target);
      expect([target, spot.includes('flashmm'), spot.includes('redis')]).toEqual([target, false, false]);
      const { services } = config('flashmm', target);
      expect([target, services.flashmm.placement ?? 'on-demand', services.redis.placement ?? 'on-demand']).toEqual([
        target,
        'on-demand',
        'on-demand',
      ]);
    }
  });

  it('runs the staging load test on spot capacity ("Cost optimization with spot instances"), falling back to on-demand', () => {
    expect(onSpot('flashmm', 'staging')).toEqual(['load-generator']);
    const c = config('flashmm', 'staging');
    const pod = podTemplateOf(find(manifests('flashmm', 'staging'), 'Deployment', 'load-generator'))!.spec;
    expect(mayRunOn(pod, spotNodeOf(c))).toBe(true);
    // the pool can be reclaimed: the on-demand nodes take the load test back
    expect(onDemandNodesOf(c).every((n) => mayRunOn(pod, n))).toBe(true);
    // it drives the market maker's API, and nothing else may reach it but Prometheus's scrape
    const load = find(manifests('flashmm', 'staging'), 'NetworkPolicy', 'load-generator') as Obj;
    expect(JSON.stringify(load.spec.egress)).toContain('"port":8000');
    expect(JSON.stringify(load.spec.ingress)).not.toContain('"port":8000');
    // no load test in development or production, and nothing else on spot there
    for (const target of ['development', 'production']) {
      expect([target, Object.keys(config('flashmm', target).services).sort()]).toEqual([target, ['flashmm', 'redis']]);
      expect([target, onSpot('flashmm', target)]).toEqual([target, []]);
    }
  });

  it('alerts on P95 order latency over 50ms and serves its API over TLS', () => {
    const latency = alerts('flashmm', 'production').find(
      (a) => a.alert === 'OrderLatencyHigh' || /trading_order_latency_seconds/.test(a.expr),
    )!;
    expect(latency.expr).toMatch(/histogram_quantile\(0\.95,/);
    expect(latency.expr).toMatch(/> 0\.05$/);
    const ingress = find(prod(), 'Ingress', 'flashmm') as Obj;
    expect(ingress.spec.tls[0].hosts).toEqual([config('flashmm', 'production').ingress.host]);
  });
});

describe('Autonomous Trading System (seeds/001)', () => {
  const prod = () => manifests('autonomous-trading-system', 'production');

  it('releases the execution gateway blue/green in production, promoted by hand after analysis', () => {
    const rollout = find(prod(), 'Rollout', 'execution-gateway') as Obj;
    expect(rollout.spec.strategy.blueGreen).toMatchObject({
      activeService: 'execution-gateway',
      previewService: 'execution-gateway-preview',
      autoPromotionEnabled: false,
      scaleDownDelaySeconds: 600,
    });
    expect(rollout.spec.strategy.blueGreen.prePromotionAnalysis.templates.length).toBeGreaterThan(0);
    expect(hpa('autonomous-trading-system', 'production', 'execution-gateway')!.spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 6,
    });
    for (const target of ['development', 'staging'])
      expect(ofKind(manifests('autonomous-trading-system', target), 'Rollout')).toEqual([]);
  });

  it('hot-reloads feature flags from a mounted ConfigMap, rolled out by percentage per environment', () => {
    const flags = (target: string) =>
      find(manifests('autonomous-trading-system', target), 'ConfigMap', 'feature-flags') as Obj;
    expect(flags('production').data['flags.yaml']).toMatch(
      /name: risk-limits-v2\n\s+owner: orchestrator\n\s+enabled: true\n\s+rolloutPercent: 10\n/,
    );
    expect(flags('staging').data['flags.yaml']).toMatch(
      /name: autonomous-recovery\n\s+owner: monitoring-service\n\s+enabled: true\n\s+rolloutPercent: 50\n/,
    );
    for (const workload of ['orchestrator', 'monitoring-service']) {
      const volumes = (find(prod(), 'Deployment', workload) as Obj).spec.template.spec.volumes as Obj[];
      expect(volumes).toContainEqual({ name: 'feature-flags', configMap: { name: 'feature-flags' } });
    }
  });

  it('reaches the managed PostgreSQL and Redis through ExternalName Services', () => {
    for (const peer of ['postgres', 'redis'])
      expect((find(prod(), 'Service', peer) as Obj).spec.type).toBe('ExternalName');
  });

  it('alerts on drawdown for the high-drawdown runbook', () => {
    const drawdown = alerts('autonomous-trading-system', 'production').find((a) =>
      /trading_pnl_drawdown_ratio/.test(a.expr),
    )!;
    expect(drawdown.labels.severity).toBe('critical');
    expect(drawdown.expr).toMatch(/> 0\.05/);
  });
});

describe('Hive Mind (seeds/002)', () => {
  const prod = () => manifests('hive-mind', 'production');

  it('runs the consensus replicas as a StatefulSet with an encrypted volume each, scaled 3-10', () => {
    const set = find(prod(), 'StatefulSet', 'hive-mind') as Obj;
    expect(set.spec.volumeClaimTemplates).toHaveLength(1);
    expect(set.spec.volumeClaimTemplates[0].spec).toMatchObject({
      storageClassName: 'gp3-encrypted',
      resources: { requests: { storage: '50Gi' } },
    });
    expect(scaledObject('hive-mind', 'production', 'hive-mind')!.spec).toMatchObject({
      minReplicaCount: 3,
      maxReplicaCount: 10,
      scaleTargetRef: { kind: 'StatefulSet' },
    });
  });

  it('auto-scales on CPU and a custom metric, orders per second per pod (KEDA)', () => {
    const { prometheus, resources } = kedaScaled('hive-mind', 'production', 'hive-mind');
    expect(resources).toEqual({ cpu: 70 });
    expect(prometheus['orders-per-second']).toMatchObject({
      metricType: 'AverageValue',
      metadata: {
        query: 'sum(rate(trading_order_latency_seconds_count{namespace="hive-mind-production",job="hive-mind"}[1m]))',
        threshold: '5000',
      },
    });
    // scale-up within the seed's 15 seconds: no stabilization window, a policy period of 15s
    const scaleUp = scaledObject('hive-mind', 'production', 'hive-mind')!.spec.advanced.horizontalPodAutoscalerConfig
      .behavior.scaleUp;
    expect(scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(Math.max(...(scaleUp.policies as Obj[]).map((p) => p.periodSeconds))).toBeLessThanOrEqual(15);
  });

  it('starts the replicas together and lets them find each other before they are ready (a quorum)', () => {
    expect((find(prod(), 'StatefulSet', 'hive-mind') as Obj).spec.podManagementPolicy).toBe('Parallel');
    expect((find(prod(), 'Service', 'hive-mind') as Obj).spec).toMatchObject({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
    });
    // the replicas reach each other on the consensus port only
    const policy = (find(prod(), 'NetworkPolicy', 'hive-mind') as Obj).spec;
    const self = [{ podSelector: { matchLabels: policy.podSelector.matchLabels } }];
    expect(policy.ingress).toContainEqual({ from: self, ports: [{ port: 7000, protocol: 'TCP' }] });
    expect(policy.egress).toContainEqual({ to: self, ports: [{ port: 7000, protocol: 'TCP' }] });
    // a voter at a time: the disruption budget keeps the quorum of three through a drain
    expect((find(prod(), 'PodDisruptionBudget', 'hive-mind') as Obj).spec.maxUnavailable).toBe(1);
  });

  it("bounds the VPA to the seed's 2-8GB and leaves CPU to the HPA", () => {
    const policy = (find(prod(), 'VerticalPodAutoscaler', 'hive-mind') as Obj).spec.resourcePolicy.containerPolicies[0];
    expect(policy).toMatchObject({
      controlledResources: ['memory'],
      minAllowed: { memory: '2Gi' },
      maxAllowed: { memory: '8Gi' },
    });
  });

  it('pins two whole cores per replica in production ("CPU affinity"): Guaranteed, on the static-policy nodes', () => {
    const pod = podTemplateOf(find(prod(), 'StatefulSet', 'hive-mind'))!.spec;
    // QoS looks at CPU and memory only (ephemeral storage may differ)
    for (const c of pod.containers as Obj[])
      for (const r of ['cpu', 'memory']) expect(c.resources.requests[r]).toBe(c.resources.limits[r]);
    expect(pod.containers[0].resources.limits.cpu).toBe('2');
    expect(pod.nodeSelector).toEqual({ cpumanager: 'true' });
    // the production pool carries the label (the live twin labels its nodes from it)
    expect(onDemandNodesOf(config('hive-mind', 'production')).every((n) => mayRunOn(pod, n))).toBe(true);
    // staging shares cores: no selector, burstable
    const staging = podTemplateOf(find(manifests('hive-mind', 'staging'), 'StatefulSet', 'hive-mind'))!.spec;
    expect(staging.nodeSelector).toBeUndefined();
    expect(onSpot('hive-mind', 'production')).toEqual([]);
  });

  it('pages when P99 trading latency exceeds 100µs for 30 seconds', () => {
    const latency = alerts('hive-mind', 'production').find((a) => /trading_order_latency_seconds/.test(a.expr))!;
    expect(latency.expr).toMatch(/histogram_quantile\(0\.99,/);
    expect(latency.expr).toMatch(/> 0\.0001$/);
    expect(latency.for).toBe('30s');
    expect(latency.labels.severity).toBe('critical');
  });

  it("pages on repeated consensus failures, with the threshold's reason and a runbook", () => {
    const consensus = alerts('hive-mind', 'production').find((a) => a.alert === 'ConsensusFailures')!;
    expect(consensus.labels.severity).toBe('critical');
    expect(consensus.expr).toMatch(
      /increase\(hive_mind_consensus_failures_total\{[^}]*namespace="hive-mind-production"[^}]*\}\[5m\]\) > 1/,
    );
    expect(consensus.annotations.runbook_url).toMatch(/^https:\/\//);
  });

  it('alerts on the 99.99% availability target by burn rate', () => {
    const burn = alerts('hive-mind', 'production').filter((a) => /burn/i.test(a.alert));
    expect(burn.length).toBeGreaterThan(0);
    // the page: 14.4 × the 0.01% error budget over 1h and 5m
    expect(burn.some((a) => a.expr.includes('> (14.4 * 0.0001)'))).toBe(true);
  });
});

describe('Signal Trading System (seeds/003)', () => {
  const prod = () => manifests('signal-trading-system', 'production');

  it.each([
    ['gateway-service', 2, 15, 60],
    ['data-service', 3, 10, 70],
    ['signal-service', 1, 8, 75],
    ['ml-service', 1, 5, 80],
  ])('scales %s %i-%i at %i%% CPU with a VPA beside its HPA', (service, min, max, cpu) => {
    const keda = scaledObject('signal-trading-system', 'production', service);
    if (keda) {
      expect(keda.spec).toMatchObject({ minReplicaCount: min, maxReplicaCount: max });
      expect(keda.spec.triggers[0]).toEqual({ type: 'cpu', metricType: 'Utilization', metadata: { value: `${cpu}` } });
    } else
      expect(hpa('signal-trading-system', 'production', service)!.spec).toMatchObject({
        minReplicas: min,
        maxReplicas: max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { averageUtilization: cpu } } }],
      });
    expect(find(prod(), 'VerticalPodAutoscaler', service)).toBeDefined();
  });

  it('scales the gateway on request rate and an API-specific indicator (p95 latency) beside CPU (KEDA)', () => {
    const { prometheus, resources } = kedaScaled('signal-trading-system', 'production', 'gateway-service');
    expect(resources).toEqual({ cpu: 60 });
    expect(Object.keys(prometheus).sort()).toEqual(['api-latency-p95', 'requests-per-second']);
    expect(prometheus['requests-per-second']).toMatchObject({
      metricType: 'AverageValue',
      metadata: { threshold: '100' },
    });
    expect(prometheus['requests-per-second'].metadata.query).toMatch(/^sum\(rate\(http_requests_total\{/);
    // held at half the seed's 500ms p95 target, below the latency alert
    expect(prometheus['api-latency-p95']).toMatchObject({ metricType: 'Value', metadata: { threshold: '0.25' } });
    // the VPA recommends memory only: CPU is the ScaledObject's
    expect(
      (find(prod(), 'VerticalPodAutoscaler', 'gateway-service') as Obj).spec.resourcePolicy.containerPolicies[0],
    ).toMatchObject({ controlledResources: ['memory'] });
  });

  it('runs model inference on spot ("spot instances for non-critical workloads"), nothing else', () => {
    for (const target of TARGETS)
      expect([target, onSpot('signal-trading-system', target)]).toEqual([target, ['ml-service']]);
    const production = config('signal-trading-system', 'production');
    expect(production.cluster.spot?.nodes?.zones).toHaveLength(3);
    const pod = podTemplateOf(find(prod(), 'Deployment', 'ml-service'))!.spec;
    expect(onDemandNodesOf(production).every((n) => mayRunOn(pod, n))).toBe(true);
  });

  it('runs Redis as one replica, scaled by hand', () => {
    expect((find(prod(), 'StatefulSet', 'redis') as Obj).spec.replicas).toBe(1);
    expect(hpa('signal-trading-system', 'production', 'redis')).toBeUndefined();
  });

  it('backs up daily at 02:00 UTC (30 days) and weekly (90 days) with Velero', () => {
    const schedules = ofKind(prod(), 'Schedule')
      .map((s) => [(s as Obj).spec.schedule, (s as Obj).spec.template.ttl])
      .sort();
    expect(schedules).toEqual([
      ['0 2 * * *', '720h'],
      ['0 3 * * 0', '2160h'],
    ]);
  });

  it('backs up its namespace daily and, weekly, the full system including kube-system', () => {
    const ns = config('signal-trading-system', 'production').namespace;
    const included = Object.fromEntries(
      ofKind(prod(), 'Schedule').map((s) => [(s as Obj).spec.schedule, (s as Obj).spec.template.includedNamespaces]),
    );
    expect(included).toEqual({ '0 2 * * *': [ns], '0 3 * * 0': [ns, 'kube-system'] });
    // the Schedules stay in Velero's namespace: the namespace policy accepts them
    expect(checkPolicies(config('signal-trading-system', 'production'), prod())).toEqual([]);
  });

  it('is monitored from its own monitoring namespace', () => {
    expect(config('signal-trading-system', 'production').monitoring.namespace).toBe('signal-trading-monitoring');
    const rollout = JSON.stringify(ofKind(prod(), 'NetworkPolicy'));
    expect(rollout).toContain('signal-trading-monitoring');
  });
});

describe('Alphintra (seeds/004)', () => {
  it('runs the broker simulator on preemptible VMs ("Preemptible VMs: for non-critical workloads"), nothing else', () => {
    for (const target of ['development', 'staging']) {
      expect([target, onSpot('alphintra', target)]).toEqual([target, ['broker-simulator']]);
      const c = config('alphintra', target);
      // GKE's label of preemptible nodes, and the taint the pool adds with the same key
      expect(spotNodeOf(c)).toEqual({
        labels: { 'cloud.google.com/gke-preemptible': 'true' },
        taints: [{ key: 'cloud.google.com/gke-preemptible', value: 'true', effect: 'NoSchedule' }],
      });
      const pod = podTemplateOf(find(manifests('alphintra', target), 'Deployment', 'broker-simulator'))!.spec;
      expect(mayRunOn(pod, spotNodeOf(c))).toBe(true);
      // the pool can disappear: the on-demand nodes take the simulator back
      expect(onDemandNodesOf(c).every((n) => mayRunOn(pod, n))).toBe(true);
    }
    // production has no simulator and nothing on preemptible VMs
    expect(onSpot('alphintra', 'production')).toEqual([]);
  });

  const SERVICES = ['auth-service', 'broker-connector', 'broker-simulator', 'strategy-engine', 'trading-api'];

  it('runs the five backend services, and no broker simulator in production', () => {
    for (const target of ['development', 'staging']) {
      expect(Object.keys(config('alphintra', target).services).sort()).toEqual(SERVICES);
    }
    expect(Object.keys(config('alphintra', 'production').services).sort()).toEqual(
      SERVICES.filter((s) => s !== 'broker-simulator'),
    );
  });

  it('is delivered by an Argo CD app-of-apps over examples/alphintra/dist', () => {
    const argocd = example('alphintra').outputs.find((o) => o.folder === 'argocd')!.manifests;
    const root = find(argocd, 'Application', 'alphintra-root') as Obj;
    expect(root.spec.source).toMatchObject({ path: 'examples/alphintra/dist/argocd', directory: { recurse: false } });
    for (const target of TARGETS) {
      const app = find(argocd, 'Application', `alphintra-${target}`) as Obj;
      expect(app.spec.destination.namespace).toBe(config('alphintra', target).namespace);
      expect(Boolean(app.spec.syncPolicy.automated)).toBe(target !== 'production');
    }
  });

  it('reads secrets from Google Secret Manager', () => {
    for (const target of TARGETS) {
      const store = ofKind(manifests('alphintra', target), 'ClusterSecretStore')[0] as Obj;
      expect(Object.keys(store.spec.provider)).toEqual(['gcpsm']);
    }
  });

  it("serves auth-service on the seed's port 8001 and alerts on the seed's latency targets", () => {
    const prod = manifests('alphintra', 'production');
    expect((find(prod, 'Service', 'auth-service') as Obj).spec.ports).toContainEqual(
      expect.objectContaining({ name: 'http', port: 8001 }),
    );
    const rules = alerts('alphintra', 'production');
    const api = rules.find(
      (a) => a.owner === 'trading-api' && /http_request_duration_seconds/.test(a.expr) && !/burn/i.test(a.alert),
    )!;
    expect(api.expr).toMatch(/histogram_quantile\(0\.95,[\s\S]*> 0\.05$/);
    const execution = rules.find(
      (a) => a.owner === 'broker-connector' && /trading_order_latency_seconds/.test(a.expr),
    )!;
    expect(execution.expr).toMatch(/histogram_quantile\(0\.99,[\s\S]*> 0\.01$/);
    expect(find(prod, 'Rollout', 'trading-api')).toBeDefined();
  });
});

/**
 * The seeds that ask for a service mesh: Alphintra ("mTLS encryption for all service
 * communication", every environment), Signal Trading System ("service mesh encryption") and
 * Autonomous Trading System ("service mesh configuration for traffic switching"), staging and
 * production. Each such target is asked, for every pair of services and every port, whether the
 * call may happen: the NetworkPolicies, the AuthorizationPolicies and the configured graph agree.
 */
const MESHED: Array<[string, string[]]> = [
  ['alphintra', ['development', 'staging', 'production']],
  ['signal-trading-system', ['staging', 'production']],
  ['autonomous-trading-system', ['staging', 'production']],
];

describe.each(MESHED)('the mesh of %s', (name, targets) => {
  it.each(targets)(
    '%s: STRICT mutual TLS in ambient mode, and both layers agree with the graph on every call',
    (target) => {
      const m = manifests(name, target);
      const c = config(name, target);
      const ns = find(m, 'Namespace', c.namespace);
      expect(ns.metadata.labels?.['istio.io/dataplane-mode']).toBe('ambient');
      expect((find(m, 'PeerAuthentication', 'default') as Obj).spec).toEqual({ mtls: { mode: 'STRICT' } });
      expect(disagreements(c, m)).toEqual([]);
    },
  );

  it('leaves the other environments without a mesh', () => {
    for (const target of TARGETS.filter((t) => !targets.includes(t))) {
      expect(ofKind(manifests(name, target), 'AuthorizationPolicy')).toEqual([]);
      expect(ofKind(manifests(name, target), 'PeerAuthentication')).toEqual([]);
    }
  });
});

describe('the mesh of the examples that do not ask for one', () => {
  it.each(['flashmm', 'hive-mind'])('%s has none', (name) => {
    for (const target of TARGETS) expect(ofKind(manifests(name, target), 'AuthorizationPolicy')).toEqual([]);
  });
});

describe("Alphintra's zero trust (seeds/004)", () => {
  it('lets trading-api call auth-service on 8001 and broker-connector call nobody, on both layers', () => {
    const m = manifests('alphintra', 'production');
    for (const ask of [mayCallByNetwork, mayCallByMesh]) {
      expect([ask.name, ask(m, 'trading-api', 'auth-service', 8001)]).toEqual([ask.name, true]);
      expect([ask.name, ask(m, 'broker-connector', 'auth-service', 8001)]).toEqual([ask.name, false]);
      expect([ask.name, ask(m, 'broker-connector', 'trading-api', 8080)]).toEqual([ask.name, false]);
    }
  });
});
