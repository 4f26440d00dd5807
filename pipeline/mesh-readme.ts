import { HBONE_PORT, PROBE_SNAT_ADDRESS } from '../config/mesh-rules';
import { TargetConfig } from '../config/types';
import { DESCRIPTION_ANNOTATION } from '../constructs/mesh';
import { Manifest, Obj, ofKind } from '../core/manifest';
import { allowedFlows } from './network-readme';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Rollout']);

const selects = (selector: Obj | undefined, labels: Record<string, string>) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/**
 * The "Mesh" section of dist/<target>/README.md, read back from the synthesized objects: the
 * namespace's mutual TLS, then every call between two workloads that either layer allows, with
 * the answer of each (the NetworkPolicies: the declared port and HBONE, 15008, between the pods;
 * the AuthorizationPolicies: the caller's identity on that port), and the exceptions, each a
 * policy of its own. Both columns say yes for every call of the service graph and for no other.
 */
export function renderMeshSection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  const policies = ofKind(manifests, 'AuthorizationPolicy') as Obj[];
  const peer = ofKind(manifests, 'PeerAuthentication') as Obj[];
  if (!policies.length && !peer.length) return undefined;
  const workloads = manifests
    .filter((m) => WORKLOAD_KINDS.has(m.kind))
    .map((m) => {
      const template = (m as Obj).spec?.template ?? {};
      return {
        name: m.metadata.name,
        labels: (template.metadata?.labels ?? {}) as Record<string, string>,
        account: (template.spec?.serviceAccountName ?? 'default') as string,
      };
    });
  const byPrincipal = new Map<string, string>();
  for (const w of workloads) byPrincipal.set(`/ns/${config.namespace}/sa/${w.account}`, w.name);
  const workloadOf = (principal: string) => byPrincipal.get(principal.slice(principal.indexOf('/ns/')));

  // the AuthorizationPolicy side: caller>callee>port for every rule of the callee's ALLOW policies
  const authz = new Set<string>();
  const exceptions: string[] = [];
  for (const policy of policies) {
    if ((policy.spec?.action ?? 'ALLOW') !== 'ALLOW' || !policy.spec?.selector) continue;
    const callees = workloads.filter((w) => selects(policy.spec.selector, w.labels));
    for (const rule of policy.spec.rules ?? []) {
      const principals: string[] = (rule.from ?? []).flatMap((f: Obj) => f.source?.principals ?? []);
      const ports: string[] = (rule.to ?? []).flatMap((t: Obj) => t.operation?.ports ?? []);
      const callers = principals.map(workloadOf);
      if (callers.every((c) => c !== undefined) && callers.length) {
        for (const caller of callers)
          for (const callee of callees) for (const port of ports) authz.add(`${caller}>${callee.name}>${port}`);
      } else {
        exceptions.push(
          `| \`${policy.metadata.name}\` | ${principals.map((p) => `\`${p}\``).join(', ')} | ${ports.join(', ')} | ${policy.metadata.annotations?.[DESCRIPTION_ANNOTATION] ?? ''} |`,
        );
      }
    }
  }
  // the NetworkPolicy side: an edge between two workloads with the port and the tunnel
  const { edges, nodes } = allowedFlows(config, manifests);
  const network = new Set<string>();
  for (const [key, ports] of edges) {
    const [from, to] = key.split('>').map((id) => nodes.get(id));
    if (from?.shape !== 'workload' || to?.shape !== 'workload' || !ports.has(`${HBONE_PORT}/TCP`)) continue;
    for (const port of ports) {
      const [number, protocol] = port.split('/');
      if (protocol === 'TCP' && Number(number) !== HBONE_PORT) network.add(`${from.text}>${to.text}>${number}`);
    }
  }
  const calls = [...new Set([...authz, ...network])].sort((a, b) => {
    const [fa, ta, pa] = a.split('>');
    const [fb, tb, pb] = b.split('>');
    return fa.localeCompare(fb) || ta.localeCompare(tb) || Number(pa) - Number(pb);
  });
  const yes = (on: boolean) => (on ? 'yes' : '**no**');
  const nothing = policies
    .filter((p) => p.spec?.selector && !(p.spec.rules ?? []).length)
    .map((p) => `\`${p.metadata.name}\``);
  const modes = peer.map((p) => `\`${p.metadata.name}\` (${p.spec?.mtls?.mode ?? 'UNSET'})`).join(', ');
  const lines = [
    '## Mesh: mutual TLS and who may call whom',
    '',
    `The namespace is in Istio's ambient mesh (\`istio.io/dataplane-mode: ambient\`): ztunnel on each node carries every connection between pods as HBONE, mutual TLS to port ${HBONE_PORT}, and the pods are unchanged (Pod Security \`restricted\` holds). PeerAuthentication ${modes || 'none'} refuses plaintext; AuthorizationPolicy \`default-deny\` (no rules) admits nobody unless a policy of a service does. Istio 1.24 in ambient mode (istiod, istio-cni, ztunnel) must be installed, and the namespaces of Prometheus (\`${config.monitoring.namespace}\`) and the ingress controller (\`${config.ingress.controllerNamespace}\`) enrolled in the mesh.`,
    '',
    `A call needs both layers: the NetworkPolicies must let the caller's pods reach the callee's on the port and on ${HBONE_PORT}, and the callee's AuthorizationPolicies (enforced by ztunnel at layer 4: identities and ports) must admit the caller's identity, its ServiceAccount, on the port. Read back from the objects:`,
    '',
    '| caller | callee | port | NetworkPolicy | AuthorizationPolicy |',
    '| --- | --- | --- | --- | --- |',
    ...calls.map((c) => {
      const [from, to, port] = c.split('>');
      return `| ${from} | ${to} | ${port} | ${yes(network.has(c))} | ${yes(authz.has(c))} |`;
    }),
    '',
    'Callers from outside the service graph, each admitted by a policy of its own (their NetworkPolicy rules are in the network section above):',
    '',
    '| AuthorizationPolicy | admits | ports | why |',
    '| --- | --- | --- | --- |',
    ...exceptions.sort(),
    '',
    `Policies without rules, which admit no caller of the service graph: ${nothing.join(', ') || 'none'}. The kubelet's probes come from ${PROBE_SNAT_ADDRESS}, the address ztunnel gives them; each service's NetworkPolicy admits it on the probed ports only, and STRICT lets them in unencrypted.`,
  ];
  return lines.join('\n');
}
