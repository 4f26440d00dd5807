/**
 * Grants of the Kubernetes API that hand over (nearly) the whole cluster even without a wildcard,
 * after the "Privilege escalation risks" of Kubernetes' RBAC good practices
 * (https://kubernetes.io/docs/concepts/security/rbac-good-practices/), one entry per risk with
 * why it is dangerous. config/network-rules.ts checks the `api` rules of the configuration against
 * this list and pipeline/api-access-policy.ts every synthesized Role and ClusterRole: a grant on the
 * list needs a `reason` on its rule, and is refused in production even with one.
 *
 * Reading Secrets (get, list, watch, and the writes that answer with the object) is not here: it
 * is refused everywhere, reason or not (config/network-rules.ts, pipeline/api-access-policy.ts).
 */
export interface RbacRisk {
  /** Short name, used in messages. */
  readonly name: string;
  /** API groups ('' is the core group). */
  readonly apiGroups: readonly string[];
  /** Resources, `resource/subresource`; an entry ending in `/` matches every subresource of it. */
  readonly resources: readonly string[];
  /** The verbs that are dangerous on them; 'any' when every verb is (a GET upgrades to a stream). */
  readonly verbs: readonly string[] | 'any';
  readonly why: string;
}

const RBAC = 'rbac.authorization.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';
const WRITE = ['create', 'update', 'patch'];

export const RBAC_RISKS: readonly RbacRisk[] = [
  {
    name: 'workload creation',
    apiGroups: ['', 'apps', 'batch', 'argoproj.io'],
    resources: [
      'pods',
      'replicationcontrollers',
      'deployments',
      'replicasets',
      'statefulsets',
      'daemonsets',
      'jobs',
      'cronjobs',
      'rollouts',
    ],
    verbs: WRITE,
    why: 'runs pods of any image in the namespace, which may mount every Secret, ConfigMap and volume there and run as any of its ServiceAccounts',
  },
  {
    name: 'persistent volume creation',
    apiGroups: [''],
    resources: ['persistentvolumes'],
    verbs: WRITE,
    why: "a hostPath PersistentVolume gives the pod that claims it the node's filesystem",
  },
  {
    name: 'node proxy',
    apiGroups: [''],
    resources: ['nodes/proxy'],
    verbs: 'any',
    why: 'reaches the kubelet API, which runs commands in every pod of the node, unaudited',
  },
  {
    name: 'node modification',
    apiGroups: [''],
    resources: ['nodes', 'nodes/status'],
    verbs: [...WRITE, 'delete'],
    why: "rewrites node labels, taints and status, which steers pods (and the Secrets they mount) to a node of the holder's choosing or drives them off theirs",
  },
  {
    name: 'exec, attach and port-forward',
    apiGroups: [''],
    resources: ['pods/exec', 'pods/attach', 'pods/portforward'],
    verbs: 'any',
    why: 'runs commands in, or reads the streams and ports of, any pod of the namespace with its ServiceAccount and Secrets (a GET is upgraded to the stream)',
  },
  {
    name: 'ephemeral containers',
    apiGroups: [''],
    resources: ['pods/ephemeralcontainers'],
    verbs: ['update', 'patch'],
    why: 'adds a container of any image to a running pod, with its ServiceAccount and volumes',
  },
  {
    name: 'API server proxy',
    apiGroups: [''],
    resources: ['pods/proxy', 'services/proxy'],
    verbs: 'any',
    why: 'reaches any pod or Service port through the API server, past every NetworkPolicy',
  },
  {
    name: 'token request',
    apiGroups: [''],
    resources: ['serviceaccounts/token'],
    verbs: ['create'],
    why: 'issues tokens of any ServiceAccount of the namespace, with all their rights',
  },
  {
    name: 'escalate',
    apiGroups: [RBAC],
    resources: ['roles', 'clusterroles'],
    verbs: ['escalate'],
    why: 'writes Roles with permissions the holder does not have, which is every permission',
  },
  {
    name: 'bind',
    apiGroups: [RBAC],
    resources: ['roles', 'clusterroles'],
    verbs: ['bind'],
    why: 'binds any Role or ClusterRole, cluster-admin included, to any subject',
  },
  {
    name: 'RBAC writes',
    apiGroups: [RBAC],
    resources: ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'],
    verbs: WRITE,
    why: 'changes who may do what: hands on every permission the holder has, to any subject, and with bind or escalate any other',
  },
  {
    name: 'impersonate',
    apiGroups: ['', 'authentication.k8s.io'],
    resources: ['users', 'groups', 'serviceaccounts', 'uids', 'userextras/'],
    verbs: ['impersonate'],
    why: 'acts as any user, group or ServiceAccount, system:masters included',
  },
  {
    name: 'certificate signing',
    apiGroups: ['certificates.k8s.io'],
    resources: [
      'certificatesigningrequests',
      'certificatesigningrequests/approval',
      'certificatesigningrequests/status',
      'signers',
    ],
    verbs: ['create', 'update', 'patch', 'approve', 'sign'],
    why: 'requests, approves or signs client certificates, which authenticate as any user or node, system:masters included',
  },
  {
    name: 'admission control',
    apiGroups: [ADMISSION],
    resources: [
      'mutatingwebhookconfigurations',
      'validatingwebhookconfigurations',
      'validatingadmissionpolicies',
      'validatingadmissionpolicybindings',
      'mutatingadmissionpolicies',
      'mutatingadmissionpolicybindings',
    ],
    verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
    why: 'reads or rewrites every object sent to the API server, or switches off the policies that guard them',
  },
  {
    name: 'namespace modification',
    apiGroups: [''],
    resources: ['namespaces'],
    verbs: ['update', 'patch'],
    why: 'rewrites namespace labels, which switch off Pod Security admission and change which NetworkPolicies select the namespace',
  },
];

/** One dangerous grant of a rule: the risk, the resource and the verbs that hit it. */
export interface RiskyGrant {
  readonly risk: RbacRisk;
  readonly apiGroup: string;
  readonly resource: string;
  readonly verbs: readonly string[];
}

const resourceMatches = (pattern: string, resource: string) =>
  resource === '*' || (pattern.endsWith('/') ? resource.startsWith(pattern) : resource === pattern);

/**
 * The dangerous grants of one RBAC rule (API groups, resources, verbs, as in a PolicyRule): one
 * entry per risk, group and resource it hits. A `*` matches everything (wildcards are refused
 * separately). `resourceNames` limits a grant but never makes it safe, so it is not asked.
 */
export function riskyGrants(
  apiGroups: readonly string[],
  resources: readonly string[],
  verbs: readonly string[],
): RiskyGrant[] {
  const out: RiskyGrant[] = [];
  for (const risk of RBAC_RISKS) {
    const hit =
      risk.verbs === 'any'
        ? [...verbs]
        : verbs.filter((v) => v === '*' || (risk.verbs as readonly string[]).includes(v));
    if (!hit.length) continue;
    for (const apiGroup of apiGroups) {
      if (apiGroup !== '*' && !risk.apiGroups.includes(apiGroup)) continue;
      for (const resource of resources) {
        if (risk.resources.some((r) => resourceMatches(r, resource)))
          out.push({ risk, apiGroup, resource, verbs: hit });
      }
    }
  }
  return out;
}

/** `create on "pods/exec"` style text of a grant. */
export function describeGrant(grant: RiskyGrant): string {
  const group = grant.apiGroup === '' ? '' : `${grant.apiGroup}/`;
  return `${grant.verbs.join(', ')} on "${group}${grant.resource}"`;
}
