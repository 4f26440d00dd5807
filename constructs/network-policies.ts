import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { PortConfig } from '../config/types';

/** The label Kubernetes (1.21+) puts on every namespace, with the namespace's name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * Cluster DNS: CoreDNS runs in kube-system with the `k8s-app: kube-dns` label on kubeadm, EKS,
 * GKE and AKS alike, and answers on 53 over UDP and (for large answers) TCP.
 */
export const CLUSTER_DNS = {
  namespace: 'kube-system',
  podLabels: { 'k8s-app': 'kube-dns' } as Record<string, string>,
  port: 53,
  protocols: ['UDP', 'TCP'] as Array<'UDP' | 'TCP'>,
};

/** Names of the namespace-wide policies; a service's own policy is named after the service. */
export const DEFAULT_DENY_POLICY = 'default-deny';
export const DNS_POLICY = 'allow-dns';

/** A port as NetworkPolicies use it: by number (named ports resolve per pod, numbers never surprise). */
export interface FlowPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

/** A port by number, its protocol spelled out. */
export const flowPort = (p: PortConfig): FlowPort => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' });

const policyPorts = (ports: readonly FlowPort[]): k8s.NetworkPolicyPort[] =>
  ports.map((p) => ({ port: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol }));

const namespacePeer = (namespace: string): k8s.NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
});

export interface NamespaceNetworkPoliciesProps {
  /** Labels of the policies. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
}

/**
 * Zero trust for the target's namespace: a default deny of all ingress and egress, and the one
 * thing every pod needs, DNS to the cluster's resolver in kube-system. Everything else is opened
 * per service by ServiceNetworkPolicy, from the graph.
 */
export class NamespaceNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: NamespaceNetworkPoliciesProps = {}) {
    super(scope, id);
    const { labels } = props;
    new k8s.KubeNetworkPolicy(this, 'default-deny', {
      metadata: { name: DEFAULT_DENY_POLICY, labels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new k8s.KubeNetworkPolicy(this, 'dns', {
      metadata: { name: DNS_POLICY, labels },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            // one peer with both selectors: kube-dns pods in kube-system, not all of kube-system
            to: [{ ...namespacePeer(CLUSTER_DNS.namespace), podSelector: { matchLabels: CLUSTER_DNS.podLabels } }],
            ports: CLUSTER_DNS.protocols.map((protocol) => ({
              port: k8s.IntOrString.fromNumber(CLUSTER_DNS.port),
              protocol,
            })),
          },
        ],
      },
    });
  }
}

/**
 * One side of a flow: pods of the policy's namespace by their labels, pods of another namespace,
 * a whole namespace, or address blocks outside the cluster.
 */
export interface PeerRef {
  /** Pods carrying these labels. @default - every pod of `namespace` (which is then required) */
  readonly pods?: Record<string, string>;
  /** Another namespace, by name. @default - the policy's own namespace */
  readonly namespace?: string;
  /** Address blocks (CIDRs), on their own: neither `pods` nor `namespace`. */
  readonly cidrs?: readonly string[];
}

/** A peer and the ports of the flow, by number. */
export interface PeerRule {
  readonly peer: PeerRef;
  readonly ports: readonly PortConfig[];
}

export interface ServiceNetworkPolicyProps {
  /** The policy's name (the service's). */
  readonly name: string;
  /** Labels of the policy. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels selecting the pods the policy isolates and opens. */
  readonly selector: Record<string, string>;
  /** Who may connect to the pods, and on which ports. @default - nobody */
  readonly ingress?: readonly PeerRule[];
  /** What the pods may connect to, and on which ports (DNS is opened namespace-wide). @default - nothing */
  readonly egress?: readonly PeerRule[];
}

/**
 * Both directions of a service's traffic, port by port, each flow given as a peer and its ports
 * (the chart derives them from the service graph: callers, callees, external peers, the ingress
 * controller, Prometheus). The policy selects the service's pods by their selector labels, so it
 * covers Deployment, StatefulSet and Rollout pods alike, and isolates both directions even when
 * nothing is allowed.
 */
export class ServiceNetworkPolicy extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: ServiceNetworkPolicyProps) {
    super(scope, id);
    this.name = props.name;
    const rule = (r: PeerRule) => ({ peers: peersOf(r.peer), ports: policyPorts(r.ports.map(flowPort)) });
    const ingress: k8s.NetworkPolicyIngressRule[] = (props.ingress ?? [])
      .map(rule)
      .map(({ peers, ports }) => ({ from: peers, ports }));
    const egress: k8s.NetworkPolicyEgressRule[] = (props.egress ?? [])
      .map(rule)
      .map(({ peers, ports }) => ({ to: peers, ports }));
    this.node.addValidation({
      validate: () =>
        [...(props.ingress ?? []), ...(props.egress ?? [])].flatMap((r) => {
          const { pods, namespace, cidrs } = r.peer;
          if (cidrs && (pods || namespace))
            return [
              `NetworkPolicy "${props.name}": a peer with cidrs (${cidrs.join(', ')}) must not also name pods or a namespace; give them as separate peers`,
            ];
          if (!cidrs && !pods && namespace === undefined)
            return [
              `NetworkPolicy "${props.name}": a peer names no pods, namespace or cidrs; say which pods may connect (an empty pods selector means every pod of the namespace)`,
            ];
          return [];
        }),
    });

    new k8s.KubeNetworkPolicy(this, 'resource', {
      metadata: { name: props.name, labels: props.labels },
      spec: {
        podSelector: { matchLabels: props.selector },
        // both types stay isolated; an empty list is left out because the API server drops it,
        // which would show as a permanent diff in Argo CD
        policyTypes: ['Ingress', 'Egress'],
        ingress: ingress.length ? ingress : undefined,
        egress: egress.length ? egress : undefined,
      },
    });
  }
}

/** The NetworkPolicy peers of one PeerRef: one per CIDR, or one with the namespace and pod selectors (both must match). */
function peersOf(peer: PeerRef): k8s.NetworkPolicyPeer[] {
  if (peer.cidrs) return peer.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  return [
    {
      ...(peer.namespace !== undefined ? namespacePeer(peer.namespace) : {}),
      ...(peer.pods ? { podSelector: { matchLabels: peer.pods } } : {}),
    },
  ];
}
