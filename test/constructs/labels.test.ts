import { TargetConfig } from '../../config/types';
import { find, Manifest } from '../../core/manifest';
import { synthTarget } from '../../pipeline/synth';
import { configOf, manifestsOf, TARGETS } from '../helpers';

/**
 * What the labels mean, asked of the synthesized objects (never recomputed with constructs/labels.ts):
 * the pods of a service are found by everything that must find them, a release does not change
 * what selects them, and every value is one the API server takes.
 */

type Obj = Record<string, any>;
const WORKLOADS = ['Deployment', 'StatefulSet', 'Rollout'];
/** A label value as the API server validates it (IsValidLabelValue), written out here on purpose. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
const workloadsOf = (manifests: readonly Manifest[]) => manifests.filter((m) => WORKLOADS.includes(m.kind)) as Obj[];
const podLabelsOf = (workload: Obj): Record<string, string> => workload.spec.template.metadata.labels;

describe.each(TARGETS)('the labels of %s', (target) => {
  const manifests = () => manifestsOf(target);
  const config = () => configOf(target);

  it("let every workload's pods be found by its own selector, its Service, its PodDisruptionBudget and its NetworkPolicy", () => {
    for (const w of workloadsOf(manifests())) {
      const name = w.metadata.name;
      const labels = podLabelsOf(w);
      expect([name, selects(w.spec.selector.matchLabels, labels)]).toEqual([name, true]);
      const service = find(manifests(), 'Service', name) as Obj;
      expect([name, selects(service.spec.selector, labels)]).toEqual([name, true]);
      const budgets = manifests().filter(
        (m) => m.kind === 'PodDisruptionBudget' && selects((m as Obj).spec.selector.matchLabels, labels),
      );
      expect([name, budgets.map((b) => b.metadata.name)]).toEqual([name, [name]]);
      const policy = find(manifests(), 'NetworkPolicy', name) as Obj;
      expect([name, selects(policy.spec.podSelector.matchLabels, labels)]).toEqual([name, true]);
    }
  });

  it('never let a Service or budget of one service find the pods of another', () => {
    const workloads = workloadsOf(manifests());
    for (const m of manifests().filter((x) => x.kind === 'Service' || x.kind === 'PodDisruptionBudget') as Obj[]) {
      const selector = m.kind === 'Service' ? m.spec.selector : m.spec.selector.matchLabels;
      const found = workloads.filter((w) => selects(selector, podLabelsOf(w))).map((w) => w.metadata.name);
      // a Service without a selector (an external peer's) finds no pods; a blue/green preview Service finds its service's
      expect([
        m.kind,
        m.metadata.name,
        found.every((n) => m.metadata.name === n || m.metadata.name === `${n}-preview`),
      ]).toEqual([m.kind, m.metadata.name, true]);
    }
  });

  it("give app.kubernetes.io/version the tag of the service's image, or the first 12 hex digits of its digest", () => {
    for (const w of workloadsOf(manifests())) {
      const image: string = w.spec.template.spec.containers.find((c: Obj) => c.name === w.metadata.name).image;
      const digest = /@sha256:([0-9a-f]{12})/.exec(image);
      const tag = /:([^:/@]+)(@|$)/.exec(image);
      const expected = tag ? tag[1] : digest![1];
      expect([
        w.metadata.name,
        podLabelsOf(w)['app.kubernetes.io/version'],
        w.metadata.labels['app.kubernetes.io/version'],
      ]).toEqual([w.metadata.name, expected, expected]);
    }
  });

  it('set the instance to the platform and environment, the same in every region of it', () => {
    const instance = `${config().platform.name}-${config().environment}`;
    for (const m of manifests()) {
      const value = m.metadata.labels?.['app.kubernetes.io/instance'];
      if (value !== undefined) expect([m.kind, m.metadata.name, value]).toEqual([m.kind, m.metadata.name, instance]);
    }
    for (const w of workloadsOf(manifests())) expect(podLabelsOf(w)['app.kubernetes.io/instance']).toBe(instance);
  });

  it('are valid label values everywhere, and no selector holds a construct path or a version', () => {
    const check = (where: string, labels: Record<string, string> | undefined) => {
      for (const [key, value] of Object.entries(labels ?? {})) {
        expect([where, key, value, value.length <= 63 && LABEL_VALUE.test(value)]).toEqual([where, key, value, true]);
      }
    };
    for (const m of manifests() as Obj[]) {
      const where = `${m.kind}/${m.metadata.name}`;
      check(where, m.metadata.labels);
      check(`${where} pods`, m.spec?.template?.metadata?.labels);
    }
    for (const w of workloadsOf(manifests())) {
      const selector = w.spec.selector.matchLabels;
      expect(Object.keys(selector).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name']);
      expect(selector['app.kubernetes.io/name']).toBe(w.metadata.name);
    }
  });
});

describe('a release', () => {
  // a new image must not change a selector: a Deployment's selector is immutable, and a Service or
  // budget that stopped finding the old pods would drop them before the new ones are ready
  it('changes the version label of the pods and nothing that selects them', () => {
    const before = configOf('staging');
    const service = before.services['ml-service'];
    const after: TargetConfig = {
      ...before,
      services: {
        ...before.services,
        'ml-service': { ...service, image: 'ghcr.io/trading-platform/ml-service:0.10.0' },
      },
    };
    const selectorsOf = (manifests: readonly Manifest[]) =>
      (manifests as readonly Obj[]).flatMap((m) =>
        [
          m.spec?.selector,
          m.spec?.podSelector,
          ...(m.spec?.template?.spec?.topologySpreadConstraints ?? []).map((c: Obj) => c.labelSelector),
        ]
          .filter(Boolean)
          .map((s) => [m.kind, m.metadata.name, s]),
      );
    const old = manifestsOf('staging');
    const released = synthTarget(after);
    expect(selectorsOf(released)).toEqual(selectorsOf(old));
    expect(podLabelsOf(find(released, 'Deployment', 'ml-service'))['app.kubernetes.io/version']).toBe('0.10.0');
    expect(podLabelsOf(find(old, 'Deployment', 'ml-service'))['app.kubernetes.io/version']).toBe('0.9.4');
  });
});
