/**
 * Test support: answers "may A call B on port P?" over synthesized Istio policies, with the
 * semantics of Istio's security.istio.io/v1 AuthorizationPolicy and PeerAuthentication (the
 * reference pages "Authorization Policy" and "PeerAuthentication") as ztunnel applies them in
 * ambient mode, layer 4 only:
 *
 * - The policies of the callee's namespace apply, and those of the root namespace (`istio-system`);
 *   one with a `selector` applies to the pods it selects, one without to every pod of its namespace.
 * - A DENY policy that matches refuses the call; then, if no ALLOW policy applies to the callee,
 *   the call is allowed; else one matching ALLOW policy is needed. A policy without rules matches
 *   nothing (an ALLOW one is "allow-nothing"); a rule without `from` and `to` matches everything.
 * - A rule matches when one of its `from` sources and one of its `to` operations match; inside a
 *   source or operation, every field set must match (principals, notPrincipals, namespaces,
 *   notNamespaces, ports, notPorts); `*`, `prefix*` and `*suffix` match as Istio documents.
 * - Under a STRICT PeerAuthentication a caller without a mesh identity (its namespace not enrolled
 *   in ambient mode) is refused before any policy is read.
 * - L7 fields (methods, paths, hosts, requestPrincipals, `when`) cannot be enforced by ztunnel
 *   without a waypoint; a rule using them is an error here, so a test never passes on them.
 */
import { Manifest } from '../core/manifest';
import { NetworkEvaluator, podOf, PodEndpoint } from './network-evaluator';

type Obj = Record<string, any>;

export const AMBIENT_LABEL = 'istio.io/dataplane-mode';
export const ROOT_NAMESPACE = 'istio-system';
export const HBONE = 15008;

/** A caller: its namespace and the ServiceAccount its pods run as. */
export interface Caller {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** A callee: its namespace and its pods' labels. */
export interface Callee {
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

const L7_SOURCE = ['requestPrincipals', 'notRequestPrincipals', 'remoteIpBlocks', 'notRemoteIpBlocks'];
const L7_OPERATION = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];

/** Istio's string match: exact, `*`, `prefix*` or `*suffix`. */
export function istioMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

const selects = (selector: Obj | undefined, labels: Record<string, string>) =>
  !selector || Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

export class AuthorizationEvaluator {
  private readonly policies: Obj[];
  private readonly peers: Obj[];
  private readonly ambient = new Set<string>();

  constructor(
    manifests: readonly Manifest[],
    private readonly options: { trustDomain?: string; meshNamespaces?: readonly string[] } = {},
  ) {
    this.policies = manifests.filter((m) => m.kind === 'AuthorizationPolicy') as Obj[];
    this.peers = manifests.filter((m) => m.kind === 'PeerAuthentication') as Obj[];
    for (const m of manifests)
      if (m.kind === 'Namespace' && m.metadata.labels?.[AMBIENT_LABEL] === 'ambient') this.ambient.add(m.metadata.name);
    for (const n of options.meshNamespaces ?? []) this.ambient.add(n);
  }

  /** The SPIFFE identity of a caller, when its namespace is in the mesh. */
  principalOf(caller: Caller): string | undefined {
    if (!this.ambient.has(caller.namespace)) return undefined;
    return `${this.options.trustDomain ?? 'cluster.local'}/ns/${caller.namespace}/sa/${caller.serviceAccount}`;
  }

  /** Whether the callee's namespace is in the mesh (ztunnel applies the policies only there). */
  inMesh(namespace: string): boolean {
    return this.ambient.has(namespace);
  }

  mayCall(caller: Caller, callee: Callee, port: number): boolean {
    return this.check(caller, callee, port).allowed;
  }

  /** The decision with its reason, for readable test failures. */
  check(caller: Caller, callee: Callee, port: number): { allowed: boolean; why: string } {
    if (!this.inMesh(callee.namespace)) return { allowed: true, why: `${callee.namespace} is not in the mesh` };
    const principal = this.principalOf(caller);
    const applying = (list: Obj[]) =>
      list.filter(
        (p) =>
          (p.metadata.namespace === callee.namespace || p.metadata.namespace === ROOT_NAMESPACE) &&
          selects(p.spec?.selector, callee.labels),
      );
    const strict = applying(this.peers).some((p) => p.spec?.mtls?.mode === 'STRICT');
    if (!principal && strict) return { allowed: false, why: 'plaintext caller refused by STRICT mutual TLS' };
    const policies = applying(this.policies);
    const matching = (action: string) =>
      policies.filter(
        (p) =>
          (p.spec?.action ?? 'ALLOW') === action &&
          (p.spec?.rules ?? []).some((r: Obj) => this.ruleMatches(r, caller, principal, port)),
      );
    const deny = matching('DENY');
    if (deny.length) return { allowed: false, why: `denied by ${deny.map((p) => p.metadata.name).join(', ')}` };
    const allows = policies.filter((p) => (p.spec?.action ?? 'ALLOW') === 'ALLOW');
    if (!allows.length) return { allowed: true, why: 'no ALLOW policy applies' };
    const allow = matching('ALLOW');
    return allow.length
      ? { allowed: true, why: `allowed by ${allow.map((p) => p.metadata.name).join(', ')}` }
      : { allowed: false, why: `no rule of ${allows.map((p) => p.metadata.name).join(', ')} matches` };
  }

  private ruleMatches(rule: Obj, caller: Caller, principal: string | undefined, port: number): boolean {
    if (rule.when) throw new Error('`when` conditions are not evaluated here');
    const from: Obj[] | undefined = rule.from;
    const to: Obj[] | undefined = rule.to;
    const sourceOk =
      !from?.length ||
      from.some((f) => {
        const s: Obj = f.source ?? {};
        for (const k of L7_SOURCE) if (s[k]) throw new Error(`source.${k} needs a waypoint; ztunnel cannot enforce it`);
        if (s.ipBlocks || s.notIpBlocks) throw new Error('source ipBlocks are not evaluated here');
        const any = (list: string[] | undefined, value: string | undefined) =>
          value !== undefined && (list ?? []).some((p) => istioMatch(p, value));
        if (s.principals && !any(s.principals, principal)) return false;
        if (s.notPrincipals && any(s.notPrincipals, principal)) return false;
        const ns = principal ? caller.namespace : undefined;
        if (s.namespaces && !any(s.namespaces, ns)) return false;
        if (s.notNamespaces && any(s.notNamespaces, ns)) return false;
        return true;
      });
    const operationOk =
      !to?.length ||
      to.some((t) => {
        const o: Obj = t.operation ?? {};
        for (const k of L7_OPERATION)
          if (o[k]) throw new Error(`operation.${k} needs a waypoint; ztunnel cannot enforce it`);
        if (o.ports && !o.ports.includes(String(port))) return false;
        if (o.notPorts && o.notPorts.includes(String(port))) return false;
        return true;
      });
    return sourceOk && operationOk;
  }
}

/** Kinds whose pod template makes pods. */
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Rollout'];

/** The ServiceAccount the pods of a workload run as (the namespace's `default` when unset). */
export function serviceAccountOf(manifests: readonly Manifest[], name: string): string {
  const workload = manifests.find((m) => WORKLOAD_KINDS.includes(m.kind) && m.metadata.name === name) as
    Obj | undefined;
  if (!workload) throw new Error(`no workload named ${name}`);
  return workload.spec.template.spec.serviceAccountName ?? 'default';
}

/** The evaluators of one set of manifests, built once (every pair of services asks). */
const evaluators = new WeakMap<readonly Manifest[], { net: NetworkEvaluator; authz: AuthorizationEvaluator }>();
function evaluatorsOf(manifests: readonly Manifest[]) {
  let e = evaluators.get(manifests);
  if (!e)
    evaluators.set(
      manifests,
      (e = { net: new NetworkEvaluator(manifests), authz: new AuthorizationEvaluator(manifests) }),
    );
  return e;
}

/**
 * "May `from` call `to` on `port`?" answered from the NetworkPolicies alone: the caller's pods may
 * reach the callee's on the port and, when the callee's namespace is in the ambient mesh, on
 * HBONE's 15008 too, where ztunnel actually carries the connection.
 */
export function mayCallByNetwork(manifests: readonly Manifest[], from: string, to: string, port: number): boolean {
  const { net, authz } = evaluatorsOf(manifests);
  const a: PodEndpoint = podOf(manifests, from);
  const b: PodEndpoint = podOf(manifests, to);
  return net.mayReach(a, b, port) && (!authz.inMesh(b.namespace) || net.mayReach(a, b, HBONE));
}

/**
 * "May `from` call `to` on `port`?" answered from the Istio policies alone: the caller's identity
 * (its pods' ServiceAccount) admitted to the callee's pods on the port.
 */
export function mayCallByMesh(manifests: readonly Manifest[], from: string, to: string, port: number): boolean {
  const { authz } = evaluatorsOf(manifests);
  const a = podOf(manifests, from);
  const b = podOf(manifests, to);
  return authz.mayCall({ namespace: a.namespace, serviceAccount: serviceAccountOf(manifests, from) }, b, port);
}

/**
 * Every pair of services of a target and every port of the callee, asked of both layers: the
 * answers that differ from the configured graph (`dependsOn`), as `from>to:port layer=answer`.
 * Empty when the NetworkPolicies, the AuthorizationPolicies and the graph all agree.
 */
export function disagreements(
  config: {
    services: Record<
      string,
      { name: string; ports: ReadonlyArray<{ name: string; port: number }>; dependsOn?: unknown[] }
    >;
  },
  manifests: readonly Manifest[],
): string[] {
  const declared = new Set<string>();
  for (const service of Object.values(config.services)) {
    for (const dep of (service.dependsOn ?? []) as Array<{ service?: string; port?: string | number }>) {
      if (dep.service === undefined) continue;
      const callee = config.services[dep.service];
      const port = callee.ports.find((p) => p.name === dep.port || p.port === dep.port)!.port;
      declared.add(`${service.name}>${dep.service}:${port}`);
    }
  }
  const names = Object.keys(config.services);
  const wrong: string[] = [];
  for (const from of names) {
    for (const to of names.filter((n) => n !== from)) {
      for (const port of (podOf(manifests, to).ports ?? []).map((p) => p.containerPort)) {
        const key = `${from}>${to}:${port}`;
        const expected = declared.has(key);
        const network = mayCallByNetwork(manifests, from, to, port);
        const mesh = mayCallByMesh(manifests, from, to, port);
        if (network !== expected) wrong.push(`${key} NetworkPolicy=${network}, graph=${expected}`);
        if (mesh !== expected) wrong.push(`${key} AuthorizationPolicy=${mesh}, graph=${expected}`);
      }
    }
  }
  return wrong;
}
