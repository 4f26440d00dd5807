import { Chart, Testing } from 'cdk8s';
import { DisruptionBudget } from '../../constructs/disruption-budget';
import { ServiceEndpoints } from '../../constructs/service-endpoints';
import { Workload, WorkloadPodProps } from '../../constructs/workload';
import { find, Manifest } from '../../core/manifest';

/**
 * The workload constructs built alone: a bare chart and literal props, no platform configuration.
 */
type Obj = Manifest & { spec: Record<string, any> };

const selector = { 'app.kubernetes.io/name': 'quotes', 'app.kubernetes.io/instance': 'demo' };
const labels = { ...selector, 'app.kubernetes.io/version': '1.0.0' };
const pod: WorkloadPodProps = {
  serviceAccountName: 'quotes',
  container: {
    name: 'quotes',
    image: 'ghcr.io/example/quotes:1.0.0',
    ports: [{ name: 'http', port: 8080 }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    probes: { readiness: { http: { path: '/ready', port: 'http' } } },
  },
  spread: [{ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }],
  preStopSeconds: 5,
};

function synth(build: (chart: Chart) => void): Obj[] {
  const chart = new Chart(Testing.app(), 'bare', { namespace: 'demo' });
  build(chart);
  return Testing.synth(chart) as Obj[];
}

describe('Workload without the platform configuration', () => {
  it('writes 3 fixed replicas and spreads the pods of each revision over zones by their selector', () => {
    const objects = synth(
      (chart) =>
        new Workload(chart, 'quotes', {
          name: 'quotes',
          labels,
          selector,
          pod,
          replicas: { min: 3, max: 3 },
          governingService: 'quotes',
        }),
    );
    const deployment = find(objects, 'Deployment', 'quotes') as Obj;
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.selector).toEqual({ matchLabels: selector });
    const template = deployment.spec.template;
    expect(template.metadata.labels).toEqual(labels);
    expect(template.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        nodeTaintsPolicy: 'Honor', // a cordoned (draining) node is no place to spread to
        labelSelector: { matchLabels: selector },
        matchLabelKeys: ['pod-template-hash'],
      },
    ]);
    const [container] = template.spec.containers;
    expect(container.lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '5'] } } });
    // ephemeral storage not given: the documented default
    expect(container.resources.requests['ephemeral-storage']).toBe('256Mi');
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(template.spec.automountServiceAccountToken).toBe(false);
  });

  it('leaves spec.replicas to the HPA when given a range', () => {
    const objects = synth(
      (chart) =>
        new Workload(chart, 'quotes', {
          name: 'quotes',
          labels,
          selector,
          pod,
          replicas: { min: 2, max: 6 },
          governingService: 'quotes',
        }),
    );
    expect((find(objects, 'Deployment', 'quotes') as Obj).spec.replicas).toBeUndefined();
  });

  it('makes a StatefulSet with a claim per pod, its revisions counted by controller-revision-hash', () => {
    const objects = synth((chart) => {
      const endpoints = new ServiceEndpoints(chart, 'endpoints', {
        name: 'quotes',
        selector,
        ports: [{ name: 'http', port: 8080 }],
        headless: true,
      });
      new Workload(chart, 'quotes', {
        name: 'quotes',
        labels,
        selector,
        pod,
        replicas: { min: 3, max: 3 },
        governingService: endpoints.name,
        kind: 'statefulset',
        storage: { size: '1Gi', mountPath: '/data', storageClass: 'fast' },
        startTogether: true,
      });
    });
    const set = find(objects, 'StatefulSet', 'quotes') as Obj;
    expect(set.spec).toMatchObject({ serviceName: 'quotes', replicas: 3, podManagementPolicy: 'Parallel' });
    expect(set.spec.volumeClaimTemplates[0].spec).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '1Gi' } },
    });
    expect(set.spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(set.spec.template.spec.topologySpreadConstraints[0].matchLabelKeys).toEqual(['controller-revision-hash']);
    expect((find(objects, 'Service', 'quotes') as Obj).spec.clusterIP).toBe('None');
  });
});

describe('DisruptionBudget without the platform configuration', () => {
  it('lets one pod of the selected ones go at a time, and unhealthy pods always', () => {
    const objects = synth((chart) => new DisruptionBudget(chart, 'pdb', { name: 'quotes', selector }));
    expect((find(objects, 'PodDisruptionBudget', 'quotes') as Obj).spec).toEqual({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: selector },
    });
  });
});
