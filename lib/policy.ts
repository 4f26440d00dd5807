import { CREDENTIAL_NAME, IMMUTABLE_TAG, parseImage } from '../config/rules';
import { TargetConfig } from '../config/types';
import { checkApiAccess } from './api-access-policy';
import { CLUSTER_SCOPED_KINDS, Manifest } from './manifest';
import { checkNetworkPolicies } from './network-policy-check';
import { foreignNamespaces } from './namespaces';
import { checkRestricted, podTemplateOf } from './pod-security';

/** One broken rule in one synthesized object. */
export interface PolicyViolation {
  readonly rule: string;
  readonly target: string;
  readonly kind: string;
  readonly name: string;
  /** Path inside the object. */
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

type Obj = Record<string, any>;

/** cdk8s-plus-28's built-in container resources; they must never reach dist/ unconfigured. */
export const CDK8S_PLUS_DEFAULT_RESOURCES = { requests: { cpu: '1000m', memory: '512Mi' }, limits: { cpu: '1500m', memory: '2048Mi' } };

const PSA_MODES = ['enforce', 'audit', 'warn'];

/**
 * The platform's policy, checked at synth over the objects about to be written. Every rule
 * reports every violation with the target, kind, name, field and the fix.
 */
export function checkPolicies(config: TargetConfig, manifests: readonly Manifest[]): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const add = (rule: string, m: Manifest, field: string, message: string, fix: string) =>
    violations.push({ rule, target: config.target, kind: m.kind, name: m.metadata.name, field, message, fix });

  const foreign = foreignNamespaces(config);
  for (const m of manifests) {
    const namespaced = !CLUSTER_SCOPED_KINDS.has(m.kind);
    const elsewhere = foreign.find((f) => f.namespace === m.metadata.namespace);
    if (namespaced && elsewhere && !elsewhere.kinds.includes(m.kind)) {
      add('namespace-scope', m, 'metadata.namespace', `is "${elsewhere.namespace}", where only ${elsewhere.kinds.join(', ')} may go (${elsewhere.why})`, `create the ${m.kind} in "${config.namespace}"`);
    } else if (namespaced && !elsewhere && m.metadata.namespace !== config.namespace) {
      add('namespace-scope', m, 'metadata.namespace', `is ${JSON.stringify(m.metadata.namespace)}, expected "${config.namespace}"`, 'create the object inside the target chart');
    }
    if (!namespaced && m.metadata.namespace !== undefined) {
      add('namespace-scope', m, 'metadata.namespace', `a cluster-scoped ${m.kind} carries namespace "${m.metadata.namespace}"`, 'create it in the chart\'s clusterScope');
    }

    if (m.kind === 'Secret' && ((m as Obj).data || (m as Obj).stringData)) {
      add('no-secret-data', m, (m as Obj).data ? 'data' : 'stringData', 'a Secret with data would write secret values to dist/', 'declare the value under the service\'s secrets so an ExternalSecret syncs it from the secret manager');
    }

    if (m.kind === 'Namespace') {
      const labels = m.metadata.labels ?? {};
      for (const mode of PSA_MODES) {
        if (labels[`pod-security.kubernetes.io/${mode}`] !== 'restricted') {
          add('namespace-pod-security', m, `metadata.labels.pod-security.kubernetes.io/${mode}`, `is ${JSON.stringify(labels[`pod-security.kubernetes.io/${mode}`])}`, 'set it to "restricted"');
        }
        if (!/^v1\.[0-9]+$/.test(labels[`pod-security.kubernetes.io/${mode}-version`] ?? '')) {
          add('namespace-pod-security', m, `metadata.labels.pod-security.kubernetes.io/${mode}-version`, 'is not pinned to a version', `set it to "${config.podSecurity.version}"`);
        }
      }
    }

    if (m.kind === 'Ingress') {
      const spec = (m as Obj).spec ?? {};
      const tlsHosts = new Set<string>((spec.tls ?? []).flatMap((t: Obj) => t.hosts ?? []));
      for (const rule of spec.rules ?? []) {
        if (rule.host && !tlsHosts.has(rule.host)) add('ingress-tls', m, 'spec.tls', `host ${rule.host} is served without TLS`, 'add the host to spec.tls with a cert-manager issued secret');
      }
    }

    const template = podTemplateOf(m);
    if (!template) continue;
    for (const finding of checkRestricted(template.spec, template.annotations)) {
      add('pod-security-restricted', m, `${template.path}.${finding.field}`, finding.message, 'set it in constructs/pod-template.ts; every field of the restricted profile is set explicitly there');
    }
    (template.spec.containers ?? []).forEach((c: Obj, i: number) => {
      const at = `${template.path}.containers[${i}]`;
      checkContainerResources(c, at, m, add);
      if (config.tier !== 'development') {
        for (const probe of ['readinessProbe', 'livenessProbe']) {
          if (!c[probe]) add('probes', m, `${at}.${probe}`, `is missing; ${config.tier} requires readiness and liveness probes`, 'add probes.readiness and probes.liveness to the service');
        }
      }
      for (const env of c.env ?? []) {
        if (env.value !== undefined && CREDENTIAL_NAME.test(env.name)) {
          add('no-literal-credentials', m, `${at}.env.${env.name}`, 'a credential-like variable has a literal value', 'move it to the service\'s secrets (an ExternalSecret)');
        }
      }
      const image = parseImage(String(c.image ?? ''));
      if (!image.digest && (!image.tag || image.tag === 'latest')) {
        add('image-pinned', m, `${at}.image`, `${c.image} is not pinned`, 'use a version tag or a digest');
      } else if (config.tier === 'production' && !image.digest && !IMMUTABLE_TAG.test(image.tag ?? '')) {
        add('image-pinned', m, `${at}.image`, `${c.image} is neither a digest nor an immutable version tag`, 'pin it by digest (@sha256:...) or a full version such as 1.4.2');
      }
    });

    if (config.tier === 'production' && config.availability.spread !== 'none' && m.kind !== 'Pod' && m.kind !== 'Job' && m.kind !== 'CronJob') {
      if (!(template.spec.topologySpreadConstraints ?? []).length) {
        add('spread', m, `${template.path}.topologySpreadConstraints`, 'production pods must spread over zones and nodes', 'leave availability.spread at zones-and-nodes');
      }
      const rolling = (m as Obj).spec?.strategy?.rollingUpdate;
      if (m.kind === 'Deployment' && rolling && rolling.maxUnavailable !== 0) {
        add('zero-downtime', m, 'spec.strategy.rollingUpdate.maxUnavailable', `is ${JSON.stringify(rolling.maxUnavailable)}`, 'set availability.maxUnavailable to 0');
      }
    }
  }

  for (const kind of ['ResourceQuota', 'LimitRange']) {
    if (!manifests.some((m) => m.kind === kind)) {
      violations.push({ rule: 'namespace-guards', target: config.target, kind, name: '(missing)', field: '', message: `the namespace has no ${kind}`, fix: 'keep TargetNamespace in the chart' });
    }
  }
  // a mounted token needs a binding; no wildcards or Secret reads in any Role
  for (const f of checkApiAccess(config, manifests)) add(f.rule, f.manifest, f.field, f.message, f.fix);
  // default deny, no allow-all rule, no unjustified 0.0.0.0/0
  for (const f of checkNetworkPolicies(config, manifests)) {
    if (f.manifest) add(f.rule, f.manifest, f.field, f.message, f.fix);
    else violations.push({ rule: f.rule, target: config.target, kind: 'NetworkPolicy', name: '(missing)', field: f.field, message: f.message, fix: f.fix });
  }
  return violations;
}

function checkContainerResources(c: Obj, at: string, m: Manifest, add: (rule: string, m: Manifest, field: string, message: string, fix: string) => void): void {
  const r = c.resources ?? {};
  for (const kind of ['requests', 'limits']) {
    for (const res of ['cpu', 'memory']) {
      if (r[kind]?.[res] === undefined) add('resources', m, `${at}.resources.${kind}.${res}`, 'is not set', 'configure resources.requests and resources.limits for the service');
    }
  }
  const d = CDK8S_PLUS_DEFAULT_RESOURCES;
  if (r.requests?.cpu === d.requests.cpu && r.requests?.memory === d.requests.memory && r.limits?.cpu === d.limits.cpu && r.limits?.memory === d.limits.memory) {
    add('resources', m, `${at}.resources`, 'carries cdk8s-plus\'s built-in defaults (1000m/512Mi, 1500m/2048Mi), not the configuration', 'set resources from the environment configuration');
  }
}
