import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadPlatform } from '../../config/load';
import { find, Manifest, ofKind } from '../../core/manifest';
import { checkPolicies } from '../../pipeline/policy';
import { podTemplateOf } from '../../pipeline/pod-security';
import { synthTarget } from '../../pipeline/synth';
import { configOf, copyEnvironments, edit, manifestsOf, runSynth, TARGETS, treeDigest } from '../helpers';

type Obj = Record<string, any>;

/** PLATFORM.md, "Access to the Kubernetes API", split so that everything but create is limited to the one Lease. */
const ORCHESTRATOR_RULES = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: ['orchestrator-leader'],
    verbs: ['get', 'watch', 'update'],
  },
  { apiGroups: [''], resources: ['configmaps'], resourceNames: ['feature-flags'], verbs: ['get', 'watch'] },
];

describe.each(TARGETS)('RBAC of %s', (target) => {
  const manifests = manifestsOf(target);
  const config = configOf(target);

  it('gives orchestrator exactly its leases and feature-flags access, bound to its ServiceAccount', () => {
    const role = find(manifests, 'Role', 'orchestrator') as Obj;
    expect(role.metadata.namespace).toBe(config.namespace);
    expect(role.rules).toEqual(ORCHESTRATOR_RULES);
    const binding = find(manifests, 'RoleBinding', 'orchestrator') as Obj;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'orchestrator' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'orchestrator', namespace: config.namespace }]);
    // the names it is limited to exist: the ConfigMap here, the Lease is the one the service is told to use
    find(manifests, 'ConfigMap', 'feature-flags');
    expect(config.services.orchestrator.env?.LEADER_ELECTION_LEASE).toBe('orchestrator-leader');
  });

  it('grants nothing else: one Role, one RoleBinding, no ClusterRole', () => {
    expect(ofKind(manifests, 'Role').map((m) => m.metadata.name)).toEqual(['orchestrator']);
    expect(ofKind(manifests, 'RoleBinding').map((m) => m.metadata.name)).toEqual(['orchestrator']);
    expect(ofKind(manifests, 'ClusterRole')).toEqual([]);
    expect(ofKind(manifests, 'ClusterRoleBinding')).toEqual([]);
  });

  it('mounts a token only for orchestrator, on the ServiceAccount and on the pods', () => {
    for (const account of ofKind(manifests, 'ServiceAccount') as Obj[]) {
      expect([account.metadata.name, account.automountServiceAccountToken]).toEqual([
        account.metadata.name,
        account.metadata.name === 'orchestrator',
      ]);
    }
    for (const m of manifests) {
      const template = podTemplateOf(m);
      if (!template) continue;
      expect([m.metadata.name, template.spec.serviceAccountName, template.spec.automountServiceAccountToken]).toEqual([
        m.metadata.name,
        m.metadata.name,
        m.metadata.name === 'orchestrator',
      ]);
    }
  });

  it('uses no wildcard and reads no Secret anywhere', () => {
    for (const role of [...ofKind(manifests, 'Role'), ...ofKind(manifests, 'ClusterRole')] as Obj[]) {
      for (const rule of role.rules) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames'])
          expect((rule[field] ?? []).join()).not.toContain('*');
        expect(rule.resources).not.toContain('secrets');
      }
    }
  });
});

describe('API access', () => {
  it('makes a ClusterRole and ClusterRoleBinding, without a namespace, only for rules declaring scope: cluster', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      '        resourceNames: [feature-flags]\n        verbs: [get, watch]',
      '        resourceNames: [feature-flags]\n        verbs: [get, watch]\n      - apiGroup: ""\n        resources: [nodes]\n        verbs: [get, list]\n        scope: cluster',
    );
    const config = loadPlatform(dir).find((c) => c.target === 'staging')!;
    const manifests = synthTarget(config);
    expect(checkPolicies(config, manifests)).toEqual([]);
    const role = find(manifests, 'ClusterRole', 'trading-staging-orchestrator') as Obj;
    expect(role.metadata.namespace).toBeUndefined();
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]);
    const binding = find(manifests, 'ClusterRoleBinding', 'trading-staging-orchestrator') as Obj;
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'trading-staging-orchestrator',
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'orchestrator', namespace: 'trading-staging' }]);
    // the namespaced rules stay in the Role
    expect((find(manifests, 'Role', 'orchestrator') as Obj).rules).toEqual(ORCHESTRATOR_RULES);
  });

  it('reports a token-mounting ServiceAccount and its pods when nothing binds them', () => {
    const manifests = manifestsOf('staging').filter((m) => m.kind !== 'RoleBinding');
    const violations = checkPolicies(configOf('staging'), manifests).filter((v) => v.rule === 'token-needs-binding');
    expect(violations.map((v) => `${v.kind}/${v.name}: ${v.field}`)).toEqual([
      'ServiceAccount/orchestrator: automountServiceAccountToken',
      'Deployment/orchestrator: spec.template.spec.automountServiceAccountToken',
    ]);
    expect(violations[0].message).toContain('no RoleBinding or ClusterRoleBinding names ServiceAccount "orchestrator"');
  });

  it('reports a ServiceAccount that mounts a token by default (the field left out)', () => {
    const manifests: Manifest[] = manifestsOf('development').map((m) => {
      if (m.kind !== 'ServiceAccount' || m.metadata.name !== 'gateway') return m;
      const { automountServiceAccountToken: _omit, ...rest } = m as Obj;
      return rest as Manifest;
    });
    const violations = checkPolicies(configOf('development'), manifests).filter(
      (v) => v.rule === 'token-needs-binding',
    );
    expect(violations.map((v) => `${v.kind}/${v.name}`)).toEqual(['ServiceAccount/gateway']);
  });
});

describe('synth refuses excessive API access', () => {
  let out: string;
  let before: string;

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    expect(runSynth(['--config', copyEnvironments(), '--out', out, '--quiet']).status).toBe(0);
    before = treeDigest(out);
  });

  function refuse(search: string, replacement: string): string {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', search, replacement);
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(result.stderr).toContain('nothing was written');
    expect(treeDigest(out)).toBe(before);
    return result.stderr;
  }

  it('fails on a wildcard verb', () => {
    const message = refuse(
      'resources: [configmaps]\n        resourceNames: [feature-flags]\n        verbs: [get, watch]',
      'resources: [configmaps]\n        resourceNames: [feature-flags]\n        verbs: ["*"]',
    );
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.api\[2\]\.verbs\[0\]: "\*" is not allowed; allowed: "get", "list", "watch"/,
    );
  });

  it('fails on a wildcard resource and a wildcard API group', () => {
    const message = refuse(
      '      - apiGroup: ""\n        resources: [configmaps]',
      '      - apiGroup: "*"\n        resources: ["*"]',
    );
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.api\[2\]\.apiGroup: "\*" is a wildcard; name the one API group/,
    );
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.api\[2\]\.resources\[0\]: "\*" is a wildcard; service "orchestrator" must list every resource it needs explicitly/,
    );
  });

  it('fails on read access to Secrets', () => {
    const message = refuse('resources: [configmaps]', 'resources: [configmaps, secrets]');
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.api\[2\]\.resources\[1\]: service "orchestrator" asks for get, watch on "secrets"; read access to Secrets is not allowed/,
    );
  });

  it('fails on create restricted by resourceNames, which Kubernetes cannot enforce', () => {
    const message = refuse(
      'resourceNames: [orchestrator-leader]\n        verbs: [get, watch, update]',
      'resourceNames: [orchestrator-leader]\n        verbs: [get, watch, create, update]',
    );
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.api\[1\]\.verbs: "create" cannot be restricted by resourceNames/,
    );
  });
});
