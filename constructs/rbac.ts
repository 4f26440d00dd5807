import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ApiAccess, ServiceConfig, TargetConfig } from '../config/types';
import { serviceLabels } from './labels';

export const RBAC_API_GROUP = 'rbac.authorization.k8s.io';

/** The ClusterRole (and its binding) of a service: prefixed by the namespace, as cluster-scoped names are shared. */
export const clusterRoleNameOf = (config: TargetConfig, service: ServiceConfig) => `${config.namespace}-${service.name}`;

/** Whether a service declares any access to the Kubernetes API (and so gets a token mounted). */
export function usesKubernetesApi(service: ServiceConfig): boolean {
  return (service.api ?? []).length > 0;
}

const toPolicyRule = (rule: ApiAccess): k8s.PolicyRule => ({
  apiGroups: [rule.apiGroup],
  resources: [...rule.resources],
  verbs: [...rule.verbs],
  resourceNames: rule.resourceNames?.length ? [...rule.resourceNames] : undefined,
});

export interface ServiceApiAccessProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** The ServiceAccount the service's pods run as. */
  readonly serviceAccount: string;
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
    const { config, service, serviceAccount } = props;
    const labels = serviceLabels(config, service);
    const rules = service.api ?? [];
    const namespaced = rules.filter((r) => (r.scope ?? 'namespace') === 'namespace');
    const cluster = rules.filter((r) => r.scope === 'cluster');
    const subjects: k8s.Subject[] = [{ kind: 'ServiceAccount', name: serviceAccount, namespace: config.namespace }];

    if (namespaced.length) {
      new k8s.KubeRole(this, 'role', { metadata: { name: service.name, labels }, rules: namespaced.map(toPolicyRule) });
      new k8s.KubeRoleBinding(this, 'role-binding', {
        metadata: { name: service.name, labels },
        roleRef: { apiGroup: RBAC_API_GROUP, kind: 'Role', name: service.name },
        subjects,
      });
    }
    if (cluster.length) {
      const clusterScope = props.clusterScope;
      if (!clusterScope) {
        this.node.addValidation({
          validate: () => [`service "${service.name}" declares ${cluster.length} api rule(s) with scope: cluster, but no cluster scope was given to ServiceApiAccess; pass the chart's clusterScope`],
        });
        return;
      }
      const name = clusterRoleNameOf(config, service);
      new k8s.KubeClusterRole(clusterScope, `${service.name}-cluster-role`, { metadata: { name, labels }, rules: cluster.map(toPolicyRule) });
      new k8s.KubeClusterRoleBinding(clusterScope, `${service.name}-cluster-role-binding`, {
        metadata: { name, labels },
        roleRef: { apiGroup: RBAC_API_GROUP, kind: 'ClusterRole', name },
        subjects,
      });
    }
  }
}
