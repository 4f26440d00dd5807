import { Manifest, find } from '../../lib/manifest';
import { checkPolicies, PolicyViolation } from '../../lib/policy';
import { checkRestricted, podTemplateOf } from '../../lib/pod-security';
import { configOf, manifestsOf, TARGETS } from '../helpers';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** The reference production objects with one object replaced by a mutated copy. */
function withMutation(kind: string, name: string, mutate: (m: any) => void, target = 'production-us-east-1'): PolicyViolation[] {
  const manifests = manifestsOf(target).map((m) => {
    if (m.kind !== kind || m.metadata.name !== name) return m;
    const copy = clone(m);
    mutate(copy);
    return copy;
  });
  return checkPolicies(configOf(target), manifests);
}

const rules = (violations: PolicyViolation[]) => [...new Set(violations.map((v) => v.rule))];
const container = (m: any) => m.spec.template.spec.containers[0];

describe('policy over the reference platform', () => {
  it.each(TARGETS)('finds nothing in %s', (target) => {
    expect(checkPolicies(configOf(target), manifestsOf(target))).toEqual([]);
  });
});

describe('Pod Security "restricted" over every pod template', () => {
  it.each(TARGETS)('finds nothing in %s', (target) => {
    const templates = manifestsOf(target).map((m) => [m, podTemplateOf(m)] as const).filter(([, t]) => t);
    expect(templates.length).toBeGreaterThanOrEqual(7);
    for (const [m, t] of templates) expect([m.kind, m.metadata.name, checkRestricted(t!.spec, t!.annotations)]).toEqual([m.kind, m.metadata.name, []]);
  });
});

describe('each rule fires on a bad object', () => {
  it('refuses a container running as root', () => {
    const v = withMutation('Deployment', 'data-service', (m) => { container(m).securityContext.runAsUser = 0; });
    expect(v).toEqual(expect.arrayContaining([expect.objectContaining({
      rule: 'pod-security-restricted', target: 'production-us-east-1', kind: 'Deployment', name: 'data-service',
      field: 'spec.template.spec.containers[0].securityContext.runAsUser',
    })]));
  });

  it.each([
    ['capabilities not dropped', (m: any) => { delete container(m).securityContext.capabilities; }, 'capabilities.drop'],
    ['privilege escalation allowed', (m: any) => { container(m).securityContext.allowPrivilegeEscalation = true; }, 'allowPrivilegeEscalation'],
    ['no seccomp profile', (m: any) => { delete container(m).securityContext.seccompProfile; delete m.spec.template.spec.securityContext.seccompProfile; }, 'seccompProfile'],
    ['runAsNonRoot missing', (m: any) => { delete container(m).securityContext.runAsNonRoot; delete m.spec.template.spec.securityContext.runAsNonRoot; }, 'runAsNonRoot'],
    ['a hostPath volume', (m: any) => { m.spec.template.spec.volumes.push({ name: 'h', hostPath: { path: '/' } }); }, 'hostPath'],
    ['hostNetwork', (m: any) => { m.spec.template.spec.hostNetwork = true; }, 'hostNetwork'],
    ['a privileged container', (m: any) => { container(m).securityContext.privileged = true; }, 'privileged'],
    ['an added capability', (m: any) => { container(m).securityContext.capabilities.add = ['NET_ADMIN']; }, 'capabilities.add'],
  ])('refuses %s', (_, mutate, field) => {
    const v = withMutation('Deployment', 'signal-service', mutate);
    expect(v.some((x) => x.rule === 'pod-security-restricted' && x.field.includes(field))).toBe(true);
  });

  it('refuses a container without resources, and cdk8s-plus defaults', () => {
    expect(rules(withMutation('Deployment', 'ml-service', (m) => { delete container(m).resources.limits; }))).toContain('resources');
    const v = withMutation('Deployment', 'ml-service', (m) => {
      container(m).resources = { requests: { cpu: '1000m', memory: '512Mi' }, limits: { cpu: '1500m', memory: '2048Mi' } };
    });
    expect(v.find((x) => x.rule === 'resources')?.message).toContain('cdk8s-plus');
  });

  it('refuses a missing readiness or liveness probe from staging on, not in development', () => {
    expect(rules(withMutation('Deployment', 'ml-service', (m) => { delete container(m).readinessProbe; }))).toContain('probes');
    expect(rules(withMutation('Deployment', 'ml-service', (m) => { delete container(m).livenessProbe; }, 'staging'))).toContain('probes');
    expect(withMutation('Deployment', 'ml-service', (m) => { delete container(m).livenessProbe; }, 'development')).toEqual([]);
  });

  it('refuses a Secret carrying data', () => {
    const manifests: Manifest[] = [...manifestsOf('staging'), {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'trading-staging', labels: {} }, stringData: { password: 'x' },
    }];
    expect(checkPolicies(configOf('staging'), manifests)).toEqual([expect.objectContaining({ rule: 'no-secret-data', kind: 'Secret', name: 'db', field: 'stringData' })]);
  });

  it('refuses a literal credential in env', () => {
    const v = withMutation('Deployment', 'ml-service', (m) => { container(m).env.push({ name: 'EXCHANGE_API_KEY', value: 'abc' }); });
    expect(v).toEqual([expect.objectContaining({ rule: 'no-literal-credentials', field: 'spec.template.spec.containers[0].env.EXCHANGE_API_KEY' })]);
  });

  it('refuses production images that are neither a digest nor an immutable version', () => {
    expect(rules(withMutation('Deployment', 'ml-service', (m) => { container(m).image = 'ghcr.io/x/ml:main-abc'; }))).toEqual(['image-pinned']);
    expect(withMutation('Deployment', 'ml-service', (m) => { container(m).image = `ghcr.io/x/ml@sha256:${'a'.repeat(64)}`; })).toEqual([]);
    expect(withMutation('Deployment', 'ml-service', (m) => { container(m).image = 'ghcr.io/x/ml:main-abc'; }, 'staging')).toEqual([]);
    expect(rules(withMutation('Deployment', 'ml-service', (m) => { container(m).image = 'ghcr.io/x/ml:latest'; }, 'staging'))).toEqual(['image-pinned']);
  });

  it('refuses a namespace without restricted Pod Security labels', () => {
    const v = withMutation('Namespace', 'trading-prod', (m) => { m.metadata.labels['pod-security.kubernetes.io/warn'] = 'baseline'; });
    expect(v).toEqual([expect.objectContaining({ rule: 'namespace-pod-security', field: 'metadata.labels.pod-security.kubernetes.io/warn' })]);
  });

  it('refuses a cluster-scoped object with a namespace and a namespaced one elsewhere', () => {
    expect(rules(withMutation('PriorityClass', 'trading-high', (m) => { m.metadata.namespace = 'trading-prod'; }))).toEqual(['namespace-scope']);
    expect(rules(withMutation('Service', 'redis', (m) => { m.metadata.namespace = 'default'; }))).toEqual(['namespace-scope']);
  });

  it('refuses an Ingress host without TLS', () => {
    expect(rules(withMutation('Ingress', 'gateway', (m) => { m.spec.tls = []; }))).toEqual(['ingress-tls']);
  });

  it('refuses production pods without spread or with maxUnavailable above 0', () => {
    expect(rules(withMutation('Deployment', 'ml-service', (m) => { delete m.spec.template.spec.topologySpreadConstraints; }))).toEqual(['spread']);
    expect(rules(withMutation('Deployment', 'ml-service', (m) => { m.spec.strategy.rollingUpdate.maxUnavailable = 1; }))).toEqual(['zero-downtime']);
  });

  it('refuses a namespace without its ResourceQuota', () => {
    const manifests = manifestsOf('staging').filter((m) => m.kind !== 'ResourceQuota');
    expect(checkPolicies(configOf('staging'), manifests)).toEqual([expect.objectContaining({ rule: 'namespace-guards', kind: 'ResourceQuota' })]);
  });

  it('reports target, kind, name, field and fix', () => {
    const [v] = withMutation('Deployment', 'ml-service', (m) => { container(m).securityContext.readOnlyRootFilesystem = true; container(m).securityContext.runAsUser = 0; });
    expect(v).toEqual({ rule: 'pod-security-restricted', target: 'production-us-east-1', kind: 'Deployment', name: 'ml-service', field: expect.any(String), message: expect.any(String), fix: expect.any(String) });
    expect(find(manifestsOf('production-us-east-1'), 'Deployment', 'ml-service')).toBeDefined();
  });
});
