/**
 * Test support: answers "may A reach B on port P?" over synthesized NetworkPolicies, with the
 * semantics of Kubernetes' networking.k8s.io/v1 NetworkPolicy (the API reference and the
 * "Network Policies" concept page):
 *
 * - A pod is isolated for ingress (egress) when at least one policy in its namespace selects it
 *   (`spec.podSelector`) and has Ingress (Egress) in its policy types. Without `policyTypes`,
 *   Ingress is implied, and Egress when the policy has an `egress` section.
 * - A connection is allowed when the source's egress allows it (or the source is not isolated
 *   for egress, or is not a pod) AND the destination's ingress allows it (same). Policies are
 *   additive: one rule of one selecting policy is enough.
 * - A rule with no `from`/`to` matches every peer; with no `ports` every port. A peer is a
 *   `podSelector` (pods in the policy's namespace), a `namespaceSelector` (all pods of the
 *   selected namespaces), both in one peer (AND), or an `ipBlock` (cidr minus except).
 *   Pod selectors never match traffic to or from plain IPs.
 * - A port is a number (with optional `endPort`) or a name, which resolves against the container
 *   ports of the destination pod; a named port never matches a plain IP. Protocol defaults to TCP.
 * - Namespaces carry `kubernetes.io/metadata.name: <name>` plus the labels of any Namespace
 *   object in the manifests or given in the options.
 */
import { cidrContains } from '../core/cidr';
import { Manifest } from '../core/manifest';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: Protocol;
}

/** A pod: its namespace and labels (and, to resolve named ports or match ipBlocks, its ports and IP). */
export interface PodEndpoint {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly ports?: readonly ContainerPort[];
  readonly ip?: string;
}

/** Something outside the cluster's pods, by address. */
export type IpEndpoint = { readonly ip: string } | { readonly ipBlock: string };

export type Endpoint = PodEndpoint | IpEndpoint;

export interface Verdict {
  readonly allowed: boolean;
  /** Why the source side decided as it did. */
  readonly egress: string;
  /** Why the destination side decided as it did. */
  readonly ingress: string;
}

type Obj = Record<string, any>;

interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: ReadonlyArray<{ key: string; operator: string; values?: string[] }>;
}

const isPod = (e: Endpoint): e is PodEndpoint => 'namespace' in e;
const ipOf = (e: Endpoint): string | undefined => (isPod(e) ? e.ip : 'ip' in e ? e.ip : e.ipBlock);

/** Whether a label selector selects a set of labels; `{}` selects everything. */
export function selects(selector: LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[expr.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expr.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown label selector operator ${expr.operator}`);
    }
  }
  return true;
}

export class NetworkEvaluator {
  private readonly policies: Obj[];
  private readonly namespaceLabels = new Map<string, Record<string, string>>();

  constructor(
    manifests: readonly Manifest[],
    options: { namespaceLabels?: Record<string, Record<string, string>> } = {},
  ) {
    this.policies = manifests.filter(
      (m) => m.kind === 'NetworkPolicy' && m.apiVersion === 'networking.k8s.io/v1',
    ) as Obj[];
    for (const m of manifests) {
      if (m.kind === 'Namespace') this.namespaceLabels.set(m.metadata.name, { ...(m.metadata.labels ?? {}) });
    }
    for (const [name, labels] of Object.entries(options.namespaceLabels ?? {})) {
      this.namespaceLabels.set(name, { ...(this.namespaceLabels.get(name) ?? {}), ...labels });
    }
  }

  /** Whether a connection from `from` to `to` on `port`/`protocol` is allowed. */
  mayReach(from: Endpoint, to: Endpoint, port: number, protocol: Protocol = 'TCP'): boolean {
    return this.check(from, to, port, protocol).allowed;
  }

  /** The decision with its reasons, for readable test failures. */
  check(from: Endpoint, to: Endpoint, port: number, protocol: Protocol = 'TCP'): Verdict {
    const egress = isPod(from)
      ? this.side('Egress', from, to, to, port, protocol)
      : { allowed: true, why: 'source is not a pod' };
    const ingress = isPod(to)
      ? this.side('Ingress', to, from, to, port, protocol)
      : { allowed: true, why: 'destination is not a pod' };
    return { allowed: egress.allowed && ingress.allowed, egress: egress.why, ingress: ingress.why };
  }

  /** Labels of a namespace, including the name label Kubernetes sets on every namespace. */
  labelsOfNamespace(name: string): Record<string, string> {
    return { ...(this.namespaceLabels.get(name) ?? {}), 'kubernetes.io/metadata.name': name };
  }

  private side(
    type: 'Ingress' | 'Egress',
    pod: PodEndpoint,
    peer: Endpoint,
    destination: Endpoint,
    port: number,
    protocol: Protocol,
  ): { allowed: boolean; why: string } {
    const selecting = this.policies.filter(
      (p) =>
        (p.metadata.namespace ?? 'default') === pod.namespace &&
        selects(p.spec?.podSelector ?? {}, pod.labels) &&
        policyTypesOf(p).includes(type),
    );
    if (!selecting.length) return { allowed: true, why: `not isolated for ${type.toLowerCase()}` };
    for (const policy of selecting) {
      const rules: Obj[] = (type === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
      for (const [i, rule] of rules.entries()) {
        const peers: Obj[] | undefined = type === 'Ingress' ? rule.from : rule.to;
        const peerOk =
          !peers ||
          peers.length === 0 ||
          peers.some((p) => this.peerMatches(p, policy.metadata.namespace ?? 'default', peer));
        const portOk =
          !rule.ports ||
          rule.ports.length === 0 ||
          rule.ports.some((p: Obj) => portMatches(p, destination, port, protocol));
        if (peerOk && portOk)
          return { allowed: true, why: `allowed by NetworkPolicy ${policy.metadata.name} ${type.toLowerCase()}[${i}]` };
      }
    }
    return {
      allowed: false,
      why: `denied: isolated for ${type.toLowerCase()} by ${selecting.map((p) => p.metadata.name).join(', ')} and no rule matches`,
    };
  }

  private peerMatches(peer: Obj, policyNamespace: string, endpoint: Endpoint): boolean {
    if (peer.ipBlock) {
      const ip = ipOf(endpoint);
      if (!ip) return false;
      return (
        cidrContains(peer.ipBlock.cidr, ip) && !(peer.ipBlock.except ?? []).some((e: string) => cidrContains(e, ip))
      );
    }
    if (!peer.podSelector && !peer.namespaceSelector) return false; // an empty peer is invalid; it matches nothing here
    if (!isPod(endpoint)) return false;
    const namespaceOk = peer.namespaceSelector
      ? selects(peer.namespaceSelector, this.labelsOfNamespace(endpoint.namespace))
      : endpoint.namespace === policyNamespace;
    const podOk = peer.podSelector ? selects(peer.podSelector, endpoint.labels) : true;
    return namespaceOk && podOk;
  }
}

function policyTypesOf(policy: Obj): string[] {
  if (policy.spec?.policyTypes?.length) return policy.spec.policyTypes;
  return policy.spec?.egress !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

function portMatches(rulePort: Obj, destination: Endpoint, port: number, protocol: Protocol): boolean {
  if ((rulePort.protocol ?? 'TCP') !== protocol) return false;
  if (rulePort.port === undefined || rulePort.port === null) return true;
  if (typeof rulePort.port === 'number') {
    return rulePort.endPort !== undefined ? port >= rulePort.port && port <= rulePort.endPort : port === rulePort.port;
  }
  // a named port: the destination pod's container port of that name and protocol
  if (!isPod(destination)) return false;
  return (destination.ports ?? []).some(
    (p) => p.name === rulePort.port && p.containerPort === port && (p.protocol ?? 'TCP') === protocol,
  );
}

/** Kinds whose pod template makes pods. */
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Rollout', 'DaemonSet', 'Job'];

/**
 * The pods a workload named `name` makes, as an endpoint: namespace, the template's labels (plus
 * Argo Rollouts' pod-template-hash for a Rollout, as the controller adds it) and container ports.
 */
export function podOf(manifests: readonly Manifest[], name: string): PodEndpoint {
  const workload = manifests.find((m) => WORKLOAD_KINDS.includes(m.kind) && m.metadata.name === name) as
    Obj | undefined;
  if (!workload) throw new Error(`no workload named ${name}`);
  const template = workload.spec.template;
  const labels = { ...(template.metadata?.labels ?? {}) };
  if (workload.kind === 'Rollout') labels['rollouts-pod-template-hash'] = '5d8f7c9b6f';
  const ports = (template.spec.containers ?? []).flatMap((c: Obj) => c.ports ?? []);
  return { namespace: workload.metadata.namespace, labels, ports };
}
