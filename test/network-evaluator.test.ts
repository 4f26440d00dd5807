import { Manifest } from '../core/manifest';
import { NetworkEvaluator, PodEndpoint, selects } from './network-evaluator';

/**
 * The evaluator on tiny hand-made policies, so the flow tests over the real manifests cannot pass
 * vacuously: no policy allows everything, a default deny allows nothing, and each kind of peer
 * and port behaves as Kubernetes documents it.
 */
const policy = (name: string, spec: Record<string, unknown>, namespace = 'app'): Manifest => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

const web: PodEndpoint = { namespace: 'app', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] };
const db: PodEndpoint = { namespace: 'app', labels: { app: 'db' }, ports: [{ name: 'sql', containerPort: 5432 }] };
const probe: PodEndpoint = { namespace: 'ops', labels: { app: 'probe' } };
const denyAll = policy('deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

describe('NetworkEvaluator', () => {
  it('allows everything when there are no policies', () => {
    const net = new NetworkEvaluator([]);
    expect(net.mayReach(web, db, 5432)).toBe(true);
    expect(net.mayReach(probe, web, 1, 'UDP')).toBe(true);
    expect(net.mayReach(web, { ip: '8.8.8.8' }, 443)).toBe(true);
    expect(net.mayReach({ ipBlock: '8.8.8.8' }, web, 8080)).toBe(true);
  });

  it('allows nothing into or out of a namespace under default deny, and leaves other namespaces alone', () => {
    const net = new NetworkEvaluator([denyAll]);
    expect(net.mayReach(web, db, 5432)).toBe(false);
    expect(net.mayReach(web, { ip: '8.8.8.8' }, 443)).toBe(false);
    expect(net.mayReach({ ip: '8.8.8.8' }, web, 8080)).toBe(false);
    expect(net.mayReach(probe, web, 8080)).toBe(false);
    expect(net.mayReach(probe, { ip: '8.8.8.8' }, 443)).toBe(true);
    expect(net.check(web, db, 5432).egress).toMatch(/denied: isolated for egress by deny/);
  });

  it('needs both the egress of the source and the ingress of the destination', () => {
    const egressOnly = policy('web-out', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] }],
    });
    const ingressOnly = policy('db-in', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] }],
    });
    expect(new NetworkEvaluator([denyAll, egressOnly]).mayReach(web, db, 5432)).toBe(false);
    expect(new NetworkEvaluator([denyAll, ingressOnly]).mayReach(web, db, 5432)).toBe(false);
    const both = new NetworkEvaluator([denyAll, egressOnly, ingressOnly]);
    expect(both.mayReach(web, db, 5432)).toBe(true);
    expect(both.mayReach(web, db, 5433)).toBe(false);
    expect(both.mayReach(web, db, 5432, 'UDP')).toBe(false);
    expect(both.mayReach(db, web, 8080)).toBe(false);
  });

  it('isolates only for the policy types a policy has, inferring them when absent', () => {
    // no policyTypes and no egress section: ingress only, so egress stays open
    const implicit = policy('web-in', { podSelector: { matchLabels: { app: 'web' } }, ingress: [] });
    const net = new NetworkEvaluator([implicit]);
    expect(net.mayReach(db, web, 8080)).toBe(false);
    expect(net.mayReach(web, { ip: '8.8.8.8' }, 443)).toBe(true);
    // an egress section implies Egress
    const withEgress = policy('web-both', { podSelector: { matchLabels: { app: 'web' } }, egress: [] });
    expect(new NetworkEvaluator([withEgress]).mayReach(web, { ip: '8.8.8.8' }, 443)).toBe(false);
  });

  it('treats a rule without peers or ports as matching everything', () => {
    const open = policy('open', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] });
    expect(new NetworkEvaluator([open]).mayReach(probe, db, 1234)).toBe(true);
  });

  it('ANDs namespaceSelector and podSelector in one peer and ORs separate peers', () => {
    const and = policy('and', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } },
              podSelector: { matchLabels: { app: 'probe' } },
            },
          ],
        },
      ],
    });
    const or = policy('or', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } } },
            { podSelector: { matchLabels: { app: 'probe' } } },
          ],
        },
      ],
    });
    const otherOps = { namespace: 'ops', labels: { app: 'other' } };
    const probeHere = { namespace: 'app', labels: { app: 'probe' } };
    expect(new NetworkEvaluator([and]).mayReach(probe, db, 5432)).toBe(true);
    expect(new NetworkEvaluator([and]).mayReach(otherOps, db, 5432)).toBe(false);
    expect(new NetworkEvaluator([and]).mayReach(probeHere, db, 5432)).toBe(false);
    expect(new NetworkEvaluator([or]).mayReach(otherOps, db, 5432)).toBe(true);
    expect(new NetworkEvaluator([or]).mayReach(probeHere, db, 5432)).toBe(true);
    // a podSelector alone means the policy's own namespace
    const sameNs = policy('same', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'probe' } } }] }],
    });
    expect(new NetworkEvaluator([sameNs]).mayReach(probe, db, 5432)).toBe(false);
    expect(new NetworkEvaluator([sameNs]).mayReach(probeHere, db, 5432)).toBe(true);
  });

  it('matches namespaces by the labels of Namespace objects and options', () => {
    const byTeam = policy('team', {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'sre' } } }] }],
    });
    expect(new NetworkEvaluator([byTeam]).mayReach(probe, db, 5432)).toBe(false);
    expect(
      new NetworkEvaluator([byTeam], { namespaceLabels: { ops: { team: 'sre' } } }).mayReach(probe, db, 5432),
    ).toBe(true);
    const ns: Manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ops', labels: { team: 'sre' } } };
    expect(new NetworkEvaluator([byTeam, ns]).mayReach(probe, db, 5432)).toBe(true);
  });

  it('matches ipBlocks by CIDR minus except, and never matches pods by selector for plain IPs', () => {
    const out = policy('out', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } }], ports: [{ port: 443 }] }],
    });
    const net = new NetworkEvaluator([out]);
    expect(net.mayReach(web, { ip: '203.0.113.1' }, 443)).toBe(true);
    expect(net.mayReach(web, { ip: '203.0.113.127' }, 443)).toBe(true);
    expect(net.mayReach(web, { ip: '203.0.113.128' }, 443)).toBe(false);
    expect(net.mayReach(web, { ip: '203.0.114.1' }, 443)).toBe(false);
    expect(net.mayReach(web, { ip: '203.0.113.1' }, 80)).toBe(false);
    expect(net.mayReach(web, db, 443)).toBe(false); // db has no IP in the block
    const anyPod = policy('pods', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {} }] }],
    });
    expect(new NetworkEvaluator([anyPod]).mayReach(web, { ip: '10.0.0.1' }, 443)).toBe(false);
    expect(new NetworkEvaluator([anyPod]).mayReach(web, probe, 443)).toBe(true);
  });

  it('resolves named ports on the destination pod and honours endPort', () => {
    const named = policy('named', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 'sql' }] }],
    });
    expect(new NetworkEvaluator([named]).mayReach(web, db, 5432)).toBe(true);
    expect(new NetworkEvaluator([named]).mayReach(web, db, 5433)).toBe(false);
    const namedOut = policy('named-out', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [{ ports: [{ port: 'sql' }] }],
    });
    expect(new NetworkEvaluator([namedOut]).mayReach(web, db, 5432)).toBe(true);
    expect(new NetworkEvaluator([namedOut]).mayReach(web, { ip: '192.0.2.1' }, 5432)).toBe(false);
    const range = policy('range', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ ports: [{ port: 32000, endPort: 32768, protocol: 'UDP' }] }],
    });
    expect(new NetworkEvaluator([range]).mayReach(web, { ip: '192.0.2.1' }, 32768, 'UDP')).toBe(true);
    expect(new NetworkEvaluator([range]).mayReach(web, { ip: '192.0.2.1' }, 32769, 'UDP')).toBe(false);
    expect(new NetworkEvaluator([range]).mayReach(web, { ip: '192.0.2.1' }, 32000, 'TCP')).toBe(false);
  });

  it('evaluates label selector expressions', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selects({}, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels)).toBe(
      true,
    );
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selects({ matchLabels: { app: 'web', tier: 'back' } }, labels)).toBe(false);
  });
});
