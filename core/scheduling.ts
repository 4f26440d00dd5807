/**
 * The scheduler's node filters, as Kubernetes defines them, over plain objects: whether a pod's
 * tolerations tolerate a node's taints (TaintToleration) and whether its nodeSelector and required
 * node affinity match a node's labels (NodeAffinity). The checks and tests ask "may this pod land on
 * that node?" of the synthesized objects with them, rather than reading the YAML's text.
 */

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
}

interface Requirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

interface Term {
  readonly matchExpressions?: readonly Requirement[];
  readonly matchFields?: readonly Requirement[];
}

/** The scheduling part of a pod spec. */
export interface PodPlacement {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
  readonly affinity?: {
    readonly nodeAffinity?: {
      readonly requiredDuringSchedulingIgnoredDuringExecution?: { readonly nodeSelectorTerms: readonly Term[] };
      readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly {
        readonly weight: number;
        readonly preference: Term;
      }[];
    };
  };
}

/** A node as the scheduler filters it: its labels and taints. */
export interface NodeFacts {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
}

/** Whether a toleration tolerates a taint (k8s.io/api/core/v1 Toleration.ToleratesTaint). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  // an empty key with operator Exists tolerates everything
  if (!toleration.key && toleration.operator !== 'Exists') return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  return operator === 'Equal' && (toleration.value ?? '') === (taint.value ?? '');
}

/** The taints of a node that keep the pod off it (PreferNoSchedule only scores, it never filters). */
export function untoleratedTaints(pod: PodPlacement, node: NodeFacts): Taint[] {
  return (node.taints ?? []).filter(
    (t) => t.effect !== 'PreferNoSchedule' && !(pod.tolerations ?? []).some((tol) => tolerates(tol, t)),
  );
}

function matches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return has && values.includes(value!);
    case 'NotIn':
      return !has || !values.includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      const n = Number(value);
      const bound = Number(values[0]);
      return has && Number.isInteger(n) && (requirement.operator === 'Gt' ? n > bound : n < bound);
    }
    default:
      return false;
  }
}

/** Whether a node selector term matches the labels (all its expressions; a term with none matches nothing). */
export function termMatches(term: Term, labels: Readonly<Record<string, string>>): boolean {
  const expressions = term.matchExpressions ?? [];
  // matchFields select by metadata.name, which labels do not carry: such a term is not decided here
  if (!expressions.length || term.matchFields?.length) return false;
  return expressions.every((r) => matches(r, labels));
}

/** Whether a pod's nodeSelector and required node affinity admit a node with these labels. */
export function selectsNode(pod: PodPlacement, labels: Readonly<Record<string, string>>): boolean {
  const selector = pod.nodeSelector ?? {};
  if (!Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v)) return false;
  const required = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !required || required.nodeSelectorTerms.some((t) => termMatches(t, labels));
}

/** Whether the scheduler may place the pod on the node (taints and labels; resources aside). */
export function mayRunOn(pod: PodPlacement, node: NodeFacts): boolean {
  return untoleratedTaints(pod, node).length === 0 && selectsNode(pod, node.labels);
}

/** The weight a pod's preferred node affinity gives a node with these labels (0: no preference for it). */
export function preferenceFor(pod: PodPlacement, labels: Readonly<Record<string, string>>): number {
  return (pod.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    .filter((p) => termMatches(p.preference, labels))
    .reduce((sum, p) => sum + p.weight, 0);
}
