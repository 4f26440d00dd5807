import { CLUSTER_SCOPED_KINDS, fileNameOf, find, ofKind } from '../../core/manifest';
import { foreignNamespaces } from '../../core/namespaces';
import { LABEL } from '../../constructs/labels';
import { configOf, manifestsOf, PLATFORM_TARGETS, referencePlatform, TARGETS } from '../helpers';

describe.each(TARGETS)('target %s', (target) => {
  const manifests = () => manifestsOf(target);
  const config = () => configOf(target);

  it('puts namespaced objects in the target namespace and cluster-scoped ones in none', () => {
    for (const m of manifests()) {
      const foreign = foreignNamespaces(config()).find((f) => f.kinds.includes(m.kind));
      if (CLUSTER_SCOPED_KINDS.has(m.kind)) expect([m.kind, m.metadata.namespace]).toEqual([m.kind, undefined]);
      // Velero Schedules go to Velero's namespace (core/namespaces.ts)
      else if (foreign)
        expect([m.kind, m.metadata.name, m.metadata.namespace]).toEqual([m.kind, m.metadata.name, foreign.namespace]);
      else
        expect([m.kind, m.metadata.name, m.metadata.namespace]).toEqual([m.kind, m.metadata.name, config().namespace]);
    }
  });

  it('names objects and files without construct-path hashes', () => {
    for (const m of manifests()) {
      expect(m.metadata.name).not.toMatch(/-[0-9a-f]{8}$/);
      expect(m.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
    const files = manifests().map(fileNameOf);
    expect(new Set(files).size).toBe(files.length);
  });

  it('carries the standard labels on every object', () => {
    for (const m of manifests()) {
      expect(m.metadata.labels?.[LABEL.partOf]).toBe('trading-platform');
      expect(m.metadata.labels?.[LABEL.managedBy]).toBe('cdk8s');
    }
    for (const service of Object.values(config().services)) {
      const labels = find(manifests(), 'Service', service.name).metadata.labels!;
      expect(labels[LABEL.name]).toBe(service.name);
      expect(labels[LABEL.component]).toBe(service.component);
      expect(labels[LABEL.version]).toBe(service.image.split(':').pop());
      expect(labels[LABEL.instance]).toBe(`trading-platform-${config().environment}`);
    }
  });

  it('selects pods by stable labels only (name and instance, never a version or a path)', () => {
    for (const m of [
      ...ofKind(manifests(), 'Deployment'),
      ...ofKind(manifests(), 'StatefulSet'),
      ...ofKind(manifests(), 'Rollout'),
    ]) {
      const selector = (m.spec as any).selector.matchLabels;
      expect(Object.keys(selector).sort()).toEqual([LABEL.instance, LABEL.name]);
      expect(selector[LABEL.name]).toBe(m.metadata.name);
      const podLabels = (m.spec as any).template.metadata.labels;
      for (const [k, v] of Object.entries(selector)) expect(podLabels[k]).toBe(v);
    }
    for (const svc of ofKind(manifests(), 'Service').filter((s) => (s.spec as any).type !== 'ExternalName')) {
      expect(Object.keys((svc.spec as any).selector).sort()).toEqual([LABEL.instance, LABEL.name]);
    }
  });

  it('has one workload, Service, ServiceAccount and PodDisruptionBudget per service', () => {
    for (const service of Object.values(config().services)) {
      const workloads = manifests().filter(
        (m) => ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind) && m.metadata.name === service.name,
      );
      expect(workloads.map((w) => w.kind)).toHaveLength(1);
      expect(workloads[0].kind).toBe(
        service.workload === 'statefulset'
          ? 'StatefulSet'
          : service.release?.strategy === 'blueGreen'
            ? 'Rollout'
            : 'Deployment',
      );
      find(manifests(), 'Service', service.name);
      find(manifests(), 'ServiceAccount', service.name);
      find(manifests(), 'PodDisruptionBudget', service.name);
    }
  });
});

describe('the targets', () => {
  it('are one per environment file and one per region of an environment with regions', () => {
    const folders = referencePlatform()
      .outputs.map((o) => o.folder)
      .filter((f) => f !== 'argocd')
      .sort();
    expect(folders).toEqual([...TARGETS].sort());
    expect(
      referencePlatform()
        .configs.map((c) => c.target)
        .sort(),
    ).toEqual(folders);
  });

  it('include the four of PLATFORM.md', () => {
    expect(referencePlatform().outputs.map((o) => o.folder)).toEqual(expect.arrayContaining([...PLATFORM_TARGETS]));
  });

  it('write a README per target that Argo CD does not apply', () => {
    for (const output of referencePlatform().outputs.filter((o) => o.folder !== 'argocd')) {
      expect(output.files.get('README.md')).toContain(`# ${output.folder}`);
      const nonManifests = [...output.files.keys()].filter((f) => !f.endsWith('.yaml'));
      expect(nonManifests).toEqual(['README.md']);
    }
  });
});
