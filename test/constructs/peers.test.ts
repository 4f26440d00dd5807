import { ConfigError, formatIssue } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { find } from '../../core/manifest';
import { synthTarget } from '../../pipeline/synth';
import { configIssues, copyEnvironments, edit, manifestsOf } from '../helpers';

type Obj = Record<string, any>;

/**
 * `services.<name>.peers`: a StatefulSet whose replicas form a group (consensus, clustering) starts
 * them together and publishes them in DNS before they are ready; everything else keeps the
 * one-by-one start and ready-only DNS.
 */
describe('peers of a StatefulSet', () => {
  it('keeps the one-by-one start and ready-only DNS by default', () => {
    const manifests = manifestsOf('production-us-east-1');
    expect((find(manifests, 'StatefulSet', 'redis') as Obj).spec.podManagementPolicy).toBe('OrderedReady');
    expect((find(manifests, 'Service', 'redis') as Obj).spec.publishNotReadyAddresses).toBe(false);
  });

  it('starts a group together and lets its members find each other before they are ready', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      '    workload: statefulset\n',
      '    workload: statefulset\n    peers: { startTogether: true, discoverBeforeReady: true, port: redis }\n',
    );
    const config = loadPlatform(dir).find((c) => c.target === 'staging')!;
    const manifests = synthTarget(config);
    expect((find(manifests, 'StatefulSet', 'redis') as Obj).spec.podManagementPolicy).toBe('Parallel');
    expect((find(manifests, 'Service', 'redis') as Obj).spec).toMatchObject({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
    });
    // a Deployment's ClusterIP Service is untouched
    expect((find(manifests, 'Service', 'gateway') as Obj).spec.publishNotReadyAddresses).toBeUndefined();
    // members reach each other on the peer port, both ways, and on nothing else
    const policy = (find(manifests, 'NetworkPolicy', 'redis') as Obj).spec;
    const self = { podSelector: { matchLabels: policy.podSelector.matchLabels } };
    expect(policy.ingress.filter((r: Obj) => JSON.stringify(r.from) === JSON.stringify([self]))).toEqual([
      { from: [self], ports: [{ port: 6379, protocol: 'TCP' }] },
    ]);
    expect(policy.egress.filter((r: Obj) => JSON.stringify(r.to) === JSON.stringify([self]))).toEqual([
      { to: [self], ports: [{ port: 6379, protocol: 'TCP' }] },
    ]);
  });

  it('opens nothing between the replicas of a service without peers.port', () => {
    const policy = (find(manifestsOf('staging'), 'NetworkPolicy', 'redis') as Obj).spec;
    const own = JSON.stringify(policy.podSelector.matchLabels);
    const rules = [
      ...(policy.ingress ?? []).flatMap((r: Obj) => r.from ?? []),
      ...(policy.egress ?? []).flatMap((r: Obj) => r.to ?? []),
    ];
    expect(rules.filter((peer: Obj) => JSON.stringify(peer.podSelector?.matchLabels) === own)).toEqual([]);
  });

  it('fails when peers.port is not a port of the service', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      '    workload: statefulset\n',
      '    workload: statefulset\n    peers: { port: gossip }\n',
    );
    expect(() => loadPlatform(dir)).toThrow(ConfigError);
    try {
      loadPlatform(dir);
    } catch (e) {
      expect((e as ConfigError).issues.map(formatIssue).join('\n')).toMatch(
        /defaults\.yaml:\d+: services\.redis\.peers\.port: "gossip" is not a port of "redis"; its ports: redis \(6379\), metrics \(9090\)/,
      );
    }
  });

  it('fails when peers is set on a deployment', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      '    component: api-gateway\n',
      '    component: api-gateway\n    peers: { startTogether: true }\n',
    );
    const refused = configIssues(dir);
    const messages = refused.map(formatIssue).join('\n');
    expect(messages).toMatch(
      /defaults\.yaml:\d+: services\.gateway\.peers: peers describes how the replicas of a StatefulSet find each other; "gateway" is a deployment/,
    );
  });
});
