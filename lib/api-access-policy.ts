import { TargetConfig } from '../config/types';
import { Manifest } from './manifest';
import { podTemplateOf } from './pod-security';

/** A broken rule of API access, in the shape lib/policy.ts reports. */
export interface ApiAccessFinding {
  readonly rule: string;
  readonly manifest: Manifest;
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

type Obj = Record<string, any>;

/** `namespace/name` of every ServiceAccount bound by a RoleBinding or ClusterRoleBinding. */
export function boundServiceAccounts(manifests: readonly Manifest[]): Set<string> {
  const bound = new Set<string>();
  for (const m of manifests) {
    if (m.kind !== 'RoleBinding' && m.kind !== 'ClusterRoleBinding') continue;
    for (const subject of ((m as Obj).subjects ?? []) as Obj[]) {
      if (subject.kind === 'ServiceAccount') bound.add(`${subject.namespace ?? m.metadata.namespace}/${subject.name}`);
    }
  }
  return bound;
}

/**
 * Least privilege over the synthesized objects, whoever made them:
 * - a ServiceAccount that mounts a token (the default when `automountServiceAccountToken` is not
 *   false), and a pod that mounts one (its own setting, else its ServiceAccount's), must be bound
 *   by a RoleBinding or ClusterRoleBinding: a token nobody granted anything to is only a
 *   credential to steal;
 * - no Role or ClusterRole rule uses `*` or lets anyone read Secrets.
 */
export function checkApiAccess(config: TargetConfig, manifests: readonly Manifest[]): ApiAccessFinding[] {
  const findings: ApiAccessFinding[] = [];
  const bound = boundServiceAccounts(manifests);
  const accounts = new Map(manifests.filter((m) => m.kind === 'ServiceAccount').map((m) => [m.metadata.name, m as Obj]));
  const fix = 'declare the service\'s API needs under `api` (a Role and RoleBinding follow), or leave the token unmounted (automountServiceAccountToken: false)';

  for (const [name, account] of accounts) {
    const mounts = account.automountServiceAccountToken !== false;
    if (mounts && !bound.has(`${account.metadata.namespace ?? config.namespace}/${name}`)) {
      findings.push({ rule: 'token-needs-binding', manifest: account as Manifest, field: 'automountServiceAccountToken', message: `mounts a token (${JSON.stringify(account.automountServiceAccountToken)}) but no RoleBinding or ClusterRoleBinding names ServiceAccount "${name}"`, fix });
    }
  }
  for (const m of manifests) {
    const template = podTemplateOf(m);
    if (!template) continue;
    const spec = template.spec as Obj;
    const name: string = spec.serviceAccountName ?? 'default';
    const account = accounts.get(name);
    const mounts = spec.automountServiceAccountToken ?? account?.automountServiceAccountToken ?? true;
    if (mounts !== false && !bound.has(`${m.metadata.namespace ?? config.namespace}/${name}`)) {
      findings.push({ rule: 'token-needs-binding', manifest: m, field: `${template.path}.automountServiceAccountToken`, message: `the pods mount a token of ServiceAccount "${name}", which no RoleBinding or ClusterRoleBinding names`, fix });
    }
  }

  for (const m of manifests) {
    if (m.kind !== 'Role' && m.kind !== 'ClusterRole') continue;
    ((m as Obj).rules ?? []).forEach((rule: Obj, i: number) => {
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
        if ((rule[field] ?? []).some((v: string) => v.includes('*'))) {
          findings.push({ rule: 'rbac-least-privilege', manifest: m, field: `rules[${i}].${field}`, message: `contains a wildcard (${JSON.stringify(rule[field])})`, fix: 'list the API groups, resources and verbs explicitly in the service\'s `api`' });
        }
      }
      const core = (rule.apiGroups ?? []).includes('');
      const reads = (rule.verbs ?? []).filter((v: string) => ['get', 'list', 'watch'].includes(v));
      if (core && (rule.resources ?? []).includes('secrets') && reads.length) {
        findings.push({ rule: 'rbac-least-privilege', manifest: m, field: `rules[${i}]`, message: `grants ${reads.join(', ')} on Secrets`, fix: 'remove it; services get secrets from ExternalSecrets as environment variables' });
      }
    });
  }
  return findings;
}
