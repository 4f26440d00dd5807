import { pinnedNodeSelectorOf } from '../../config/model';
import { cpuMillis } from '../../core/quantity';
import { Manifest } from '../../core/manifest';
import { mayRunOn, preferenceFor, untoleratedTaints } from '../../core/scheduling';
import { onDemandNodesOf, spotNodeOf } from '../../pipeline/placement-check';
import { podTemplateOf } from '../../pipeline/pod-security';
import { renderPlacementSection } from '../../pipeline/placement-readme';
import { configOf, manifestsOf, TARGETS, withMutation } from '../helpers';

type Obj = Record<string, any>;
const WORKLOADS = ['Deployment', 'StatefulSet', 'Rollout'];

/** The long-lived workloads of a target with their pod specs. */
const workloadsOf = (target: string): Array<{ m: Manifest; pod: Obj }> =>
  manifestsOf(target)
    .filter((m) => WORKLOADS.includes(m.kind))
    .map((m) => ({ m, pod: podTemplateOf(m)!.spec }));

const spotTarget = 'production-us-east-1';

describe('spot capacity: which pods may land on a spot node', () => {
  it.each(TARGETS)('in %s, only ml-service in production (tolerations against the taint)', (target) => {
    const node = spotNodeOf(configOf(target));
    const onSpot = workloadsOf(target)
      .filter(({ pod }) => mayRunOn(pod, node))
      .map(({ m }) => m.metadata.name);
    expect(onSpot).toEqual(target.startsWith('production') ? ['ml-service'] : []);
  });

  it('keeps every on-demand pod off spot by the taint, the latency-critical and stateful ones included', () => {
    const node = spotNodeOf(configOf(spotTarget));
    for (const { m, pod } of workloadsOf(spotTarget).filter(({ m }) => m.metadata.name !== 'ml-service')) {
      expect([m.metadata.name, untoleratedTaints(pod, node)]).toEqual([m.metadata.name, node.taints]);
      expect(pod.tolerations).toBeUndefined();
    }
  });

  it('lets ml-service prefer spot nodes and still run on every on-demand node when the pool is gone', () => {
    const config = configOf(spotTarget);
    const ml = workloadsOf(spotTarget).find(({ m }) => m.metadata.name === 'ml-service')!.pod;
    expect(preferenceFor(ml, spotNodeOf(config).labels)).toBeGreaterThan(0);
    const onDemand = onDemandNodesOf(config);
    expect(onDemand).toHaveLength(3);
    for (const node of onDemand) expect(mayRunOn(ml, node)).toBe(true);
    expect(ml.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    // its zone spread counts only nodes whose taints the pod tolerates: the spot pool going away
    // removes no domain the on-demand pool does not have
    for (const c of ml.topologySpreadConstraints) expect(c.nodeTaintsPolicy).toBe('Honor');
  });

  it.each(TARGETS)('in %s, every workload has an on-demand node to go to', (target) => {
    const onDemand = onDemandNodesOf(configOf(target));
    for (const { m, pod } of workloadsOf(target))
      expect([m.metadata.name, onDemand.some((n) => mayRunOn(pod, n))]).toEqual([m.metadata.name, true]);
  });
});

describe('pinned CPUs: execution-gateway in production', () => {
  it.each(TARGETS.filter((t) => t.startsWith('production')))(
    'in %s, is Guaranteed with whole CPUs and selects the static-policy nodes, which the pool has',
    (target) => {
      const config = configOf(target);
      const gateway = workloadsOf(target).find(({ m }) => m.metadata.name === 'execution-gateway')!.pod;
      for (const c of gateway.containers) {
        expect(cpuMillis(String(c.resources.requests.cpu))).toBe(cpuMillis(String(c.resources.limits.cpu)));
        expect(c.resources.requests.memory).toBe(c.resources.limits.memory);
      }
      expect(cpuMillis(String(gateway.containers[0].resources.limits.cpu)) % 1000).toBe(0);
      expect(gateway.nodeSelector).toEqual(pinnedNodeSelectorOf(config));
      expect(onDemandNodesOf(config).every((n) => mayRunOn(gateway, n))).toBe(true);
      // nothing else is pinned
      const pinned = workloadsOf(target).filter(({ pod }) => pod.nodeSelector);
      expect(pinned.map(({ m }) => m.metadata.name)).toEqual(['execution-gateway']);
    },
  );

  it('is not pinned in development and staging (no static-policy nodes there)', () => {
    for (const target of ['development', 'staging'])
      expect(workloadsOf(target).filter(({ pod }) => pod.nodeSelector || pod.tolerations)).toEqual([]);
  });
});

describe('the placement policy over the synthesized objects', () => {
  const rules = (v: { rule: string }[]) => [...new Set(v.map((x) => x.rule))];
  const spotToleration = { key: 'karpenter.sh/capacity-type', operator: 'Equal', value: 'spot', effect: 'NoSchedule' };

  it('refuses a latency-critical pod that tolerates the spot taint, naming the configuration', () => {
    const v = withMutation('Rollout', 'execution-gateway', (m) => {
      m.spec.template.spec.tolerations = [spotToleration];
    });
    expect(rules(v)).toEqual(['spot-placement']);
    expect(v[0].message).toMatch(
      /so spot nodes are open to its pods; services\.execution-gateway\.placement is on-demand/,
    );
  });

  it('refuses the spot toleration on a service allowed on spot only by configuration, even if latency-critical there', () => {
    const v = withMutation(
      'Rollout',
      'execution-gateway',
      (m) => {
        m.spec.template.spec.tolerations = [spotToleration];
      },
      spotTarget,
      (c) => {
        c.services['execution-gateway'].placement = 'spot';
      },
    );
    expect(v.find((x) => x.rule === 'spot-placement')?.message).toMatch(/latency-critical/);
  });

  it('refuses a required spot affinity: without the pool the pods would stay Pending', () => {
    const v = withMutation('Deployment', 'ml-service', (m) => {
      m.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }] },
        ],
      };
    });
    expect(rules(v)).toEqual(['on-demand-fallback']);
  });

  it('refuses a spot service whose pods lost the toleration or the preference', () => {
    expect(
      rules(
        withMutation('Deployment', 'ml-service', (m) => {
          delete m.spec.template.spec.tolerations;
          delete m.spec.template.spec.affinity;
        }),
      ),
    ).toEqual(['spot-placement']);
  });

  it('refuses a pinned service whose pods do not select the static-policy nodes', () => {
    const v = withMutation('Rollout', 'execution-gateway', (m) => {
      delete m.spec.template.spec.nodeSelector;
    });
    expect(rules(v)).toEqual(['cpu-pinning']);
  });

  it('refuses a pinned pod whose sidecar-free container lost Guaranteed QoS', () => {
    const v = withMutation('Rollout', 'execution-gateway', (m) => {
      m.spec.template.spec.containers[0].resources.requests.cpu = '1500m';
    });
    expect(rules(v)).toEqual(['guaranteed-qos']);
  });
});

describe('the target README section "Nodes: spot capacity and pinned CPUs"', () => {
  it('names the spot workloads, what happens when the pool goes, the pinned cores and the node requirement', () => {
    const text = renderPlacementSection(configOf(spotTarget), manifestsOf(spotTarget))!;
    expect(text).toContain(
      '| ml-service | Deployment | yes, preferred | rescheduled on on-demand nodes, drained within its PDB (maxUnavailable 1) | – |',
    );
    expect(text).toContain(
      '| execution-gateway | Rollout | no | not affected | 2 (execution-gateway); nodes `cpumanager=true` |',
    );
    expect(text).toContain('| redis | StatefulSet | no | not affected | – |');
    expect(text).toMatch(/--cpu-manager-policy=static/);
    expect(text).toMatch(/taint\n`karpenter\.sh\/capacity-type=spot:NoSchedule`/);
  });

  it('is left out of a target that uses neither', () => {
    expect(renderPlacementSection(configOf('staging'), manifestsOf('staging'))).toBeUndefined();
  });
});
