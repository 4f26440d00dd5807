/**
 * Where a service's pods may run: spot capacity (`placement: spot`) and pinned CPUs (`cpuPinning`).
 * The predicates are written once; the configuration check below applies them at the line that
 * set them, pipeline/placement-check.ts to the synthesized pods (whoever built them).
 */
import { effectiveVpa, vpaActs } from './autoscaling-rules';
import { PathSegment, show } from './errors';
import { isStateful, latencyCriticalBecause, LatencyFacts, pinnedNodeSelectorOf } from './model';
import type { ServiceConfig, TargetConfig } from './types';

/**
 * Why a service may not run on spot capacity, or undefined when it may. A spot node is reclaimed
 * at two minutes' notice: a latency-critical service would lose its warm pods at the worst moment,
 * and a stateful one is bound to its volume (one zone, one node at a time), so its replacement
 * waits for that volume and a consensus group loses a member with every reclaimed node.
 */
export function spotProblem(service: LatencyFacts & Pick<ServiceConfig, 'name' | 'workload' | 'storage'>) {
  const because = latencyCriticalBecause(service);
  if (because.length) {
    const why = because.join(', ');
    return `service "${service.name}" is latency-critical (${why}): a spot node is reclaimed at two minutes' notice, taking its warm pods at any moment; allowed: "on-demand"`;
  }
  if (isStateful(service)) {
    const why = service.workload === 'statefulset' ? 'workload: statefulset' : 'storage';
    return `service "${service.name}" keeps state on a volume (${why}): a reclaimed spot node takes a replica whose replacement must wait for that volume in its zone; allowed: "on-demand"`;
  }
  return undefined;
}

/** Whether every key of `selector` is among `labels` with the same value. */
export function carries(labels: Readonly<Record<string, string>> | undefined, selector: Record<string, string>) {
  return Object.entries(selector).every(
    ([k, v]) => labels !== undefined && Object.hasOwn(labels, k) && labels[k] === v,
  );
}

const showLabels = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/**
 * Spot placement is refused for latency-critical and stateful services; CPU pinning needs Guaranteed
 * QoS (requests = limits in every container, whole CPUs: config/rules.ts applies the Guaranteed rule
 * of config/workload-rules.ts to pinned services), a VPA that leaves CPU alone (its recommendations
 * are fractional cores) and, where the node pool is declared, nodes that carry the pinned selector.
 */
export function checkPlacementRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  const selector = pinnedNodeSelectorOf(config);
  let poolReported = false;
  for (const service of Object.values(config.services)) {
    const base = ['services', service.name];
    if (service.placement === 'spot') {
      const problem = spotProblem(service);
      if (problem) at([...base, 'placement'], `"spot" is not allowed: ${problem}`);
    }
    if (!service.cpuPinning) continue;
    if (service.qos === 'burstable') {
      at(
        [...base, 'qos'],
        `"burstable" contradicts cpuPinning: true: the CPU manager gives exclusive cores only to Guaranteed pods; allowed: "guaranteed" (or leave qos out)`,
      );
    }
    const vpa = effectiveVpa(service);
    if (vpa && vpaActs(vpa.updateMode) && vpa.controlledResources.includes('cpu')) {
      at(
        [...base, 'vpa'],
        `the VPA of the pinned service "${service.name}" sets CPU (updateMode ${vpa.updateMode}): its recommendations are fractional cores, which lose the exclusive cores; set vpa.controlledResources to [memory] or vpa.updateMode to "Off"`,
      );
    }
    const nodes = config.cluster.nodes;
    if (nodes && !carries(nodes.labels, selector) && !poolReported) {
      poolReported = true;
      at(
        ['cluster', 'nodes', 'labels'],
        `${nodes.labels ? show(nodes.labels) : 'is not set'}: no node of the pool carries ${showLabels(selector)} (cluster.cpuPinning.nodeSelector), so the pinned pods of "${service.name}" could never be scheduled; label the nodes whose kubelet runs --cpu-manager-policy=static with it and list it under cluster.nodes.labels`,
      );
    }
  }
}
