import Ajv from 'ajv';
import { App, Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { DEFAULT_BEHAVIOR } from '../../config/autoscaling-rules';
import { ConfigError } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { isAutoscaled, replicaRange } from '../../config/model';
import { ServiceConfig, TargetConfig } from '../../config/types';
import { ServiceAutoscaling } from '../../constructs/autoscaling';
import { find, Manifest, ofKind } from '../../core/manifest';
import { capacityOf, drainBlockers } from '../../pipeline/capacity';
import { synthTarget } from '../../pipeline/synth';
import { renderTargetReadme } from '../../pipeline/target-readme';
import {
  configOf,
  copyEnvironments,
  edit,
  manifestsOf,
  PLATFORM_SERVICES,
  runSynth,
  SHARED,
  TARGETS,
} from '../helpers';

type Obj = Record<string, any>;

const PRODUCTION = ['production-us-east-1', 'production-eu-west-1'];
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Rollout'];

const workloadOf = (manifests: readonly Manifest[], ref: Obj): Obj | undefined =>
  manifests.find((m) => m.kind === ref.kind && m.metadata.name === ref.name && m.apiVersion === ref.apiVersion) as
    Obj | undefined;

/** The issues loadPlatform reports for a scratch copy of environments/ after one edit. */
function issuesAfter(file: string, search: string | RegExp, replacement: string): string[] {
  const dir = copyEnvironments();
  edit(dir, file, search, replacement);
  try {
    loadPlatform(dir);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.issues.map((i) => `${path.basename(i.file)}:${i.line ?? '?'}: ${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

/** Validators for the objects this construct writes: the Kubernetes 1.28 schema and the VPA CRD. */
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const k8sDefinitions = JSON.parse(
  fs.readFileSync(path.join(SHARED, 'k8s', 'kubernetes-1.28-definitions.json'), 'utf8'),
);
ajv.addSchema({ $id: 'k8s', definitions: k8sDefinitions.definitions });
const validateHpa = ajv.compile({ $ref: 'k8s#/definitions/io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler' });
const vpaCrd = YAML.parseAllDocuments(fs.readFileSync(path.join(SHARED, 'k8s', 'crds', 'vpa.yaml'), 'utf8'))
  .map((d) => d.toJS())
  .find((d) => d?.spec?.names?.kind === 'VerticalPodAutoscaler');
const validateVpa = ajv.compile(vpaCrd.spec.versions.find((v: Obj) => v.name === 'v1').schema.openAPIV3Schema);

describe.each(TARGETS)('HorizontalPodAutoscalers in %s', (target) => {
  const manifests = () => manifestsOf(target);
  const config = () => configOf(target);
  const autoscaled = () => Object.values(config().services).filter(isAutoscaled);

  it('creates one HPA per autoscaled service and none for fixed replicas', () => {
    const hpas = ofKind(manifests(), 'HorizontalPodAutoscaler')
      .map((m) => m.metadata.name)
      .sort();
    expect(hpas).toEqual(
      autoscaled()
        .map((s) => s.name)
        .sort(),
    );
    if (target === 'development') expect(hpas).toEqual([]);
    // PLATFORM.md's autoscaled services (services added since are checked against the configuration above)
    else
      expect(hpas.filter((name) => PLATFORM_SERVICES.includes(name))).toEqual([
        'data-service',
        'gateway',
        'ml-service',
        'signal-service',
      ]);
  });

  it('scales between the configured replicas on the configured metrics, with the environment behaviour', () => {
    for (const service of autoscaled()) {
      const hpa = find(manifests(), 'HorizontalPodAutoscaler', service.name) as Obj;
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      const { min, max } = replicaRange(service);
      expect(hpa.spec.minReplicas).toBe(min);
      expect(hpa.spec.maxReplicas).toBe(max);
      const cpu = service.autoscaling!.metrics.find((m) => m.type === 'resource' && m.resource === 'cpu') as {
        targetUtilization: number;
      };
      expect(hpa.spec.metrics).toEqual([
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu.targetUtilization } },
        },
      ]);
      const scaleDown = config().autoscaling!.behavior!.scaleDown!;
      expect(hpa.spec.behavior.scaleDown).toEqual({
        stabilizationWindowSeconds: scaleDown.stabilizationWindowSeconds,
        selectPolicy: 'Max',
        policies: [
          { type: 'Percent', value: scaleDown.percent, periodSeconds: scaleDown.periodSeconds },
          { type: 'Pods', value: scaleDown.pods, periodSeconds: scaleDown.periodSeconds },
        ],
      });
      expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
      expect(validateHpa(hpa) ? [] : validateHpa.errors).toEqual([]);
    }
  });

  it('targets each workload by its own apiVersion and kind (a Rollout for blue/green services)', () => {
    for (const hpa of ofKind(manifests(), 'HorizontalPodAutoscaler') as Obj[]) {
      const workload = workloadOf(manifests(), hpa.spec.scaleTargetRef);
      expect(workload).toBeDefined();
      const service = config().services[hpa.metadata.name];
      const kind =
        service.release?.strategy === 'blueGreen'
          ? 'Rollout'
          : service.workload === 'statefulset'
            ? 'StatefulSet'
            : 'Deployment';
      expect(hpa.spec.scaleTargetRef.kind).toBe(kind);
    }
  });

  it('writes no spec.replicas for any workload an HPA scales, and fixed replicas for the rest', () => {
    const scaled = new Set(
      (ofKind(manifests(), 'HorizontalPodAutoscaler') as Obj[]).map(
        (h) => `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`,
      ),
    );
    const workloads = manifests().filter((m) => WORKLOAD_KINDS.includes(m.kind)) as Obj[];
    expect(workloads.length).toBe(Object.keys(config().services).length);
    for (const w of workloads) {
      if (scaled.has(`${w.kind}/${w.metadata.name}`)) expect(w.spec).not.toHaveProperty('replicas');
      else expect(w.spec.replicas).toBe(replicaRange(config().services[w.metadata.name]).min);
    }
  });
});

describe('production scaling behaviour and blue/green targets', () => {
  it.each(PRODUCTION)('scales down slowly in %s (600s window, 10%% or 1 pod per 2 minutes) and up fast', (target) => {
    const gateway = find(manifestsOf(target), 'HorizontalPodAutoscaler', 'gateway') as Obj;
    expect(gateway.spec.scaleTargetRef).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      name: 'gateway',
    });
    expect(gateway.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(600);
    expect(gateway.spec.behavior.scaleDown.policies).toEqual([
      { type: 'Percent', value: 10, periodSeconds: 120 },
      { type: 'Pods', value: 1, periodSeconds: 120 },
    ]);
    expect(gateway.spec.behavior.scaleUp.policies).toEqual([
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ]);
    expect(find(manifestsOf(target), 'HorizontalPodAutoscaler', 'data-service').spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 10,
    });
  });

  it('uses the 300s default scale-down window in staging, equal to the built-in default', () => {
    const hpa = find(manifestsOf('staging'), 'HorizontalPodAutoscaler', 'gateway') as Obj;
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(configOf('staging').autoscaling!.behavior).toEqual(DEFAULT_BEHAVIOR);
  });
});

describe.each(PRODUCTION)('VerticalPodAutoscalers in %s', (target) => {
  const vpa = (name: string) => find(manifestsOf(target), 'VerticalPodAutoscaler', name) as Obj;

  it('creates one VPA per service with vpa config, valid against the VPA CRD', () => {
    const expected = Object.values(configOf(target).services)
      .filter((s) => s.vpa)
      .map((s) => s.name)
      .sort();
    expect(
      ofKind(manifestsOf(target), 'VerticalPodAutoscaler')
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(expected);
    for (const m of ofKind(manifestsOf(target), 'VerticalPodAutoscaler')) {
      expect(m.apiVersion).toBe('autoscaling.k8s.io/v1');
      expect(validateVpa(m) ? [] : validateVpa.errors).toEqual([]);
      expect(workloadOf(manifestsOf(target), (m as Obj).spec.targetRef)).toBeDefined();
    }
  });

  it("recommends only (Off) where an HPA exists, leaving the HPA's CPU alone", () => {
    // every service with both a vpa block and an HPA (a service without vpa has no VPA)
    const withVpa = (ofKind(manifestsOf(target), 'HorizontalPodAutoscaler') as Obj[]).filter(
      (hpa) => configOf(target).services[hpa.metadata.name]?.vpa,
    );
    expect(withVpa.length).toBeGreaterThan(0);
    for (const hpa of withVpa) {
      const v = vpa(hpa.metadata.name);
      expect(v.spec.updatePolicy.updateMode).toBe('Off');
      expect(v.spec.targetRef).toEqual(hpa.spec.scaleTargetRef);
      expect(v.spec.resourcePolicy.containerPolicies).toEqual([
        { containerName: hpa.metadata.name, controlledResources: ['memory'] },
      ]);
    }
  });

  it('sizes new redis pods (Initial) within maxAllowed, never evicting the single replica', () => {
    const redis = vpa('redis');
    expect(redis.spec.targetRef).toEqual({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'redis' });
    expect(redis.spec.updatePolicy.updateMode).toBe('Initial');
    expect(redis.spec.resourcePolicy.containerPolicies[0]).toMatchObject({
      controlledResources: ['cpu', 'memory'],
      maxAllowed: { cpu: '500m', memory: '1Gi' },
    });
  });

  it('keeps the explicitly configured Off for orchestrator, which has no HPA', () => {
    expect(vpa('orchestrator').spec.updatePolicy.updateMode).toBe('Off');
    expect(vpa('orchestrator').spec.resourcePolicy.containerPolicies[0].controlledResources).toEqual(['cpu', 'memory']);
  });
});

describe('the HPA/VPA conflict is refused', () => {
  const AUTO_CPU =
    'vpa: { updateMode: Auto, controlledResources: [cpu, memory], maxAllowed: { cpu: "1", memory: 1Gi } }';

  it('fails when a VPA that updates CPU meets an HPA on CPU, explaining both fixes', () => {
    const issues = issuesAfter(
      'production.yaml',
      /(replicas: \{ min: 2, max: 15 \}[\s\S]*?)vpa: \{\}/,
      `$1${AUTO_CPU}`,
    );
    expect(issues).toHaveLength(1);
    const [issue] = issues;
    expect(issue).toMatch(/^production\.yaml:\d+: services\.gateway\.vpa\.controlledResources: /);
    expect(issue).toContain(
      'the VPA of "gateway" updates cpu (updateMode Auto) while its HPA scales on cpu utilisation',
    );
    expect(issue).toContain('the two fight');
    expect(issue).toContain('set vpa.updateMode: "Off"');
    expect(issue).toContain('set vpa.controlledResources to [memory]');
    expect(issue).toContain('scale the HPA on another metric');
    expect(issue).toContain('in targets production-eu-west-1, production-us-east-1');
  });

  it('fails when only updateMode is set to an acting mode and the default controlled resources still hold no CPU', () => {
    // the default controlledResources leave CPU to the HPA: Recreate on memory alone is allowed
    expect(
      issuesAfter(
        'production.yaml',
        /(replicas: \{ min: 3, max: 10 \}\n)    vpa: \{\}/,
        '$1    vpa: { updateMode: Recreate, maxAllowed: { memory: 2Gi } }',
      ),
    ).toEqual([]);
  });

  it('refuses the synth from the command line with the message and writes nothing', () => {
    const dir = copyEnvironments();
    edit(dir, 'production.yaml', /(replicas: \{ min: 2, max: 15 \}[\s\S]*?)vpa: \{\}/, `$1${AUTO_CPU}`);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('services.gateway.vpa.controlledResources');
    expect(result.stderr).toContain('while its HPA scales on cpu utilisation');
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('is refused again by the construct when used without the configuration rules', () => {
    const chart = new Chart(new App({ outdir: 'unused' }), 'production-us-east-1', { disableResourceNameHashes: true });
    new k8s.KubeDeployment(chart, 'gateway', { metadata: { name: 'gateway' }, spec: { selector: {}, template: {} } });
    const autoscaling = new ServiceAutoscaling(chart, 'autoscaling', {
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway', selector: {} },
      replicas: { min: 2, max: 15 },
      metrics: [{ type: 'resource', resource: 'cpu', targetUtilization: 70 }],
      vpa: { updateMode: 'Auto', controlledResources: ['cpu'] },
    });
    expect(autoscaling.node.validate()).toEqual([
      expect.stringContaining(
        'production-us-east-1: the VPA of "gateway" updates cpu (updateMode Auto) while its HPA scales on cpu utilisation',
      ),
    ]);
  });

  it('leaves a VPA beside an HPA in recommendation mode over what the HPA does not scale on, built without any configuration', () => {
    const chart = new Chart(new App({ outdir: 'unused' }), 'bare', { disableResourceNameHashes: true });
    new k8s.KubeDeployment(chart, 'api', {
      metadata: { name: 'api' },
      spec: { selector: { matchLabels: { app: 'api' } }, template: {} },
    });
    new ServiceAutoscaling(chart, 'autoscaling', {
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', selector: { app: 'api' } },
      replicas: { min: 2, max: 6 },
      metrics: [{ type: 'resource', resource: 'cpu', targetUtilization: 60 }],
      vpa: {},
      fixedContainers: ['exporter'],
    });
    const objects = Testing.synth(chart) as Manifest[];
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'api') as any;
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 6,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
    });
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(
      DEFAULT_BEHAVIOR.scaleDown.stabilizationWindowSeconds,
    );
    const vpa = find(objects, 'VerticalPodAutoscaler', 'api') as any;
    expect(vpa.spec.updatePolicy.updateMode).toBe('Off');
    expect(vpa.spec.resourcePolicy.containerPolicies).toEqual([
      { containerName: 'api', controlledResources: ['memory'] },
      { containerName: 'exporter', mode: 'Off' },
    ]);
  });
});

/** A chart holding a Deployment `gateway` that sets `replicas: 3` itself. */
function chartWithFixedReplicas(): Chart {
  const chart = new Chart(new App({ outdir: 'unused' }), 'staging', { disableResourceNameHashes: true });
  new k8s.KubeDeployment(chart, 'gateway', {
    metadata: { name: 'gateway' },
    spec: { replicas: 3, selector: {}, template: {} },
  });
  return chart;
}

describe('an HPA and fixed replicas on the same workload', () => {
  it('is refused: the HPA owns spec.replicas', () => {
    const chart = chartWithFixedReplicas();
    const autoscaling = new ServiceAutoscaling(chart, 'autoscaling', {
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway', selector: {} },
      replicas: { min: 2, max: 4 },
      metrics: [{ type: 'resource', resource: 'cpu', targetUtilization: 70 }],
    });
    expect(autoscaling.node.validate()).toEqual([
      'Deployment/gateway in staging sets spec.replicas (3) although an HPA scales it between 2 and 4; leave replicas out of the workload so that the HPA and Argo CD do not fight over it',
    ]);
  });

  it('is refused when the workload construct reports the replicas it wrote', () => {
    const chart = new Chart(new App({ outdir: 'unused' }), 'staging', { disableResourceNameHashes: true });
    const resource = new k8s.KubeDeployment(chart, 'gateway', {
      metadata: { name: 'gateway' },
      spec: { replicas: 3, selector: {}, template: {} },
    });
    const autoscaling = new ServiceAutoscaling(chart, 'autoscaling', {
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway', selector: {}, resource, replicas: 3 },
      replicas: { min: 2, max: 4 },
      metrics: [{ type: 'resource', resource: 'cpu', targetUtilization: 70 }],
    });
    expect(autoscaling.node.validate()).toEqual([
      expect.stringContaining('Deployment/gateway in staging sets spec.replicas (3)'),
    ]);
  });
});

describe('metrics and behaviour from configuration', () => {
  function stagingWith(gateway: Partial<ServiceConfig>): TargetConfig {
    const config = configOf('staging');
    return { ...config, services: { ...config.services, gateway: { ...config.services.gateway, ...gateway } } };
  }

  it("writes the resource metrics and the service's own behaviour", () => {
    const config = stagingWith({
      autoscaling: {
        metrics: [{ type: 'resource', resource: 'memory', targetUtilization: 75 }],
        behavior: { scaleUp: { stabilizationWindowSeconds: 30, pods: 2, periodSeconds: 60 } },
      },
    });
    const hpa = find(synthTarget(config), 'HorizontalPodAutoscaler', 'gateway') as Obj;
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 75 } } },
    ]);
    expect(hpa.spec.behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 30,
      selectPolicy: 'Max',
      policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }],
    });
    // the direction the service leaves out comes from the environment
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(validateHpa(hpa) ? [] : validateHpa.errors).toEqual([]);
  });

  it('lets a VPA update CPU when the autoscaler scales on a trading metric only', () => {
    const config = stagingWith({
      autoscaling: {
        metrics: [
          {
            type: 'prometheus',
            name: 'requests',
            query: 'sum(rate(http_requests_total[2m]))',
            targetAverageValue: 100,
          },
        ],
      },
      vpa: { updateMode: 'Auto', maxAllowed: { cpu: '200m', memory: '512Mi' } },
    });
    const vpa = find(synthTarget(config), 'VerticalPodAutoscaler', 'gateway') as Obj;
    expect(vpa.spec.updatePolicy.updateMode).toBe('Auto');
    expect(vpa.spec.resourcePolicy.containerPolicies[0].controlledResources).toEqual(['cpu', 'memory']);
  });

  it.each([
    [
      'pods',
      '{ type: pods, metric: http_requests_per_second, targetAverageValue: "100" }',
      'custom',
      'targetAverageValue: 100',
    ],
    ['external', '{ type: external, metric: order_queue_depth, targetValue: "500" }', 'external', 'targetValue: 500'],
  ])('refuses a %s metric, which no adapter serves, pointing to a prometheus query', (type, yaml, what, target) => {
    const issues = issuesAfter(
      'staging.yaml',
      'gateway:\n    replicas: { min: 2, max: 4 }',
      `gateway:\n    replicas: { min: 2, max: 4 }\n    autoscaling:\n      metrics:\n        - ${yaml}`,
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(
      new RegExp(`^staging\\.yaml:\\d+: services\\.gateway\\.autoscaling\\.metrics\\[0\\]\\.type: "${type}" metric`),
    );
    expect(issues[0]).toContain(`no metrics adapter in the cluster serves ${what} metrics to the HPA`);
    expect(issues[0]).toContain(`{ type: prometheus, name: <a-name>, query: "sum(`);
    expect(issues[0]).toContain(target);
  });
  it('fails when a percent-only scale-down would never reach the minimum', () => {
    const issues = issuesAfter(
      'staging.yaml',
      'gateway:\n    replicas: { min: 2, max: 4 }',
      'gateway:\n    replicas: { min: 2, max: 4 }\n    autoscaling:\n      metrics: [{ type: resource, resource: cpu, targetUtilization: 60 }]\n      behavior:\n        scaleDown: { stabilizationWindowSeconds: 300, percent: 25, periodSeconds: 60 }',
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^staging\.yaml:\d+: services\.gateway\.autoscaling\.behavior\.scaleDown: scales "gateway" down by 25% only: .* below 4 pods it can never remove one .* add "pods: 1"/,
      ),
    ]);
  });

  it('fails when an HPA would scale to zero', () => {
    const issues = issuesAfter('staging.yaml', 'replicas: { min: 1, max: 2 }', 'replicas: { min: 0, max: 2 }');
    expect(issues).toEqual([
      expect.stringMatching(
        /^staging\.yaml:\d+: services\.ml-service\.replicas\.min: is 0 for "ml-service", which an HPA scales; an HPA needs minReplicas >= 1/,
      ),
    ]);
  });

  it('fails when a VPA that changes pods has no maxAllowed', () => {
    const issues = issuesAfter(
      'production.yaml',
      'vpa: { updateMode: Initial, maxAllowed: { cpu: 500m, memory: 1Gi } }',
      'vpa: { updateMode: Initial, maxAllowed: { cpu: 500m } }',
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^production\.yaml:\d+: services\.redis\.vpa\.maxAllowed: the VPA of "redis" changes memory \(updateMode Initial\) without a maxAllowed/,
      ),
    ]);
  });
});

/** A service scaled by KEDA on a trading metric, as environments/staging.yaml would write it. */
const KEDA_GATEWAY =
  'gateway:\n    replicas: { min: 2, max: 4 }\n    autoscaling:\n      metrics:\n' +
  '        - { type: resource, resource: cpu, targetUtilization: 60 }\n' +
  '        - { type: prometheus, name: queue-depth, query: "sum(trading_order_queue_depth)", targetAverageValue: 50 }';

describe('KEDA ScaledObjects for trading metrics', () => {
  function stagingWith(edits: Record<string, Partial<ServiceConfig>>): TargetConfig {
    const config = configOf('staging');
    const services = { ...config.services };
    for (const [name, edit] of Object.entries(edits)) services[name] = { ...services[name], ...edit };
    return { ...config, services };
  }
  const queueDepth = {
    type: 'prometheus',
    name: 'order-queue-depth',
    query: 'sum(trading_order_queue_depth)',
    targetAverageValue: 50,
  } as const;
  const withTrigger = (): TargetConfig =>
    stagingWith({
      gateway: {
        autoscaling: {
          metrics: [{ type: 'resource', resource: 'cpu', targetUtilization: 60 }, queueDepth],
          behavior: { scaleUp: { stabilizationWindowSeconds: 30, pods: 2, periodSeconds: 60 } },
        },
      },
    });
  const scaledObjectCrd = YAML.parse(
    fs.readFileSync(path.join(SHARED, 'k8s', 'crds', 'keda.sh_scaledobjects.yaml'), 'utf8'),
  );
  const validateScaledObject = ajv.compile(
    scaledObjectCrd.spec.versions.find((v: Obj) => v.name === 'v1alpha1').schema.openAPIV3Schema,
  );

  it('scales the service through a ScaledObject that targets its workload, and writes no HPA of its own', () => {
    const config = withTrigger();
    const manifests = synthTarget(config);
    const scaled = find(manifests, 'ScaledObject', 'gateway') as Obj;
    expect(scaled.apiVersion).toBe('keda.sh/v1alpha1');
    expect(workloadOf(manifests, scaled.spec.scaleTargetRef)).toMatchObject({
      kind: 'Deployment',
      metadata: { name: 'gateway' },
    });
    expect(scaled.spec).toMatchObject({ minReplicaCount: 2, maxReplicaCount: 4 });
    // KEDA makes and owns the HPA: one of ours would fight it
    expect(ofKind(manifests, 'HorizontalPodAutoscaler').map((h) => (h as Obj).spec.scaleTargetRef.name)).not.toContain(
      'gateway',
    );
    // and the workload leaves replicas to it
    expect(find(manifests, 'Deployment', 'gateway').spec).not.toHaveProperty('replicas');
    expect(validateScaledObject(scaled) ? [] : validateScaledObject.errors).toEqual([]);
  });

  it("carries the checked query, scoped to the namespace and job, to the target's Prometheus, beside the resource trigger", () => {
    const config = withTrigger();
    const scaled = find(synthTarget(config), 'ScaledObject', 'gateway') as Obj;
    expect(scaled.spec.triggers).toEqual([
      { type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } },
      {
        type: 'prometheus',
        name: 'order-queue-depth',
        metricType: 'AverageValue',
        metadata: {
          serverAddress: config.monitoring.prometheusUrl ?? 'http://prometheus-operated.monitoring.svc:9090',
          query: `sum(trading_order_queue_depth{namespace="${config.namespace}",job="gateway"})`,
          threshold: '50',
        },
      },
    ]);
    // the HPA behaviour reaches KEDA's HPA: the service's scale-up, the environment's scale-down
    expect(scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 30,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }],
      },
      scaleDown: (find(manifestsOf('staging'), 'HorizontalPodAutoscaler', 'gateway') as Obj).spec.behavior.scaleDown,
    });
  });

  it('holds a value (metricType Value) when the target is targetValue, e.g. a latency', () => {
    const config = stagingWith({
      gateway: {
        autoscaling: {
          metrics: [
            {
              type: 'prometheus',
              name: 'latency-p95',
              query: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[2m])))',
              targetValue: 0.025,
            },
          ],
        },
      },
    });
    const [trigger] = (find(synthTarget(config), 'ScaledObject', 'gateway') as Obj).spec.triggers;
    expect(trigger).toMatchObject({ metricType: 'Value', metadata: { threshold: '0.025' } });
  });

  it("counts the ScaledObject's maximum in the capacity and the quota, and its HPA in the ceiling alert", () => {
    const at = (max: number) =>
      stagingWith({ gateway: { ...withTrigger().services.gateway, replicas: { min: 2, max } } });
    const manifests = synthTarget(at(6));
    const gateway = capacityOf(manifests).workloads.find((w) => w.name === 'gateway')!;
    expect(gateway).toMatchObject({ minReplicas: 2, maxReplicas: 6, scaledBy: 'ScaledObject' });
    // 40 pods and their surge are more than staging's quota: refused as for an HPA
    expect(() => synthTarget(at(40))).toThrow(
      /pods at maximum scale plus release surge is \d+, over the namespace ResourceQuota of \d+ by \d+; biggest: gateway 41 \(40 max \+ 1 surge/,
    );
    const rules = (find(manifests, 'PrometheusRule', 'gateway') as Obj).spec.groups.flatMap((g: Obj) => g.rules);
    expect(rules.find((r: Obj) => r.alert === 'HPAAtMaxReplicas').expr).toContain(
      'horizontalpodautoscaler="keda-hpa-gateway"',
    );
  });

  it("lists the ScaledObject's triggers in the target README and marks its capacity row", () => {
    const config = withTrigger();
    const readme = renderTargetReadme(config, synthTarget(config));
    expect(readme).toContain('## Autoscaling on trading metrics (KEDA)');
    expect(readme).toContain(
      `| gateway | Deployment/gateway | 2–4 | order-queue-depth: \`sum(trading_order_queue_depth{namespace="${config.namespace}",job="gateway"})\` | 50 per pod |`,
    );
    expect(readme).toMatch(/\n\| gateway \| Deployment \| 2–4 \(KEDA\) \|/);
    // a target without ScaledObjects has no such section
    expect(renderTargetReadme(configOf('staging'), manifestsOf('staging'))).not.toContain('## Autoscaling on trading');
  });

  it('keeps one PodDisruptionBudget on the scaled workload that allows an eviction at the minimum', () => {
    const manifests = synthTarget(withTrigger());
    const pdb = find(manifests, 'PodDisruptionBudget', 'gateway') as Obj;
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(drainBlockers(manifests)).toEqual([]);
  });

  it('scales a service off the latency path to zero (minReplicaCount 0)', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'staging.yaml',
      'ml-service:\n    replicas: { min: 1, max: 2 }',
      'ml-service:\n    replicas: { min: 0, max: 2 }\n    autoscaling:\n      metrics:\n' +
        '        - { type: prometheus, name: inference-queue, query: "sum(ml_inference_queue_depth)", targetAverageValue: 10 }',
    );
    const config = loadPlatform(dir).find((c) => c.target === 'staging')!;
    const scaled = find(synthTarget(config), 'ScaledObject', 'ml-service') as Obj;
    expect(scaled.spec).toMatchObject({ minReplicaCount: 0, maxReplicaCount: 2 });
  });

  it('refuses scale to zero for a latency-critical service, saying why it is one', () => {
    const issues = issuesAfter(
      'staging.yaml',
      'execution-gateway:\n    replicas: 2',
      'execution-gateway:\n    replicas: { min: 0, max: 2 }\n    autoscaling:\n      metrics:\n' +
        '        - { type: prometheus, name: orders, query: "sum(rate(trading_orders_total[1m]))", targetAverageValue: 100 }',
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^staging\.yaml:\d+: services\.execution-gateway\.replicas\.min: is 0 for "execution-gateway", so KEDA scales it to zero .* latency-critical \(qos: guaranteed, an order latency alert \(p99 under 0\.0001s\)\).* Set min to 1 or more/,
      ),
    ]);
  });

  it('refuses a VPA that updates CPU while the ScaledObject scales on CPU utilisation', () => {
    const issues = issuesAfter(
      'staging.yaml',
      'gateway:\n    replicas: { min: 2, max: 4 }',
      `${KEDA_GATEWAY}\n    vpa: { updateMode: Auto, controlledResources: [cpu, memory], maxAllowed: { cpu: "1", memory: 1Gi } }`,
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^staging\.yaml:\d+: services\.gateway\.vpa\.controlledResources: the VPA of "gateway" updates cpu \(updateMode Auto\) while its ScaledObject scales on cpu utilisation/,
      ),
    ]);
  });

  it('accepts the same VPA in recommendation mode, and a VPA on memory alone', () => {
    expect(
      issuesAfter('staging.yaml', 'gateway:\n    replicas: { min: 2, max: 4 }', `${KEDA_GATEWAY}\n    vpa: {}`),
    ).toEqual([]);
  });

  it.each([
    [
      'a syntax error',
      'sum(trading_order_queue_depth',
      /query: prometheus metric "queue-depth" of "gateway": PromQL syntax error/,
    ],
    [
      'one series per pod',
      'trading_order_queue_depth',
      /query: prometheus metric "queue-depth" of "gateway" may return several series .* KEDA refuses a result of more than one element/,
    ],
    ['one series per pod, aggregated by pod', 'sum by (pod) (trading_order_queue_depth)', /may return several series/],
  ])('refuses a query with %s, at its line', (_what, query, message) => {
    const issues = issuesAfter(
      'staging.yaml',
      'gateway:\n    replicas: { min: 2, max: 4 }',
      KEDA_GATEWAY.replace('sum(trading_order_queue_depth)', query),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^staging\.yaml:\d+: services\.gateway\.autoscaling\.metrics\[1\]\.query: /);
    expect(issues[0]).toMatch(message);
  });

  it('refuses a trigger without a target, or with both', () => {
    for (const [target, got] of [
      ['', 'neither'],
      [', targetAverageValue: 5, targetValue: 1', 'both'],
    ]) {
      const issues = issuesAfter(
        'staging.yaml',
        'gateway:\n    replicas: { min: 2, max: 4 }',
        KEDA_GATEWAY.replace(', targetAverageValue: 50', target),
      );
      expect(issues).toEqual([
        expect.stringMatching(
          new RegExp(
            `services\\.gateway\\.autoscaling\\.metrics\\[1\\]: prometheus metric "queue-depth" of "gateway" needs exactly one of targetAverageValue .* got ${got}`,
          ),
        ),
      ]);
    }
  });

  it('refuses a target of zero (the HPA divides by it)', () => {
    const issues = issuesAfter(
      'staging.yaml',
      'gateway:\n    replicas: { min: 2, max: 4 }',
      KEDA_GATEWAY.replace('targetAverageValue: 50', 'targetAverageValue: 0'),
    );
    expect(issues).toEqual([expect.stringMatching(/services\.gateway\.autoscaling\.metrics\[1\]\.targetAverageValue/)]);
  });

  it('is refused by the construct when the workload also sets replicas', () => {
    const chart = chartWithFixedReplicas();
    const autoscaling = new ServiceAutoscaling(chart, 'autoscaling', {
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway', selector: {} },
      replicas: { min: 2, max: 4 },
      metrics: [queueDepth],
    });
    expect(autoscaling.hpaName).toBe('keda-hpa-gateway');
    expect(autoscaling.node.validate()).toEqual([
      "Deployment/gateway in staging sets spec.replicas (3) although a ScaledObject (KEDA's HPA) scales it between 2 and 4; leave replicas out of the workload so that the HPA and Argo CD do not fight over it",
    ]);
  });

  it('is refused by the construct when a VPA acts on what the ScaledObject scales on', () => {
    const chart = new Chart(new App({ outdir: 'unused' }), 'staging', { disableResourceNameHashes: true });
    new k8s.KubeDeployment(chart, 'gateway', { metadata: { name: 'gateway' }, spec: { selector: {}, template: {} } });
    const autoscaling = new ServiceAutoscaling(chart, 'autoscaling', {
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway', selector: {} },
      replicas: { min: 2, max: 4 },
      metrics: [{ type: 'resource', resource: 'memory', targetUtilization: 80 }, queueDepth],
      vpa: { updateMode: 'Recreate', controlledResources: ['memory'] },
    });
    expect(autoscaling.node.validate()).toEqual([
      expect.stringContaining(
        'the VPA of "gateway" updates memory (updateMode Recreate) while its ScaledObject scales on memory utilisation',
      ),
    ]);
  });
});
