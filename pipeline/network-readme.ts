import { PROBE_SNAT_ADDRESS } from '../config/mesh-rules';
import { TargetConfig } from '../config/types';
import { Manifest, Obj, ofKind } from '../core/manifest';

/** Where the network and API section sits in dist/<target>/README.md (after capacity, before monitoring). */

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Rollout', 'DaemonSet']);
const EVERY_POD = 'every pod';
/** The label a smoke test's pods are named by (app.kubernetes.io/name: <service>-smoke-test). */
const LABEL_NAME = 'app.kubernetes.io/name';

interface Pods {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/** A node of the picture: a workload of the target, another namespace's pods, or addresses outside. */
interface Node {
  readonly id: string;
  readonly text: string;
  readonly shape: 'workload' | 'namespace' | 'external' | 'all';
}

function matches(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  if (selector.matchExpressions?.length) return false; // never generated here; draw nothing rather than guess
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

const idOf = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
const portKey = (p: Obj) => `${p.port ?? 'any'}/${p.protocol ?? 'TCP'}`;

/**
 * The flows the synthesized NetworkPolicies allow, read back from the policies themselves (not
 * from the configuration), so the picture shows what the cluster enforces. Inside the namespace
 * an edge needs both sides: the caller's egress and the callee's ingress. Traffic from other
 * namespaces needs the callee's ingress; traffic to addresses outside needs the caller's egress.
 */
export function allowedFlows(
  config: TargetConfig,
  manifests: readonly Manifest[],
): { nodes: Map<string, Node>; edges: Map<string, Set<string>> } {
  const pods: Pods[] = [
    ...manifests
      .filter((m) => WORKLOAD_KINDS.has(m.kind))
      .map((m) => ({
        name: m.metadata.name,
        namespace: m.metadata.namespace ?? config.namespace,
        labels: (m as Obj).spec?.template?.metadata?.labels ?? {},
      })),
    // the pods of the Jobs an analysis runs (a blue/green release's smoke test), named by their label
    ...(ofKind(manifests, 'AnalysisTemplate') as Obj[]).flatMap((template) =>
      ((template.spec?.metrics ?? []) as Obj[])
        .map((metric) => metric.provider?.job?.spec?.template?.metadata?.labels as Record<string, string> | undefined)
        .filter((labels): labels is Record<string, string> => labels !== undefined)
        .map((labels) => ({
          name: labels[LABEL_NAME] ?? template.metadata.name,
          namespace: template.metadata.namespace ?? config.namespace,
          labels,
        })),
    ),
  ];
  // pods by namespace and by label, so that a selector looks only at the pods that can match
  const byNamespace = new Map<string, { all: Pods[]; byLabel: Map<string, Pods[]> }>();
  for (const p of pods) {
    const entry = byNamespace.get(p.namespace) ?? { all: [], byLabel: new Map<string, Pods[]>() };
    entry.all.push(p);
    for (const [k, v] of Object.entries(p.labels)) {
      const bucket = entry.byLabel.get(`${k}=${v}`);
      if (bucket) bucket.push(p);
      else entry.byLabel.set(`${k}=${v}`, [p]);
    }
    byNamespace.set(p.namespace, entry);
  }
  const empty = { all: [] as Pods[], byLabel: new Map<string, Pods[]>() };
  const podsIn = (namespace: string) => byNamespace.get(namespace) ?? empty;
  const select = (local: { all: Pods[]; byLabel: Map<string, Pods[]> }, selector: Obj | undefined): Pods[] => {
    if (!selector) return [];
    const pairs = Object.entries(selector.matchLabels ?? {});
    const candidates = pairs.length
      ? pairs.map(([k, v]) => local.byLabel.get(`${k}=${v}`) ?? []).reduce((a, b) => (b.length < a.length ? b : a))
      : local.all;
    return candidates.filter((p) => matches(selector, p.labels));
  };
  const nodes = new Map<string, Node>();
  const node = (n: Node) => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
    return n.id;
  };
  const workload = (p: Pods) => node({ id: idOf('w', p.name), text: p.name, shape: 'workload' });
  const outside = (namespace: string, podSelector: Obj | undefined) => {
    const labels = Object.entries(podSelector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return node({
      id: idOf('ns', labels ? `${namespace}_${labels}` : namespace),
      text: labels ? `${namespace}: ${labels}` : `namespace ${namespace}`,
      shape: 'namespace',
    });
  };
  const external = (cidr: string) => {
    if (cidr === `${PROBE_SNAT_ADDRESS}/32`)
      return node({ id: 'kubelet_probes', text: `kubelet probes via ztunnel<br/>${cidr}`, shape: 'external' });
    const peer = Object.values(config.externals).find((e) => e.cidrs.includes(cidr));
    return peer
      ? node({ id: idOf('ext', peer.name), text: `${peer.name}<br/>${peer.cidrs.join('<br/>')}`, shape: 'external' })
      : node({ id: idOf('ip', cidr), text: cidr, shape: 'external' });
  };

  // one side of each flow, keyed `from>to>port/protocol`
  const egress = new Set<string>();
  const ingress = new Set<string>();
  const edges = new Map<string, Set<string>>();
  const addEdge = (from: string, to: string, port: string) => {
    const key = `${from}>${to}`;
    edges.set(key, (edges.get(key) ?? new Set()).add(port));
  };

  for (const policy of ofKind(manifests, 'NetworkPolicy') as Obj[]) {
    const namespace = policy.metadata.namespace ?? config.namespace;
    const local = podsIn(namespace);
    const selected = select(local, policy.spec.podSelector);
    const everyPod =
      Object.keys(policy.spec.podSelector?.matchLabels ?? {}).length === 0 &&
      !policy.spec.podSelector?.matchExpressions?.length;
    const sources = everyPod ? [node({ id: 'all_pods', text: EVERY_POD, shape: 'all' })] : selected.map(workload);

    for (const rule of policy.spec.egress ?? []) {
      const ports: string[] = (rule.ports ?? [{}]).map(portKey);
      for (const peer of rule.to ?? []) {
        if (peer.ipBlock) {
          const to = external(peer.ipBlock.cidr);
          for (const from of sources) for (const port of ports) addEdge(from, to, port);
        } else if (peer.namespaceSelector) {
          const to = outside(peer.namespaceSelector.matchLabels?.[NAMESPACE_NAME_LABEL] ?? 'any', peer.podSelector);
          for (const from of sources) for (const port of ports) addEdge(from, to, port);
        } else {
          for (const target of select(local, peer.podSelector)) {
            for (const from of selected)
              for (const port of ports) egress.add(`${workload(from)}>${workload(target)}>${port}`);
          }
        }
      }
    }
    for (const rule of policy.spec.ingress ?? []) {
      const ports: string[] = (rule.ports ?? [{}]).map(portKey);
      for (const peer of rule.from ?? []) {
        if (peer.namespaceSelector) {
          const from = outside(peer.namespaceSelector.matchLabels?.[NAMESPACE_NAME_LABEL] ?? 'any', peer.podSelector);
          for (const to of selected) for (const port of ports) addEdge(from, workload(to), port);
        } else if (peer.podSelector) {
          for (const source of select(local, peer.podSelector)) {
            for (const to of selected)
              for (const port of ports) ingress.add(`${workload(source)}>${workload(to)}>${port}`);
          }
        } else if (peer.ipBlock) {
          const from = external(peer.ipBlock.cidr);
          for (const to of selected) for (const port of ports) addEdge(from, workload(to), port);
        }
      }
    }
  }
  for (const flow of egress) {
    if (!ingress.has(flow)) continue;
    const [from, to, port] = flow.split('>');
    addEdge(from, to, port);
  }
  return { nodes, edges };
}

/** `8080`, `443, 9878`, `53 UDP+TCP`: ports of one edge, TCP left implicit. */
function portLabel(ports: Set<string>): string {
  const byPort = new Map<string, string[]>();
  for (const p of ports) {
    const [port, protocol] = p.split('/');
    byPort.set(port, [...(byPort.get(port) ?? []), protocol]);
  }
  return [...byPort.entries()]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([port, protocols]) =>
      protocols.length === 1 && protocols[0] === 'TCP' ? port : `${port} ${protocols.sort().reverse().join('+')}`,
    )
    .join(', ');
}

function mermaidNode(n: Node): string {
  switch (n.shape) {
    case 'workload':
      return `${n.id}["${n.text}"]`;
    case 'namespace':
      return `${n.id}(["${n.text}"])`;
    case 'external':
      return `${n.id}[/"${n.text}"/]`;
    case 'all':
      return `${n.id}(("${n.text}"))`;
  }
}

export function renderNetworkSection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  if (!ofKind(manifests, 'NetworkPolicy').length) return undefined;
  const { nodes, edges } = allowedFlows(config, manifests);
  const ordered = [...edges.entries()].sort(([a], [b]) => a.localeCompare(b));
  const text = (id: string) => nodes.get(id)!.text.replace(/<br\/>.*/, '');
  const lines = [
    '## Network: who may talk to whom',
    '',
    `Every pod of \`${config.namespace}\` is isolated for ingress and egress (NetworkPolicy \`default-deny\`); the flows below are all that the NetworkPolicies allow, read back from them. Inside the namespace a flow needs both the caller's egress and the callee's ingress rule.`,
    '',
    '```mermaid',
    'flowchart LR',
    ...[...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)).map((n) => `  ${mermaidNode(n)}`),
    ...ordered.map(([key, ports]) => {
      const [from, to] = key.split('>');
      return `  ${from} -->|${portLabel(ports)}| ${to}`;
    }),
    '```',
    '',
    '| from | to | ports |',
    '| --- | --- | --- |',
    ...ordered.map(([key, ports]) => {
      const [from, to] = key.split('>');
      const cidrs =
        nodes.get(to)!.shape === 'external'
          ? ` (${nodes.get(to)!.text.split('<br/>').slice(1).join(', ') || text(to)})`
          : '';
      return `| ${text(from)} | ${text(to)}${cidrs} | ${portLabel(ports)} |`;
    }),
  ];
  return lines.join('\n');
}

/**
 * "Who may do what in the Kubernetes API": every ServiceAccount of the target, whether its token
 * is mounted, and each rule of each Role or ClusterRole bound to it, read from the synthesized
 * RBAC objects.
 */
export function renderApiAccessSection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  const accounts = ofKind(manifests, 'ServiceAccount') as Obj[];
  if (!accounts.length) return undefined;
  const roles = new Map<string, Obj>([
    ...(ofKind(manifests, 'Role') as Obj[]).map((r): [string, Obj] => [
      `Role/${r.metadata.namespace ?? config.namespace}/${r.metadata.name}`,
      r,
    ]),
    ...(ofKind(manifests, 'ClusterRole') as Obj[]).map((r): [string, Obj] => [`ClusterRole//${r.metadata.name}`, r]),
  ]);
  const bindings = [...ofKind(manifests, 'RoleBinding'), ...ofKind(manifests, 'ClusterRoleBinding')] as Obj[];
  const lines = [
    '## Who may do what in the Kubernetes API',
    '',
    'Read from the synthesized ServiceAccounts, Roles, ClusterRoles and their bindings. A ServiceAccount without a row of rules has no access, and its token is not mounted.',
    '',
    '| ServiceAccount | token mounted | granted by | verbs | API group | resources | resourceNames |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const cell = (values: string[] | undefined, empty: string) =>
    values?.length ? values.map((v) => `\`${v === '' ? '""' : v}\``).join(', ') : empty;
  for (const account of [...accounts].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const namespace = account.metadata.namespace ?? config.namespace;
    const mounted = account.automountServiceAccountToken === false ? 'no' : 'yes';
    const mine = bindings.filter((b) =>
      (b.subjects ?? []).some(
        (s: Obj) =>
          s.kind === 'ServiceAccount' &&
          s.name === account.metadata.name &&
          (s.namespace ?? b.metadata.namespace) === namespace,
      ),
    );
    const rows: string[] = [];
    for (const binding of mine) {
      const kind = binding.roleRef.kind;
      const role = roles.get(
        kind === 'Role'
          ? `Role/${binding.metadata.namespace ?? config.namespace}/${binding.roleRef.name}`
          : `ClusterRole//${binding.roleRef.name}`,
      );
      for (const rule of role?.rules ?? []) {
        rows.push(
          `| ${account.metadata.name} | ${mounted} | ${kind} \`${binding.roleRef.name}\` (${binding.kind} \`${binding.metadata.name}\`) | ${cell(rule.verbs, '-')} | ${cell(rule.apiGroups, '-')} | ${cell(rule.resources, '-')} | ${cell(rule.resourceNames, 'any')} |`,
        );
      }
    }
    lines.push(...(rows.length ? rows : [`| ${account.metadata.name} | ${mounted} | nothing | - | - | - | - |`]));
  }
  return lines.join('\n');
}
