import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { METRICS_PORT } from '../config/monitoring-rules';
import { ownValue } from '../config/model';
import { ExternalPeer, PortConfig, ServiceConfig, TargetConfig } from '../config/types';
import { isBlueGreen, smokeTestSelector, smokeTestTargetOf } from './blue-green';
import { selectorLabels, serviceLabels } from './labels';
import { publicPortOf } from './public-ingress';

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

/** One edge of the service graph: a service calls another service or an external peer. */
export interface Flow {
  readonly from: ServiceConfig;
  readonly to: { readonly service: ServiceConfig } | { readonly external: ExternalPeer };
  readonly ports: FlowPort[];
}

const flowPort = (p: PortConfig): FlowPort => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' });

/**
 * The service graph of a target, from `dependsOn`: one flow per caller and callee (service or
 * external peer), with the callee's ports by number. Dependencies were validated by
 * config/rules.ts; one that still does not resolve is skipped here, never guessed.
 */
export function flowsOf(config: TargetConfig): Flow[] {
  // every service's policy reads the whole graph: build it once per target
  let flows = graphs.get(config);
  if (!flows) {
    flows = buildFlows(config);
    graphs.set(config, flows);
  }
  return flows;
}

const graphs = new WeakMap<TargetConfig, Flow[]>();

/** The flows of a target by the service they come from and the service they go to. */
interface FlowIndex {
  readonly from: Map<string, Flow[]>;
  readonly to: Map<string, Flow[]>;
}

const indexes = new WeakMap<TargetConfig, FlowIndex>();

/** The flows out of and into one service, in the graph's order (each service's policy asks). */
export function flowsAround(config: TargetConfig, service: string): { readonly out: readonly Flow[]; readonly in: readonly Flow[] } {
  let index = indexes.get(config);
  if (!index) {
    index = { from: new Map(), to: new Map() };
    const push = (map: Map<string, Flow[]>, key: string, flow: Flow) => {
      const list = map.get(key);
      if (list) list.push(flow);
      else map.set(key, [flow]);
    };
    for (const flow of flowsOf(config)) {
      push(index.from, flow.from.name, flow);
      if ('service' in flow.to) push(index.to, flow.to.service.name, flow);
    }
    indexes.set(config, index);
  }
  return { out: index.from.get(service) ?? [], in: index.to.get(service) ?? [] };
}

function buildFlows(config: TargetConfig): Flow[] {
  const flows: Flow[] = [];
  for (const from of Object.values(config.services)) {
    const byPeer = new Map<string, { to: Flow['to']; ports: FlowPort[] }>();
    const add = (key: string, to: Flow['to'], ports: FlowPort[]) => {
      const entry = byPeer.get(key) ?? { to, ports: [] };
      for (const p of ports) if (!entry.ports.some((q) => q.port === p.port && q.protocol === p.protocol)) entry.ports.push(p);
      byPeer.set(key, entry);
    };
    for (const dep of from.dependsOn ?? []) {
      if ('service' in dep) {
        const callee = ownValue(config.services, dep.service);
        const port = callee?.ports.find((p) => p.name === dep.port || p.port === dep.port);
        if (callee && port && callee.name !== from.name) add(`service:${callee.name}`, { service: callee }, [flowPort(port)]);
      } else {
        const peer = ownValue(config.externals, dep.external);
        if (!peer) continue;
        const ports = dep.ports ? peer.ports.filter((p) => dep.ports!.includes(p.port)) : peer.ports;
        add(`external:${peer.name}`, { external: peer }, ports.map(flowPort));
      }
    }
    for (const { to, ports } of byPeer.values()) flows.push({ from, to, ports });
  }
  return flows;
}

const policyPorts = (ports: readonly FlowPort[]): k8s.NetworkPolicyPort[] =>
  ports.map((p) => ({ port: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol }));

/** Labels of the Prometheus pods that scrape the targets (`monitoring.prometheusPodSelector`). */
export const prometheusPodLabels = (config: TargetConfig): Record<string, string> =>
  config.monitoring.prometheusPodSelector ?? { 'app.kubernetes.io/name': 'prometheus' };

const namespacePeer = (namespace: string): k8s.NetworkPolicyPeer => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } });

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
        egress: [{
          // one peer with both selectors: kube-dns pods in kube-system, not all of kube-system
          to: [{ ...namespacePeer(CLUSTER_DNS.namespace), podSelector: { matchLabels: CLUSTER_DNS.podLabels } }],
          ports: CLUSTER_DNS.protocols.map((protocol) => ({ port: k8s.IntOrString.fromNumber(CLUSTER_DNS.port), protocol })),
        }],
      },
    });
  }
}

export interface ServiceNetworkPolicyProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
}

/**
 * Both sides of every flow of one service, port by port: ingress from each caller (its pods by
 * their selector labels), from the ingress controller's namespace when the service is public, and
 * from Prometheus' pods (`monitoring.prometheusPodSelector` in its namespace) to the `metrics` port; egress to each callee's pods and to each
 * external peer's CIDRs. The policy selects the service's pods by their selector labels, so it
 * covers Deployment, StatefulSet and Rollout pods alike.
 */
export class ServiceNetworkPolicy extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: ServiceNetworkPolicyProps) {
    super(scope, id);
    const { config, service } = props;
    this.name = service.name;
    const flows = flowsAround(config, service.name);

    const ingress: k8s.NetworkPolicyIngressRule[] = [];
    for (const flow of flows.in) {
      ingress.push({ from: [{ podSelector: { matchLabels: selectorLabels(config, flow.from) } }], ports: policyPorts(flow.ports) });
    }
    // the members of a group (a StatefulSet's peers) talk to each other on one port, both ways
    const peerPort = service.peers?.port === undefined ? undefined : service.ports.find((p) => p.name === service.peers!.port || p.port === service.peers!.port);
    if (peerPort) {
      ingress.push({ from: [{ podSelector: { matchLabels: selectorLabels(config, service) } }], ports: policyPorts([flowPort(peerPort)]) });
    }
    if (service.expose === 'public') {
      ingress.push({ from: [namespacePeer(config.ingress.controllerNamespace)], ports: policyPorts([flowPort(publicPortOf(service.ports))]) });
    }
    if (isBlueGreen(service)) {
      // the release's smoke test (constructs/blue-green.ts) reaches the preview pods through the preview Service
      ingress.push({ from: [{ podSelector: { matchLabels: smokeTestSelector(selectorLabels(config, service), service.name) } }], ports: policyPorts([flowPort(smokeTestTargetOf(service).port)]) });
    }
    const metrics = service.ports.find((p) => p.name === METRICS_PORT);
    if (metrics) {
      // Prometheus' pods only: namespace and pod selector in one peer (both must match)
      const prometheus = { ...namespacePeer(config.monitoring.namespace), podSelector: { matchLabels: prometheusPodLabels(config) } };
      ingress.push({ from: [prometheus], ports: policyPorts([flowPort(metrics)]) });
    }

    const egress: k8s.NetworkPolicyEgressRule[] = [];
    if (peerPort) {
      egress.push({ to: [{ podSelector: { matchLabels: selectorLabels(config, service) } }], ports: policyPorts([flowPort(peerPort)]) });
    }
    for (const flow of flows.out) {
      if ('service' in flow.to) {
        egress.push({ to: [{ podSelector: { matchLabels: selectorLabels(config, flow.to.service) } }], ports: policyPorts(flow.ports) });
      } else {
        egress.push({ to: flow.to.external.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: policyPorts(flow.ports) });
      }
    }

    new k8s.KubeNetworkPolicy(this, 'resource', {
      metadata: { name: service.name, labels: serviceLabels(config, service) },
      spec: {
        podSelector: { matchLabels: selectorLabels(config, service) },
        // both types stay isolated; an empty list is left out because the API server drops it,
        // which would show as a permanent diff in Argo CD
        policyTypes: ['Ingress', 'Egress'],
        ingress: ingress.length ? ingress : undefined,
        egress: egress.length ? egress : undefined,
      },
    });
  }
}
