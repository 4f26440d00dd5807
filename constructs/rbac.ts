import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { ApiAccess } from '../config/types';

export const RBAC_API_GROUP = 'rbac.authorization.k8s.io';

/** The ClusterRole (and its binding) of a service: prefixed by the namespace, as cluster-scoped names are shared. */
export const clusterRoleNameOf = (namespace: string, service: string) => `${namespace}-${service}`;

/** Whether a service declares any access to the Kubernetes API (and so gets a token mounted). */
export function usesKubernetesApi(rules: readonly ApiAccess[] | undefined): boolean {
  return (rules ?? []).length > 0;
}

const toPolicyRule = (rule: ApiAccess): k8s.PolicyRule => ({
  apiGroups: [rule.apiGroup],
  resources: [...rule.resources],
  verbs: [...rule.verbs],
  resourceNames: rule.resourceNames?.length ? [...rule.resourceNames] : undefined,
});

export interface ServiceApiAccessProps {
  /** The service's name: the name of its Role and RoleBinding (its ClusterRole's, prefixed by the namespace). */
  readonly name: string;
  /** Labels of the RBAC objects. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** The access the service declares (`api`), each rule checked by config/network-rules.ts. */
  readonly rules: readonly ApiAccess[];
  /** The ServiceAccount the service's pods run as. */
  readonly serviceAccount: string;
  /** The namespace of the ServiceAccount (and of the Role). */
  readonly namespace: string;
  /**
   * Where cluster-scoped objects go (a chart without a namespace).
   * @default - rules with `scope: cluster` are refused
   */
  readonly clusterScope?: Construct;
}

/**
 * Exactly the Kubernetes API access a service declares under `api`, nothing more: a Role and a
 * RoleBinding in the target's namespace for namespaced rules, and a ClusterRole with its
 * ClusterRoleBinding only for rules that declare `scope: cluster`. The rules were checked by
 * config/network-rules.ts (explicit verbs, no wildcards, no Secrets). A service without `api`
 * gets nothing here, and its ServiceAccount mounts no token.
 */
export class ServiceApiAccess extends Construct {
  constructor(scope: Construct, id: string, props: ServiceApiAccessProps) {
    super(scope, id);
    const { name: service, labels, rules, serviceAccount } = props;
    const namespaced = rules.filter((r) => (r.scope ?? 'namespace') === 'namespace');
    const cluster = rules.filter((r) => r.scope === 'cluster');
    const subjects: k8s.Subject[] = [{ kind: 'ServiceAccount', name: serviceAccount, namespace: props.namespace }];

    if (namespaced.length) {
      new k8s.KubeRole(this, 'role', { metadata: { name: service, labels }, rules: namespaced.map(toPolicyRule) });
      new k8s.KubeRoleBinding(this, 'role-binding', {
        metadata: { name: service, labels },
        roleRef: { apiGroup: RBAC_API_GROUP, kind: 'Role', name: service },
        subjects,
      });
    }
    if (cluster.length) {
      const clusterScope = props.clusterScope;
      if (!clusterScope) {
        this.node.addValidation({
          validate: () => [
            `service "${service}" declares ${cluster.length} api rule(s) with scope: cluster, but no cluster scope was given to ServiceApiAccess; pass the chart's clusterScope`,
          ],
        });
        return;
      }
      const name = clusterRoleNameOf(props.namespace, service);
      new k8s.KubeClusterRole(clusterScope, `${service}-cluster-role`, {
        metadata: { name, labels },
        rules: cluster.map(toPolicyRule),
      });
      new k8s.KubeClusterRoleBinding(clusterScope, `${service}-cluster-role-binding`, {
        metadata: { name, labels },
        roleRef: { apiGroup: RBAC_API_GROUP, kind: 'ClusterRole', name },
        subjects,
      });
    }
  }
}
