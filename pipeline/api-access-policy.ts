import { TargetConfig } from '../config/types';
import { LABEL } from '../constructs/labels';
import { Manifest, Obj } from '../core/manifest';
import { podTemplateOf } from './pod-security';
import { describeGrant, RiskyGrant, riskyGrants } from '../core/rbac-risks';
import { isReason } from '../core/reason';

/** A broken rule of API access, in the shape pipeline/policy.ts reports. */
export interface ApiAccessFinding {
  readonly rule: string;
  readonly manifest: Manifest;
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

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
 * - no Role or ClusterRole rule uses `*` or lets anyone read Secrets;
 * - no Role or ClusterRole grants what can take over the cluster (core/rbac-risks.ts) unless the
 *   configuration of the service it belongs to (its `app.kubernetes.io/name` label) declares that
 *   very grant, in a rule of the same scope with a reason; in production never. Objects that
 *   constructs build on their own are held to the same list.
 */
export function checkApiAccess(config: TargetConfig, manifests: readonly Manifest[]): ApiAccessFinding[] {
  const findings: ApiAccessFinding[] = [];
  const bound = boundServiceAccounts(manifests);
  const accounts = new Map(
    manifests.filter((m) => m.kind === 'ServiceAccount').map((m) => [m.metadata.name, m as Obj]),
  );
  const fix =
    "declare the service's API needs under `api` (a Role and RoleBinding follow), or leave the token unmounted (automountServiceAccountToken: false)";

  for (const [name, account] of accounts) {
    const mounts = account.automountServiceAccountToken !== false;
    if (mounts && !bound.has(`${account.metadata.namespace ?? config.namespace}/${name}`)) {
      findings.push({
        rule: 'token-needs-binding',
        manifest: account as Manifest,
        field: 'automountServiceAccountToken',
        message: `mounts a token (${JSON.stringify(account.automountServiceAccountToken)}) but no RoleBinding or ClusterRoleBinding names ServiceAccount "${name}"`,
        fix,
      });
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
      findings.push({
        rule: 'token-needs-binding',
        manifest: m,
        field: `${template.path}.automountServiceAccountToken`,
        message: `the pods mount a token of ServiceAccount "${name}", which no RoleBinding or ClusterRoleBinding names`,
        fix,
      });
    }
  }

  // a binding grants what its role says: only roles synthesized here were checked above and below
  const roles = new Set(
    manifests
      .filter((m) => m.kind === 'Role' || m.kind === 'ClusterRole')
      .map((m) => `${m.kind}/${m.kind === 'Role' ? `${m.metadata.namespace}/` : ''}${m.metadata.name}`),
  );
  for (const m of manifests) {
    if (m.kind !== 'RoleBinding' && m.kind !== 'ClusterRoleBinding') continue;
    const ref = ((m as Obj).roleRef ?? {}) as Obj;
    const key = `${ref.kind}/${ref.kind === 'Role' ? `${m.metadata.namespace}/` : ''}${ref.name}`;
    if (!roles.has(key)) {
      findings.push({
        rule: 'rbac-least-privilege',
        manifest: m,
        field: 'roleRef',
        message: `binds ${ref.kind} "${ref.name}", which is not part of the target, so nothing checked what it grants (built-in ones such as cluster-admin, admin and edit hand over Secrets and workloads)`,
        fix: "bind the Role or ClusterRole the service's `api` makes",
      });
    }
  }

  for (const m of manifests) {
    if (m.kind !== 'Role' && m.kind !== 'ClusterRole') continue;
    if ((m as Obj).aggregationRule) {
      findings.push({
        rule: 'rbac-least-privilege',
        manifest: m,
        field: 'aggregationRule',
        message:
          'takes its rules from every ClusterRole its selector matches, in the cluster, so nothing here checks them',
        fix: "list the rules explicitly in the service's `api`",
      });
    }
    ((m as Obj).rules ?? []).forEach((rule: Obj, i: number) => {
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
        if ((rule[field] ?? []).some((v: string) => v.includes('*'))) {
          findings.push({
            rule: 'rbac-least-privilege',
            manifest: m,
            field: `rules[${i}].${field}`,
            message: `contains a wildcard (${JSON.stringify(rule[field])})`,
            fix: "list the API groups, resources and verbs explicitly in the service's `api`",
          });
        }
      }
      const core = (rule.apiGroups ?? []).includes('');
      const reads = (rule.verbs ?? []).filter((v: string) => ['get', 'list', 'watch'].includes(v));
      if (core && (rule.resources ?? []).includes('secrets') && reads.length) {
        findings.push({
          rule: 'rbac-least-privilege',
          manifest: m,
          field: `rules[${i}]`,
          message: `grants ${reads.join(', ')} on Secrets`,
          fix: 'remove it; services get secrets from ExternalSecrets as environment variables',
        });
      }
      for (const grant of riskyGrants(rule.apiGroups ?? [], rule.resources ?? [], rule.verbs ?? [])) {
        if (config.tier !== 'production' && declaredWithReason(config, m, grant)) continue;
        const service = m.metadata.labels?.[LABEL.name];
        findings.push({
          rule: 'rbac-escalation',
          manifest: m,
          field: `rules[${i}].resources[${(rule.resources as string[]).indexOf(grant.resource)}]`,
          message: `grants ${describeGrant(grant)} (${grant.risk.name}), which ${grant.risk.why}${config.tier === 'production' ? '; refused in production, even with a reason' : ''}`,
          fix:
            config.tier === 'production'
              ? 'remove the grant from the production objects'
              : `remove the grant, or declare exactly it in ${service ? `services.${service}.api` : 'the api of the service the role belongs to'} with scope ${m.kind === 'ClusterRole' ? 'cluster' : 'namespace'} and a "reason"`,
        });
      }
    });
  }
  return findings;
}

/**
 * Whether the service a Role or ClusterRole belongs to (by its `app.kubernetes.io/name` label)
 * declares the grant in an `api` rule of the same scope with a reason.
 */
function declaredWithReason(config: TargetConfig, role: Manifest, grant: RiskyGrant): boolean {
  const service = config.services[role.metadata.labels?.[LABEL.name] ?? ''];
  const scope = role.kind === 'ClusterRole' ? 'cluster' : 'namespace';
  return (service?.api ?? []).some(
    (rule) =>
      isReason(rule.reason) &&
      (rule.scope ?? 'namespace') === scope &&
      rule.apiGroup === grant.apiGroup &&
      rule.resources.includes(grant.resource) &&
      grant.verbs.every((v) => rule.verbs.includes(v)),
  );
}
