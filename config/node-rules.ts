import { effectiveResources } from './resources';
import { cpuMillis, formatCpu, formatMemory, memoryBytes } from '../core/quantity';
import { PathSegment, show } from './errors';
import { NodePoolConfig, ServiceConfig, TargetConfig } from './types';

/** The requests of one pod of a service in a target: its container plus its sidecars. */
export function podRequestsOf(config: TargetConfig, service: ServiceConfig): { cpu: number; memory: number } {
  const containers = [
    effectiveResources(config, service),
    ...(service.sidecars ?? []).map((s) => effectiveResources(config, service, s.resources)),
  ];
  return containers.reduce(
    (acc, r) => ({ cpu: acc.cpu + cpuMillis(r.requests.cpu), memory: acc.memory + memoryBytes(r.requests.memory) }),
    { cpu: 0, memory: 0 },
  );
}

/** Nodes, CPU (millicores), memory (bytes) and pods of a pool, or of the pool less one zone. */
export function poolCapacity(
  nodes: NodePoolConfig,
  zonesDown = 0,
): { nodes: number; cpu: number; memory: number; pods: number } {
  const count = Math.max(0, nodes.zones.length - zonesDown) * nodes.perZone;
  return {
    nodes: count,
    cpu: count * cpuMillis(nodes.cpu),
    memory: count * memoryBytes(nodes.memory),
    pods: count * nodes.pods,
  };
}

/**
 * The node pool (`cluster.nodes`) must be able to run the target: every pod fits one node (else
 * it stays Pending: FailedScheduling "Insufficient cpu"), spreading over zones needs more than one
 * zone, and with any one zone drained the remaining nodes still hold the namespace quota's requests
 * and pods (so the quota, not the nodes, is what limits scaling, also during a zone outage). The
 * live twin (test/live) runs the target on exactly this pool.
 */
export function checkNodeRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  const nodes = config.cluster.nodes;
  if (!nodes) return;
  const nodeCpu = cpuMillis(nodes.cpu);
  const nodeMemory = memoryBytes(nodes.memory);
  for (const service of Object.values(config.services)) {
    const pod = podRequestsOf(config, service);
    const sidecars = service.sidecars?.length
      ? ` (with its sidecars ${service.sidecars.map((s) => s.name).join(', ')})`
      : '';
    if (pod.cpu > nodeCpu) {
      at(
        ['services', service.name, 'resources', 'requests', 'cpu'],
        `a pod of "${service.name}" requests ${formatCpu(pod.cpu)} CPU${sidecars}, more than one node's allocatable ${show(nodes.cpu)} (cluster.nodes.cpu): it can never be scheduled; lower the request or raise cluster.nodes.cpu`,
      );
    }
    if (pod.memory > nodeMemory) {
      at(
        ['services', service.name, 'resources', 'requests', 'memory'],
        `a pod of "${service.name}" requests ${formatMemory(pod.memory)} memory${sidecars}, more than one node's allocatable ${show(nodes.memory)} (cluster.nodes.memory): it can never be scheduled; lower the request or raise cluster.nodes.memory`,
      );
    }
  }
  if (config.availability.spread !== 'none' && nodes.zones.length < 2) {
    at(
      ['cluster', 'nodes', 'zones'],
      `has ${nodes.zones.length} zone but availability.spread is ${show(config.availability.spread)}: pods cannot spread over zones; list at least 2 zones (production: 3)`,
    );
  }
  if (config.tier === 'production' && nodes.zones.length < 3) {
    at(
      ['cluster', 'nodes', 'zones'],
      `has ${nodes.zones.length} zones; production spreads over three zones so that losing one leaves two thirds of every service; list 3 zones`,
    );
  }
  if (nodes.zones.length < 2) return;
  const left = poolCapacity(nodes, 1);
  const quota = config.quota;
  const short: string[] = [];
  if (left.cpu < cpuMillis(quota.requests.cpu))
    short.push(`CPU ${formatCpu(left.cpu)} < quota.requests.cpu ${show(quota.requests.cpu)}`);
  if (left.memory < memoryBytes(quota.requests.memory))
    short.push(`memory ${formatMemory(left.memory)} < quota.requests.memory ${show(quota.requests.memory)}`);
  if (left.pods < quota.pods) short.push(`pods ${left.pods} < quota.pods ${quota.pods}`);
  if (short.length) {
    at(
      ['cluster', 'nodes'],
      `with one of its ${nodes.zones.length} zones drained the pool's ${left.nodes} nodes cannot hold what the quota admits: ${short.join(', ')}; raise cluster.nodes.perZone, cpu, memory or pods, or lower the quota`,
    );
  }
}
