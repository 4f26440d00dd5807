/**
 * Where the synthesized pods may run, asked of the objects with the scheduler's own filters
 * (core/scheduling.ts), whoever built them: only services placed on spot (and allowed there)
 * tolerate the spot pool's taint; every pod has a node of the on-demand pool to go to when the spot pool is
 * gone; pinned pods select the nodes of the static CPU manager policy.
 */
import { carries, spotProblem } from '../config/placement-rules';
import { pinnedNodeSelectorOf, spotPoolOf } from '../config/model';
import { ServiceConfig, TargetConfig } from '../config/types';
import { filesOf } from '../config/workload-rules';
import { ZONE_KEY } from '../config/availability-rules';
import { LABEL } from '../constructs/labels';
import { Manifest, Obj } from '../core/manifest';
import { mayRunOn, NodeFacts, PodPlacement, preferenceFor, untoleratedTaints } from '../core/scheduling';
import { podTemplateOf } from './pod-security';

export interface PlacementFinding {
  readonly rule: 'spot-placement' | 'on-demand-fallback' | 'cpu-pinning';
  readonly manifest: Manifest;
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

/** A node of the target's spot pool, as the scheduler sees it. */
export function spotNodeOf(config: TargetConfig): NodeFacts {
  const { label, taint } = spotPoolOf(config);
  return { labels: { ...(config.cluster.spot?.nodes?.labels ?? {}), [label.key]: label.value }, taints: [taint] };
}

/** The nodes of the on-demand pool (`cluster.nodes`), one per zone, as the scheduler sees them. */
export function onDemandNodesOf(config: TargetConfig): NodeFacts[] {
  const nodes = config.cluster.nodes;
  return (nodes?.zones ?? []).map((zone) => ({ labels: { ...(nodes?.labels ?? {}), [ZONE_KEY]: zone } }));
}

/** Whether a pod spec mounts a claim (a StatefulSet's template or a PVC volume): its state has a zone. */
function claimsVolume(m: Obj, spec: Obj): boolean {
  return (
    (m.spec?.volumeClaimTemplates ?? []).length > 0 || (spec.volumes ?? []).some((v: Obj) => v.persistentVolumeClaim)
  );
}

export function checkPlacement(config: TargetConfig, manifests: readonly Manifest[]): PlacementFinding[] {
  const findings: PlacementFinding[] = [];
  const spotNode = spotNodeOf(config);
  const onDemand = onDemandNodesOf(config);
  const pinned = pinnedNodeSelectorOf(config);
  const { label } = spotPoolOf(config);
  for (const m of manifests) {
    const template = podTemplateOf(m);
    if (!template) continue;
    const pod = template.spec as PodPlacement;
    const service: ServiceConfig | undefined = config.services[m.metadata.labels?.[LABEL.name] ?? m.metadata.name];
    // the main workload of a configured service (not its smoke-test Job)
    const own = service && m.metadata.name === service.name;
    const add = (rule: PlacementFinding['rule'], field: string, message: string, fix: string) =>
      findings.push({ rule, manifest: m, field: `${template.path}.${field}`, message, fix });

    // tolerating the taint is what opens the pool (its labels may match anything): on-demand
    // services must not tolerate it, whatever else keeps them off spot today
    if (untoleratedTaints(pod, spotNode).length === 0) {
      const why = !own
        ? `no configuration places ${m.kind}/${m.metadata.name} on spot`
        : service.placement !== 'spot'
          ? `services.${service.name}.placement is ${service.placement ?? 'on-demand (the default)'}`
          : (spotProblem(service) ??
            (claimsVolume(m, template.spec) ? `its pods mount a volume claim, which has a zone` : undefined));
      if (why) {
        add(
          'spot-placement',
          'tolerations',
          `tolerates the spot pool's taint ${spotNode.taints![0].key}=${spotNode.taints![0].value}:${spotNode.taints![0].effect}, so spot nodes are open to its pods; ${why}`,
          own
            ? `set services.${service.name}.placement to on-demand in ${filesOf(config)}; if it already is, the construct added the toleration on the way (constructs/pod-template.ts)`
            : `remove the toleration from the construct that builds ${m.kind}/${m.metadata.name}`,
        );
      }
    } else if (own && service.placement === 'spot') {
      add(
        'spot-placement',
        'tolerations',
        `services.${service.name}.placement is spot, but its pods do not tolerate the spot pool's taint: they never use it`,
        'keep the spot props of the pod template (charts/service-props.ts, constructs/pod-template.ts)',
      );
    }
    if (own && service.placement === 'spot' && preferenceFor(pod, spotNode.labels) === 0) {
      add(
        'spot-placement',
        'affinity.nodeAffinity',
        `services.${service.name}.placement is spot, but its pods do not prefer nodes labelled ${label.key}=${label.value}`,
        'keep the preferred node affinity of the pod template (constructs/pod-template.ts)',
      );
    }
    // with the spot pool gone (reclaimed, scaled to zero) every pod needs an on-demand node
    if (onDemand.length && !onDemand.some((node) => mayRunOn(pod, node))) {
      add(
        'on-demand-fallback',
        'affinity',
        `no node of the on-demand pool (cluster.nodes) admits these pods (nodeSelector ${JSON.stringify(pod.nodeSelector ?? {})}, required node affinity ${JSON.stringify(pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null)}): without the spot pool they stay Pending`,
        'prefer the spot label (preferredDuringScheduling), never require it; label cluster.nodes with what the pods select',
      );
    }
    if (own && service.cpuPinning && !carries(pod.nodeSelector, pinned)) {
      add(
        'cpu-pinning',
        'nodeSelector',
        `services.${service.name}.cpuPinning is true, but its pods do not select the nodes of the static CPU manager policy (${JSON.stringify(pinned)}): on another node their cores are shared`,
        'keep the nodeSelector of the pod template (charts/service-props.ts sets it from cluster.cpuPinning.nodeSelector)',
      );
    }
  }
  return findings;
}
