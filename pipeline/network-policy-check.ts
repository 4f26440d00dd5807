import { ServiceConfig, TargetConfig } from '../config/types';
import { selectorLabels } from '../charts/service-props';
import { LABEL } from '../constructs/labels';
import { cidrContains, cidrInside, wideCidrs, WIDEST_PREFIX } from '../core/cidr';
import { HBONE_PORT, meshNamespacesOf, PROBE_SNAT_ADDRESS } from '../config/mesh-rules';
import { meshOf } from '../config/model';
import { NAMESPACE_NAME_LABEL } from '../constructs/network-policies';
import { Manifest, Obj } from '../core/manifest';
import { podTemplateOf } from './pod-security';
import { isReason } from '../core/reason';
import { Collector, collectorOf, samplingRatioOf } from '../config/tracing-rules';

/** A broken network rule, in the shape pipeline/policy.ts reports. */
export interface NetworkFinding {
  readonly rule: string;
  /** The offending policy; undefined when something is missing. */
  readonly manifest?: Manifest;
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
};

/** Whether a label selector (matchLabels and matchExpressions) picks a pod with these labels. */
function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    byLabels &&
    (selector.matchExpressions ?? []).every((e) => {
      const has = Object.prototype.hasOwnProperty.call(labels, e.key);
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(labels[e.key]);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(labels[e.key]);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return true; // an unknown operator: assume it selects, so its blocks are judged
      }
    })
  );
}

/** The labels of the pods a manifest runs, when it runs any. */
function podLabelsOf(m: Obj): Record<string, string> | undefined {
  if (!podTemplateOf(m)) return undefined;
  if (m.kind === 'Pod') return m.metadata?.labels ?? {};
  if (m.kind === 'CronJob') return m.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {};
  return m.spec?.template?.metadata?.labels ?? {};
}

/**
 * Zero trust over the synthesized NetworkPolicies, whoever made them: the namespace has a default
 * deny of ingress and egress; no rule allows every peer or every port; and the ipBlocks that the
 * pods of one workload may reach (egress) or be reached from (ingress), over every policy that
 * selects them (policies add up), do not open (nearly) the whole internet (core/cidr.ts,
 * wideCidrs), unless the blocks lie inside external peers that declare a reason and that the
 * workload's own service depends on: a justified 0.0.0.0/0 of one peer never excuses the same
 * block in another service's policy, and 256 rules of one /8 each are judged as the /0 they add
 * up to. A policy that selects no workload is judged on its own.
 */
export function checkNetworkPolicies(config: TargetConfig, manifests: readonly Manifest[]): NetworkFinding[] {
  const findings: NetworkFinding[] = [];
  const policies = manifests.filter((m) => m.kind === 'NetworkPolicy') as Obj[];
  const namespaceOf = (m: Obj): string => m.metadata?.namespace ?? config.namespace;
  const denies = policies.some(
    (p) =>
      namespaceOf(p) === config.namespace &&
      Object.keys(p.spec?.podSelector ?? { x: 1 }).length === 0 &&
      ['Ingress', 'Egress'].every((t) => (p.spec.policyTypes ?? []).includes(t)) &&
      !(p.spec.ingress ?? []).length &&
      !(p.spec.egress ?? []).length,
  );
  if (!denies) {
    findings.push({
      rule: 'network-default-deny',
      field: '',
      message: `namespace "${config.namespace}" has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)`,
      fix: 'keep NamespaceNetworkPolicies in the chart',
    });
  }
  // services by each `key=value` of their selector labels, so a policy looks only at plausible ones
  const byLabel = new Map<string, Array<{ service: ServiceConfig; labels: Record<string, string> }>>();
  for (const svc of Object.values(config.services)) {
    const labels = selectorLabels(config, svc);
    for (const [k, v] of Object.entries(labels)) {
      const bucket = byLabel.get(`${k}=${v}`);
      if (bucket) bucket.push({ service: svc, labels });
      else byLabel.set(`${k}=${v}`, [{ service: svc, labels }]);
    }
  }
  // the service a policy is for: the first, in declaration order, whose selector labels the
  // policy's selector matches; it is in the bucket of every pair of the selector, so the smallest bucket will do
  const serviceOfPolicy = (policy: Obj): ServiceConfig | undefined => {
    const pairs = Object.entries((policy.spec?.podSelector?.matchLabels ?? {}) as Record<string, string>);
    const buckets = pairs.map(([k, v]) => byLabel.get(`${k}=${v}`) ?? []);
    const smallest = buckets.length ? buckets.reduce((a, b) => (b.length < a.length ? b : a)) : [];
    return smallest.find(({ labels }) => pairs.every(([k, v]) => labels[k] === v))?.service;
  };
  // the justified peers of a service: those with a reason that it depends on, and the external
  // collector of its traces (an implicit dependency of every traced service)
  const tracingPeer = collectorOf(config)?.external;
  const justifiedFor = (service: ServiceConfig | undefined): ReadonlyArray<{ name: string; cidrs: string[] }> => [
    ...(service?.dependsOn ?? []).flatMap((d) =>
      'external' in d && isReason(config.externals[d.external]?.reason) ? [config.externals[d.external]] : [],
    ),
    ...(service && tracingPeer && isReason(tracingPeer.reason) && samplingRatioOf(config, service) !== undefined
      ? [tracingPeer]
      : []),
  ];

  const sides: Array<[string, string]> = [
    ['ingress', 'from'],
    ['egress', 'to'],
  ];
  for (const policy of policies) {
    for (const [side, peersKey] of sides) {
      (policy.spec?.[side] ?? []).forEach((rule: Obj, i: number) => {
        const at = `spec.${side}[${i}]`;
        if (!(rule[peersKey] ?? []).length) {
          findings.push({
            rule: 'network-least-privilege',
            manifest: policy as Manifest,
            field: `${at}.${peersKey}`,
            message: `is empty, which allows every ${side === 'ingress' ? 'source' : 'destination'}`,
            fix: 'derive the rule from the service graph (dependsOn, externals)',
          });
        }
        if (!(rule.ports ?? []).length) {
          findings.push({
            rule: 'network-least-privilege',
            manifest: policy as Manifest,
            field: `${at}.ports`,
            message: 'is empty, which allows every port',
            fix: 'name the ports of the flow',
          });
        }
      });
    }
  }

  // policies by the rarest `key=value` of their podSelector's matchLabels; those without any
  // matchLabels may select every pod and are asked of every workload
  const pairCount = new Map<string, number>();
  const pairsOf = (p: Obj) =>
    Object.entries((p.spec?.podSelector?.matchLabels ?? {}) as Record<string, string>).map(
      ([k, v]) => `${namespaceOf(p)}/${k}=${v}`,
    );
  for (const p of policies) for (const key of pairsOf(p)) pairCount.set(key, (pairCount.get(key) ?? 0) + 1);
  const index = new Map<string, Obj[]>();
  const everyPod: Obj[] = [];
  for (const p of policies) {
    const keys = pairsOf(p);
    if (!keys.length) {
      everyPod.push(p);
      continue;
    }
    const rarest = keys.reduce((a, b) => (pairCount.get(b)! < pairCount.get(a)! ? b : a));
    const bucket = index.get(rarest);
    if (bucket) bucket.push(p);
    else index.set(rarest, [p]);
  }

  // one group per workload (the policies that select its pods), one per policy that selects none
  const groups: Array<{ policies: Obj[]; service?: ServiceConfig; workload?: Obj }> = [];
  const order = new Map(policies.map((p, i) => [p, i]));
  const used = new Set<Obj>();
  for (const m of manifests as readonly Obj[]) {
    const labels = podLabelsOf(m);
    if (!labels) continue;
    const ns = namespaceOf(m);
    // each policy sits in one place only (everyPod or its rarest pair), so no candidate repeats
    const selecting: Obj[] = [];
    const consider = (p: Obj) => {
      if (namespaceOf(p) === ns && selects(p.spec?.podSelector, labels)) selecting.push(p);
    };
    everyPod.forEach(consider);
    for (const k in labels) index.get(`${ns}/${k}=${labels[k]}`)?.forEach(consider);
    selecting.sort((a, b) => order.get(a)! - order.get(b)!);
    selecting.forEach((p) => used.add(p));
    groups.push({
      policies: selecting,
      service: config.services[labels[LABEL.name] ?? m.metadata?.labels?.[LABEL.name] ?? m.metadata?.name],
      workload: m,
    });
  }
  for (const p of policies) if (!used.has(p)) groups.push({ policies: [p], service: serviceOfPolicy(p) });

  findings.push(...checkTracingFlows(config, groups));

  const reported = new Set<string>();
  const report = (policy: Obj, field: string, message: string, fix: string) => {
    const key = `${namespaceOf(policy)}/${policy.metadata.name}\n${field}\n${message}`;
    if (reported.has(key)) return;
    reported.add(key);
    findings.push({ rule: 'network-least-privilege', manifest: policy as Manifest, field, message, fix });
  };
  const fix = `narrow the blocks (/${WIDEST_PREFIX[4]} or narrower for IPv4, /${WIDEST_PREFIX[6]} for IPv6), or declare them under externals with a "reason" and depend on that peer`;
  for (const group of groups) {
    const justified = justifiedFor(group.service);
    const dependsOn = justified.length
      ? `; the peers with a reason this service depends on are ${justified.map((p) => p.name).join(', ')}, and they do not declare these blocks`
      : '';
    for (const [side, peersKey] of sides) {
      const blocks: Array<{ policy: Obj; field: string; cidr: string }> = [];
      for (const policy of group.policies) {
        (policy.spec?.[side] ?? []).forEach((rule: Obj, i: number) =>
          (rule[peersKey] ?? []).forEach((peer: Obj, j: number) => {
            if (peer?.ipBlock?.cidr === undefined) return;
            const cidr = String(peer.ipBlock.cidr);
            // a block inside a justified peer passes; `except` is ignored (it never narrows what is judged)
            if (justified.some((jp) => jp.cidrs.some((c) => cidrInside(cidr, c)))) return;
            blocks.push({ policy, field: `spec.${side}[${i}].${peersKey}[${j}].ipBlock.cidr`, cidr });
          }),
        );
      }
      for (const w of wideCidrs(blocks.map((b) => b.cidr))) {
        if (w.index !== undefined) {
          const b = blocks[w.index];
          report(
            b.policy,
            b.field,
            `${w.message} and no external peer this service depends on declares it with a reason${dependsOn}`,
            fix,
          );
          continue;
        }
        const involved = [...new Set(blocks.map((b) => b.policy))];
        const across =
          involved.length > 1
            ? ` (over the NetworkPolicies ${involved.map((p) => p.metadata.name).join(', ')}, which all select these pods)`
            : '';
        const who = group.service ? `the pods of service "${group.service.name}"` : 'the selected pods';
        report(
          involved[0],
          `spec.${side}`,
          `${w.message}: what ${who} may ${side === 'egress' ? 'reach' : 'be reached from'}${across}, and no external peer this service depends on declares them with a reason${dependsOn}`,
          fix,
        );
      }
    }
  }
  findings.push(...checkMeshPorts(config, policies, groups));
  return findings;
}

const hasPort = (rule: Obj, port: number) =>
  (rule.ports ?? []).some((p: Obj) => p.port === port && (p.protocol ?? 'TCP') === 'TCP');
/** A block aimed at ztunnel's probe address: it holds the address and lies inside the link-local range (a wide block that happens to hold it is judged as wide, not as this). */
const probeAddressIn = (peer: Obj) =>
  peer?.ipBlock?.cidr !== undefined &&
  cidrContains(String(peer.ipBlock.cidr), PROBE_SNAT_ADDRESS) &&
  cidrInside(String(peer.ipBlock.cidr), '169.254.0.0/16');

/** The TCP ports the kubelet probes on a pod template's containers (HTTP, TCP and gRPC probes), named ports resolved. */
export function probePortsOfTemplate(template: Obj | undefined): number[] {
  const containers: Obj[] = template?.spec?.containers ?? [];
  const named = new Map<string, number>(
    containers.flatMap((c) => (c.ports ?? []).map((p: Obj): [string, number] => [p.name, p.containerPort])),
  );
  const ports = new Set<number>();
  for (const c of containers) {
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      const ref = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
      const port = typeof ref === 'number' ? ref : named.get(ref);
      if (port !== undefined) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * The NetworkPolicies and Istio ambient's own ports ("Ambient and Kubernetes NetworkPolicy"):
 * with the mesh on, connections between meshed pods arrive as HBONE on port 15008, so a rule that
 * admits pods of the mesh (this namespace, Prometheus', the ingress controller's) on a TCP port
 * must admit 15008 from them too, or the flow is dropped; 15008 is opened to nobody outside the
 * mesh; and the kubelet's probes, which ztunnel sends from 169.254.7.127, are admitted from that
 * address on each probed port and on no other. With the mesh off, neither 15008 nor that address
 * has any business in a policy.
 */
function checkMeshPorts(
  config: TargetConfig,
  policies: readonly Obj[],
  groups: ReadonlyArray<{ policies: Obj[]; workload?: Obj }>,
): NetworkFinding[] {
  const findings: NetworkFinding[] = [];
  const mesh = meshOf(config);
  const sides: Array<[string, string]> = [
    ['ingress', 'from'],
    ['egress', 'to'],
  ];
  const meshed = meshNamespacesOf(config);
  const inMesh = (peer: Obj) =>
    !peer.ipBlock &&
    (peer.namespaceSelector === undefined ||
      meshed.has(peer.namespaceSelector?.matchLabels?.[NAMESPACE_NAME_LABEL] as string));
  for (const policy of policies) {
    for (const [side, peersKey] of sides) {
      (policy.spec?.[side] ?? []).forEach((rule: Obj, i: number) => {
        const peers: Obj[] = rule[peersKey] ?? [];
        const at = `spec.${side}[${i}]`;
        const tunnel = hasPort(rule, HBONE_PORT);
        if (!mesh) {
          if (tunnel)
            findings.push({
              rule: 'network-mesh-ports',
              manifest: policy as Manifest,
              field: `${at}.ports`,
              message: `opens port ${HBONE_PORT} (Istio ambient's HBONE tunnel), but the target has no mesh`,
              fix: 'remove the port, or turn the mesh on (mesh.mode: ambient)',
            });
          peers.forEach((peer, j) => {
            if (probeAddressIn(peer))
              findings.push({
                rule: 'network-mesh-ports',
                manifest: policy as Manifest,
                field: `${at}.${peersKey}[${j}].ipBlock`,
                message: `admits ${PROBE_SNAT_ADDRESS}, the address ztunnel gives the kubelet's probes, but the target has no mesh`,
                fix: 'remove the peer, or turn the mesh on (mesh.mode: ambient)',
              });
          });
          return;
        }
        if (!peers.length) return; // reported above as allowing every peer
        const tcp = (rule.ports ?? []).some((p: Obj) => (p.protocol ?? 'TCP') === 'TCP' && p.port !== HBONE_PORT);
        if (peers.every(inMesh) && tcp && !tunnel)
          findings.push({
            rule: 'network-mesh-ports',
            manifest: policy as Manifest,
            field: `${at}.ports`,
            message: `admits pods of the mesh on ${(rule.ports ?? []).map((p: Obj) => p.port).join(', ')} but not on ${HBONE_PORT}, where ztunnel carries their connections (HBONE): the flow would be dropped`,
            fix: `add port ${HBONE_PORT}/TCP to the rule (charts/service-props.ts adds it when mesh.mode is ambient)`,
          });
        if (tunnel && !peers.every(inMesh))
          findings.push({
            rule: 'network-mesh-ports',
            manifest: policy as Manifest,
            field: `${at}.ports`,
            message: `opens port ${HBONE_PORT} (HBONE) ${side === 'ingress' ? 'from' : 'to'} peers outside the mesh (address blocks or namespaces not enrolled: the mesh spans ${[...meshed].join(', ')})`,
            fix: `open ${HBONE_PORT} only between pods of the mesh`,
          });
        if (side === 'egress')
          peers.forEach((peer, j) => {
            if (probeAddressIn(peer))
              findings.push({
                rule: 'network-mesh-ports',
                manifest: policy as Manifest,
                field: `${at}.${peersKey}[${j}].ipBlock`,
                message: `sends to ${PROBE_SNAT_ADDRESS}, the address ztunnel gives the kubelet's probes, which only ever connects to the pods`,
                fix: 'remove the peer',
              });
          });
      });
    }
  }
  if (!mesh) return findings;
  // per workload: the probe address admitted on exactly its probed ports
  for (const group of groups) {
    if (!group.workload) continue;
    const probed = probePortsOfTemplate(podTemplateOf(group.workload));
    const admitted = new Set<number>();
    for (const policy of group.policies) {
      (policy.spec?.ingress ?? []).forEach((rule: Obj, i: number) => {
        if (!(rule.from ?? []).some(probeAddressIn)) return;
        for (const p of rule.ports ?? []) {
          admitted.add(p.port);
          if (!probed.includes(p.port))
            findings.push({
              rule: 'network-mesh-ports',
              manifest: policy as Manifest,
              field: `spec.ingress[${i}].ports`,
              message: `admits ${PROBE_SNAT_ADDRESS} (ztunnel's address for the kubelet's probes) on ${p.port}, which no probe of ${group.workload!.kind} "${group.workload!.metadata?.name}" uses`,
              fix: `admit the probe address on the probed ports only (${probed.join(', ') || 'none'})`,
            });
        }
      });
    }
    const missing = probed.filter((port) => !admitted.has(port));
    if (missing.length && group.policies.some((p) => (p.spec?.policyTypes ?? []).includes('Ingress')))
      findings.push({
        rule: 'network-mesh-ports',
        manifest: group.policies[group.policies.length - 1] as Manifest,
        field: 'spec.ingress',
        message: `the kubelet probes ${group.workload.kind} "${group.workload.metadata?.name}" on ${missing.join(', ')}, and in the ambient mesh its probes come from ${PROBE_SNAT_ADDRESS}, which no NetworkPolicy selecting these pods admits there: the pods would never become ready`,
        fix: `admit ${PROBE_SNAT_ADDRESS}/32 on the probed ports (charts/service-props.ts does when mesh.mode is ambient)`,
      });
  }
  return findings;
}

/** Whether a NetworkPolicy port entry admits a TCP port. */
function admitsPort(entry: Obj, port: number): boolean {
  if ((entry.protocol ?? 'TCP') !== 'TCP') return false;
  if (typeof entry.port !== 'number') return entry.port === undefined; // a named port never names the collector's
  return entry.endPort === undefined ? entry.port === port : entry.port <= port && port <= entry.endPort;
}

/** The TCP ports (or every port) an egress rule of a workload opens to the collector, when it reaches it at all. */
export function portsToCollector(rule: Obj, collector: Collector): { every: boolean; ports: Obj[] } | undefined {
  const reaches = (rule.to ?? []).some((peer: Obj) => {
    if (collector.inCluster) {
      if (!peer.namespaceSelector) return false;
      const { namespace, podSelector } = collector.inCluster;
      return (
        selects(peer.namespaceSelector, { [NAMESPACE_NAME_LABEL]: namespace }) &&
        (peer.podSelector === undefined || selects(peer.podSelector, podSelector))
      );
    }
    const cidr = peer.ipBlock?.cidr;
    return (
      cidr !== undefined &&
      collector.external!.cidrs.some((c) => cidrInside(c, String(cidr)) || cidrInside(String(cidr), c))
    );
  });
  if (!reaches) return undefined;
  return { every: !(rule.ports ?? []).length, ports: rule.ports ?? [] };
}

/**
 * Tracing over the synthesized NetworkPolicies: every traced workload may reach the collector on
 * its OTLP port (or its spans are lost without a sound), and no workload reaches an in-cluster
 * collector on any other port, nor at all when it is not traced. Exactly the one flow; with the
 * ambient mesh on and the collector in one of its namespaces, the flow travels as HBONE, so 15008
 * belongs to it too.
 */
function checkTracingFlows(
  config: TargetConfig,
  groups: ReadonlyArray<{ policies: Obj[]; service?: ServiceConfig }>,
): NetworkFinding[] {
  const collector = collectorOf(config);
  if (!collector) return [];
  const findings: NetworkFinding[] = [];
  const where = collector.inCluster
    ? `the collector's pods (${Object.entries(collector.inCluster.podSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}) in namespace "${collector.inCluster.namespace}"`
    : `the collector's external peer "${collector.external!.name}" (${collector.external!.cidrs.join(', ')})`;
  const tunnelled =
    meshOf(config) !== undefined &&
    collector.inCluster !== undefined &&
    meshNamespacesOf(config).has(collector.inCluster.namespace);
  const ownPort = (e: Obj) =>
    e.endPort === undefined && (admitsPort(e, collector.port) || (tunnelled && admitsPort(e, HBONE_PORT)));
  for (const group of groups) {
    const service = group.service;
    if (!service || !group.policies.length) continue;
    const traced = samplingRatioOf(config, service) !== undefined;
    let admitted = false;
    for (const policy of group.policies) {
      (policy.spec?.egress ?? []).forEach((rule: Obj, i: number) => {
        const opened = portsToCollector(rule, collector);
        if (!opened) return;
        if (opened.every || opened.ports.some((e) => admitsPort(e, collector.port))) admitted = true;
        // an external collector shares its CIDRs with nothing else; an in-cluster one is reached on its port only
        if (!collector.inCluster) return;
        const others = opened.every
          ? ['every port']
          : opened.ports
              .filter((e) => !ownPort(e))
              .map((e) => `${e.port}${e.endPort ? `-${e.endPort}` : ''}/${e.protocol ?? 'TCP'}`);
        if (!traced || others.length) {
          findings.push({
            rule: 'network-tracing',
            manifest: policy as Manifest,
            field: `spec.egress[${i}]`,
            message: traced
              ? `lets the pods of service "${service.name}" reach ${where} on ${others.join(', ')}; tracing needs port ${collector.port}/TCP only${tunnelled ? ` (and ${HBONE_PORT}, the mesh's tunnel)` : ''}`
              : `lets the pods of service "${service.name}", which is not traced, reach ${where}`,
            fix: traced
              ? `open the collector's OTLP port ${collector.port} only (charts/service-props.ts, tracingEgressOf)`
              : `remove the rule, or trace the service (services.${service.name}.tracing.enabled)`,
          });
        }
      });
    }
    if (traced && !admitted) {
      findings.push({
        rule: 'network-tracing',
        // the service's own policy, where the rule belongs
        manifest: (group.policies.find((p) => p.metadata?.name === service.name) ?? group.policies[0]) as Manifest,
        field: 'spec.egress',
        message: `service "${service.name}" is traced but no NetworkPolicy that selects its pods lets them reach ${where} on ${collector.port}/TCP, so its spans are dropped`,
        fix: `add egress to the collector on port ${collector.port} (charts/service-props.ts, tracingEgressOf)`,
      });
    }
  }
  return findings;
}
