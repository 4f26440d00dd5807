import { Manifest } from '../core/manifest';
import { AuthorizationEvaluator, Callee, Caller, istioMatch } from './mesh-evaluator';

/**
 * The evaluator on tiny hand-made policies, so the mesh tests over the real manifests cannot pass
 * vacuously: an allow-nothing policy admits nobody, DENY wins over ALLOW, STRICT refuses callers
 * without an identity, and each field matches as Istio documents it.
 */
const ns = (name: string, ambient = true): Manifest => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: ambient ? { 'istio.io/dataplane-mode': 'ambient' } : {} },
});
const policy = (name: string, spec: Record<string, unknown>, namespace = 'app'): Manifest => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace },
  spec,
});
const strict: Manifest = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace: 'app' },
  spec: { mtls: { mode: 'STRICT' } },
};
const web: Caller = { namespace: 'app', serviceAccount: 'web' };
const stranger: Caller = { namespace: 'app', serviceAccount: 'debug' };
const outsider: Caller = { namespace: 'legacy', serviceAccount: 'web' };
const db: Callee = { namespace: 'app', labels: { app: 'db' } };
const webToDb = policy('db', {
  selector: { matchLabels: { app: 'db' } },
  action: 'ALLOW',
  rules: [
    { from: [{ source: { principals: ['cluster.local/ns/app/sa/web'] } }], to: [{ operation: { ports: ['5432'] } }] },
  ],
});

describe('AuthorizationEvaluator', () => {
  it('allows every call when no ALLOW policy applies, and every call outside the mesh', () => {
    const authz = new AuthorizationEvaluator([ns('app')]);
    expect(authz.mayCall(stranger, db, 5432)).toBe(true);
    expect(new AuthorizationEvaluator([ns('app', false), webToDb]).mayCall(stranger, db, 5432)).toBe(true);
  });

  it('admits nobody under an ALLOW policy without rules (allow-nothing)', () => {
    const authz = new AuthorizationEvaluator([ns('app'), policy('default-deny', { action: 'ALLOW' })]);
    expect(authz.mayCall(web, db, 5432)).toBe(false);
    expect(authz.check(web, db, 5432).why).toMatch(/no rule of default-deny/);
  });

  it('admits exactly the principals and ports of a rule; ALLOW policies add up', () => {
    const authz = new AuthorizationEvaluator([ns('app'), policy('default-deny', { action: 'ALLOW' }), webToDb]);
    expect(authz.mayCall(web, db, 5432)).toBe(true);
    expect(authz.mayCall(web, db, 5433)).toBe(false);
    expect(authz.mayCall(stranger, db, 5432)).toBe(false);
    // the policy selects db only
    expect(authz.mayCall(web, { namespace: 'app', labels: { app: 'cache' } }, 5432)).toBe(false);
  });

  it('lets a DENY policy win over an ALLOW policy', () => {
    const deny = policy('no-web', {
      action: 'DENY',
      rules: [{ from: [{ source: { principals: ['*/sa/web'] } }] }],
    });
    expect(new AuthorizationEvaluator([ns('app'), webToDb, deny]).mayCall(web, db, 5432)).toBe(false);
  });

  it('refuses callers without a mesh identity under STRICT, and lets their principal match nothing otherwise', () => {
    const open = policy('open', { action: 'ALLOW', rules: [{}] });
    expect(new AuthorizationEvaluator([ns('app'), ns('legacy', false), open]).mayCall(outsider, db, 5432)).toBe(true);
    const authz = new AuthorizationEvaluator([ns('app'), ns('legacy', false), open, strict]);
    expect(authz.mayCall(outsider, db, 5432)).toBe(false);
    expect(authz.check(outsider, db, 5432).why).toMatch(/STRICT/);
    expect(authz.mayCall(web, db, 5432)).toBe(true);
  });

  it('matches namespaces, notPorts and the wildcard forms', () => {
    const byNamespace = policy('ns', {
      selector: { matchLabels: { app: 'db' } },
      rules: [{ from: [{ source: { namespaces: ['app'] } }], to: [{ operation: { notPorts: ['22'] } }] }],
    });
    const authz = new AuthorizationEvaluator([ns('app'), ns('other'), byNamespace]);
    expect(authz.mayCall(stranger, db, 5432)).toBe(true);
    expect(authz.mayCall(stranger, db, 22)).toBe(false);
    expect(authz.mayCall({ namespace: 'other', serviceAccount: 'web' }, db, 5432)).toBe(false);
    expect(istioMatch('*', 'x')).toBe(true);
    expect(istioMatch('cluster.local/ns/app/*', 'cluster.local/ns/app/sa/web')).toBe(true);
    expect(istioMatch('*/sa/web', 'cluster.local/ns/app/sa/web')).toBe(true);
    expect(istioMatch('*/sa/web', 'cluster.local/ns/app/sa/webhook')).toBe(false);
  });

  it('refuses to judge layer-7 fields, which ztunnel cannot enforce without a waypoint', () => {
    const l7 = policy('get-only', {
      selector: { matchLabels: { app: 'db' } },
      rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
    });
    expect(() => new AuthorizationEvaluator([ns('app'), l7]).mayCall(web, db, 5432)).toThrow(/waypoint/);
  });
});
