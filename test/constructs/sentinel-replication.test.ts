import { Chart, Testing } from 'cdk8s';
import { formatIssue } from '../../config/errors';
import { SentinelReplication, SentinelReplicationProps } from '../../constructs/sentinel-replication';
import { loadPlatform } from '../../config/load';
import { TargetConfig } from '../../config/types';
import { find, Manifest, ofKind } from '../../core/manifest';
import { synthTarget } from '../../pipeline/synth';
import { configIssues, copyEnvironments, edit } from '../helpers';
import { NetworkEvaluator, podOf } from '../network-evaluator';

type Obj = Record<string, any>;

const TARGET = 'production-us-east-1';
const REDIS = '    workload: statefulset\n';

/** The reference platform with `extra` added to redis in defaults.yaml and `production` to production.yaml's services. */
function environmentsWith(redis: string, production = ''): string {
  const dir = copyEnvironments();
  if (redis) edit(dir, 'defaults.yaml', REDIS, `${REDIS}${redis}`);
  if (production)
    edit(dir, 'production.yaml', '  redis:\n    priority: high\n', `  redis:\n    priority: high\n${production}`);
  return dir;
}

/** Sentinel for redis in production only (replicas 3), as FlashMM does. */
const SENTINEL_IN_PRODUCTION = '    replicas: 3\n    replication: { mode: sentinel }\n';

let sentinel: { config: TargetConfig; manifests: Manifest[] };
beforeAll(() => {
  const config = loadPlatform(environmentsWith('', SENTINEL_IN_PRODUCTION)).find((c) => c.target === TARGET)!;
  sentinel = { config, manifests: synthTarget(config) };
});

const messages = (dir: string) => configIssues(dir).map(formatIssue).join('\n');

describe('Redis replication with Sentinel', () => {
  it('runs three pods, each a redis server and a Sentinel beside the exporter, one per zone (required)', () => {
    const set = find(sentinel.manifests, 'StatefulSet', 'redis') as Obj;
    expect(set.spec.replicas).toBe(3);
    const pod = set.spec.template.spec;
    expect(pod.containers.map((c: Obj) => c.name)).toEqual(['redis', 'sentinel', 'redis-exporter']);
    const zone = pod.topologySpreadConstraints.find((c: Obj) => c.topologyKey === 'topology.kubernetes.io/zone');
    expect(zone).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' });
    // three pods over the target's three zones with a skew of at most 1: exactly one per zone
    expect(sentinel.config.cluster.nodes!.zones).toHaveLength(3);
    // the same image (redis-cli and redis-sentinel are in it); Sentinel's port on the Sentinel container
    const [redis, sentinelContainer] = pod.containers;
    expect(sentinelContainer.image).toBe(redis.image);
    expect(sentinelContainer.ports).toEqual([{ name: 'sentinel', containerPort: 26379, protocol: 'TCP' }]);
    expect(redis.ports.map((p: Obj) => p.containerPort)).toEqual([6379]);
  });

  it('starts redis through the script, passing the configured redis-server command line on', () => {
    const redis = (find(sentinel.manifests, 'StatefulSet', 'redis') as Obj).spec.template.spec.containers[0];
    expect(redis.command).toEqual(['sh', '/opt/sentinel/start-redis.sh']);
    expect(redis.args.slice(0, 3)).toEqual(['redis-server', '--dir', '/data']);
    expect(redis.args).toContain('$(REDIS_PASSWORD)');
  });

  it('picks pod 0 as the first master and otherwise asks Sentinel, with a quorum of 2 (a majority of 3)', () => {
    const scripts = (find(sentinel.manifests, 'ConfigMap', 'redis-sentinel-scripts') as Obj).data;
    const domain = 'redis.trading-prod.svc.cluster.local';
    for (const script of [scripts['start-redis.sh'], scripts['start-sentinel.sh']]) {
      expect(script).toContain('sentinel get-master-addr-by-name redis');
      expect(script).toContain(`if [ -z "$master" ]; then master="redis-0.${domain}"; fi`);
      // the password only by reference to the container's env, never its value
      expect(script).toContain('auth="${REDIS_PASSWORD}"');
    }
    expect(scripts['start-redis.sh']).toContain('--replicaof "$master" 6379');
    expect(scripts['start-redis.sh']).toContain('--replica-announce-ip "$self"');
    expect(scripts['start-sentinel.sh']).toContain('sentinel monitor redis $master 6379 2\n');
    expect(scripts['start-sentinel.sh']).toContain('sentinel announce-hostnames yes');
    // both containers mount the scripts, the exporter does not
    const containers = (find(sentinel.manifests, 'StatefulSet', 'redis') as Obj).spec.template.spec.containers;
    const mountsScripts = (c: Obj) => c.volumeMounts.some((v: Obj) => v.name === 'scripts' && v.readOnly);
    expect(containers.map(mountsScripts)).toEqual([true, true, false]);
  });

  it('keeps a majority through any voluntary disruption: the PDB lets one of three go', () => {
    const pdb = find(sentinel.manifests, 'PodDisruptionBudget', 'redis') as Obj;
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(3 - pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(2);
    expect(pdb.spec.selector.matchLabels).toEqual(
      (find(sentinel.manifests, 'StatefulSet', 'redis') as Obj).spec.selector.matchLabels,
    );
  });

  it('announces pods by name through the headless Service, and gives clients a Sentinel Service of ready pods', () => {
    const headless = (find(sentinel.manifests, 'Service', 'redis') as Obj).spec;
    expect(headless).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const client = (find(sentinel.manifests, 'Service', 'redis-sentinel') as Obj).spec;
    expect(client.clusterIP).toBeUndefined();
    expect(client.publishNotReadyAddresses).toBeUndefined();
    expect(client.ports).toEqual([{ name: 'sentinel', port: 26379, protocol: 'TCP', targetPort: 'sentinel' }]);
    expect(client.selector).toEqual(headless.selector);
  });

  it("points every caller of redis at Sentinel: its address and the master set's name", () => {
    const callers = Object.values(sentinel.config.services).filter((s) =>
      (s.dependsOn ?? []).some((d) => 'service' in d && d.service === 'redis'),
    );
    expect(callers.map((s) => s.name).sort()).toEqual([
      'data-service',
      'execution-gateway',
      'ml-service',
      'orchestrator',
      'signal-service',
    ]);
    for (const caller of callers) {
      const workload = sentinel.manifests.find(
        (m) => ['Deployment', 'Rollout'].includes(m.kind) && m.metadata.name === caller.name,
      ) as Obj;
      const env = Object.fromEntries(
        workload.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]),
      );
      expect([caller.name, env.REDIS_SENTINEL_HOSTS, env.REDIS_SENTINEL_MASTER]).toEqual([
        caller.name,
        'redis-sentinel:26379',
        'redis',
      ]);
      // Sentinel asks for the same password as redis
      expect(env.REDIS_PASSWORD).toEqual({ secretKeyRef: { name: `${caller.name}-secrets`, key: 'REDIS_PASSWORD' } });
    }
  });

  it('admits exactly the Sentinel and replication flows in the NetworkPolicies', () => {
    const net = new NetworkEvaluator(sentinel.manifests);
    const redis = podOf(sentinel.manifests, 'redis');
    const callers = ['orchestrator', 'signal-service', 'data-service', 'ml-service', 'execution-gateway'];
    for (const caller of callers) {
      const from = podOf(sentinel.manifests, caller);
      expect([caller, net.mayReach(from, redis, 6379), net.mayReach(from, redis, 26379)]).toEqual([caller, true, true]);
      expect([caller, net.mayReach(from, redis, 9090)]).toEqual([caller, false]);
    }
    // the gateway does not call redis: neither port
    const gateway = podOf(sentinel.manifests, 'gateway');
    expect([net.mayReach(gateway, redis, 6379), net.mayReach(gateway, redis, 26379)]).toEqual([false, false]);
    // the set's pods replicate and vote among themselves, on those two ports only
    expect([6379, 26379, 9090].map((port) => net.mayReach(redis, redis, port))).toEqual([true, true, false]);
    // redis calls nobody else
    expect(net.mayReach(redis, podOf(sentinel.manifests, 'orchestrator'), 8080)).toBe(false);
  });

  it('alerts on a missing master, two masters, a lost quorum, a broken link and lag', () => {
    const rule = find(sentinel.manifests, 'PrometheusRule', 'redis') as Obj;
    const group = rule.spec.groups.find((g: Obj) => g.name === 'redis.replication');
    const byName = Object.fromEntries(group.rules.map((r: Obj) => [r.alert, r]));
    expect(Object.keys(byName).sort()).toEqual([
      'ReplicationLagHigh',
      'ReplicationLinkDown',
      'ReplicationMasterMissing',
      'ReplicationSplitBrain',
      'SentinelQuorumLost',
    ]);
    expect(byName.SentinelQuorumLost.expr).toContain('container="sentinel"');
    expect(byName.SentinelQuorumLost.expr).toMatch(/< 2$/);
    expect(byName.ReplicationMasterMissing.labels.severity).toBe('critical');
    // the single redis of staging has none of them
    const staging = loadPlatform(environmentsWith('', SENTINEL_IN_PRODUCTION)).find((c) => c.target === 'staging')!;
    const stagingRule = find(synthTarget(staging), 'PrometheusRule', 'redis') as Obj;
    expect(stagingRule.spec.groups.map((g: Obj) => g.name)).not.toContain('redis.replication');
  });

  it('leaves the reference platform as it was where no replication is configured', () => {
    const staging = loadPlatform(environmentsWith('', SENTINEL_IN_PRODUCTION)).find((c) => c.target === 'staging')!;
    const manifests = synthTarget(staging);
    expect((find(manifests, 'StatefulSet', 'redis') as Obj).spec.replicas).toBe(1);
    expect(ofKind(manifests, 'Service').map((s) => s.metadata.name)).not.toContain('redis-sentinel');
  });
});

describe('a managed cache standing in for redis', () => {
  const MANAGED_PEER =
    'externals:\n  redis-cache:\n    description: Managed Redis (ElastiCache)\n    cidrs: [10.40.11.0/24]\n    ports:\n      - { name: redis, port: 6379 }\n    externalName: trading-prod.cache.amazonaws.com\n';

  it('runs no redis in the cluster; callers get egress to the peer on its port, and its password', () => {
    const dir = environmentsWith('', '    replication: { mode: managed, external: redis-cache }\n');
    edit(dir, 'production.yaml', /^services:\n/m, `${MANAGED_PEER}services:\n`);
    const config = loadPlatform(dir).find((c) => c.target === TARGET)!;
    const manifests = synthTarget(config);
    expect(manifests.some((m) => m.kind === 'StatefulSet' && m.metadata.name === 'redis')).toBe(false);
    expect((find(manifests, 'Service', 'redis-cache') as Obj).spec).toMatchObject({
      type: 'ExternalName',
      externalName: 'trading-prod.cache.amazonaws.com',
    });
    const net = new NetworkEvaluator(manifests);
    const cache = { ip: '10.40.11.7' };
    for (const caller of ['orchestrator', 'data-service', 'execution-gateway']) {
      const from = podOf(manifests, caller);
      expect([caller, net.mayReach(from, cache, 6379), net.mayReach(from, cache, 443)]).toEqual([caller, true, false]);
      const env = (
        manifests.find((m) => ['Deployment', 'Rollout'].includes(m.kind) && m.metadata.name === caller) as Obj
      ).spec.template.spec.containers[0].env.map((e: Obj) => e.name);
      expect(env).toContain('REDIS_PASSWORD');
    }
    // other environments keep the in-cluster redis
    const staging = synthTarget(loadPlatform(dir).find((c) => c.target === 'staging')!);
    expect(staging.some((m) => m.kind === 'StatefulSet' && m.metadata.name === 'redis')).toBe(true);
  });

  it('fails when mode managed names no external peer, or one that is not declared', () => {
    expect(messages(environmentsWith('', '    replication: { mode: managed }\n'))).toMatch(
      /production\.yaml:\d+: services\.redis\.replication\.mode: mode "managed" needs external: the name of the peer under externals/,
    );
    expect(messages(environmentsWith('', '    replication: { mode: managed, external: memorystore }\n'))).toMatch(
      /production\.yaml:\d+: services\.redis\.replication\.external: "memorystore" is not declared under externals; allowed: "exchanges", "kubernetes-api", "market-data", "postgres"/,
    );
  });

  it('fails when the managed cache does not serve the port a caller uses', () => {
    const dir = environmentsWith('', '    replication: { mode: managed, external: redis-cache }\n');
    edit(
      dir,
      'production.yaml',
      /^services:\n/m,
      `${MANAGED_PEER.replace('port: 6379', 'port: 6380').replace('name: redis', 'name: tls')}services:\n`,
    );
    expect(messages(dir)).toMatch(
      /services\.orchestrator\.dependsOn\[\d\]: "orchestrator" calls "redis" on port "redis" \(6379\), which the external peer "redis-cache" that stands in for it does not serve; allowed: tls \(6380\)/,
    );
  });
});

describe('Sentinel configuration errors', () => {
  it('fails with fewer than 3 replicas', () => {
    expect(messages(environmentsWith('', '    replicas: 2\n    replication: { mode: sentinel }\n'))).toMatch(
      /production\.yaml:\d+: services\.redis\.replicas: 2: Sentinel replication needs at least 3 replicas, one per zone/,
    );
  });

  it('fails when the quorum is not a majority', () => {
    expect(messages(environmentsWith('', '    replicas: 3\n    replication: { mode: sentinel, quorum: 1 }\n'))).toMatch(
      /services\.redis\.replication\.quorum: 1 is not a majority of the 3 Sentinels: with fewer, two partitions can each elect a master; allowed: 2 to 3/,
    );
  });

  it('fails with more replicas than the target has zones (one pod per zone is required)', () => {
    expect(messages(environmentsWith('', '    replicas: 5\n    replication: { mode: sentinel }\n'))).toMatch(
      /services\.redis\.replicas: 5 Sentinel replicas need 5 zones, one pod per zone .* but cluster\.nodes\.zones lists 3 \(us-east-1a, us-east-1b, us-east-1c\)/,
    );
  });

  it('fails when an autoscaler would scale the set', () => {
    expect(
      messages(environmentsWith('', '    replicas: { min: 3, max: 5 }\n    replication: { mode: sentinel }\n')),
    ).toMatch(/services\.redis\.replicas: .*Sentinel replication needs a fixed number of replicas/);
  });

  it('fails on a Deployment, and without a data volume', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', REDIS, '    workload: deployment\n');
    edit(dir, 'defaults.yaml', /    storage:\n(      .*\n)+/, '');
    edit(
      dir,
      'production.yaml',
      '  redis:\n    priority: high\n',
      `  redis:\n    priority: high\n${SENTINEL_IN_PRODUCTION}`,
    );
    const text = messages(dir);
    expect(text).toMatch(/services\.redis\.workload: "deployment": Sentinel replication needs workload: statefulset/);
    expect(text).toMatch(/services\.redis\.storage: is missing: with Sentinel replication a replica writes/);
  });

  it('fails when a caller sets the env variables Sentinel replication gives it', () => {
    const dir = environmentsWith('', SENTINEL_IN_PRODUCTION);
    edit(
      dir,
      'defaults.yaml',
      /(  ml-service:\n(    .*\n)*?    env:\n)/,
      '$1      REDIS_SENTINEL_HOSTS: redis:26379\n',
    );
    expect(messages(dir)).toMatch(
      /services\.ml-service\.env\.REDIS_SENTINEL_HOSTS: is set by the Sentinel replication of "redis" \(callers get REDIS_SENTINEL_HOSTS and REDIS_SENTINEL_MASTER\); remove it/,
    );
  });

  it('fails when a caller addresses the set directly (the headless Service reaches replicas too)', () => {
    const dir = environmentsWith('', SENTINEL_IN_PRODUCTION);
    edit(dir, 'defaults.yaml', /(  ml-service:\n(    .*\n)*?    env:\n)/, '$1      CACHE_URL: redis://redis:6379/1\n');
    expect(messages(dir)).toMatch(
      /services\.ml-service\.env\.CACHE_URL: "redis:\/\/redis:6379\/1" addresses "redis" on 6379 directly; with Sentinel replication that reaches any of its pods, and replicas refuse writes: ask Sentinel \(REDIS_SENTINEL_HOSTS, REDIS_SENTINEL_MASTER\) and set CACHE_URL only in the environments without Sentinel/,
    );
  });

  it('fails when a sentinel-only key is given to a managed cache', () => {
    expect(
      messages(environmentsWith('', '    replication: { mode: managed, external: postgres, quorum: 2 }\n')),
    ).toMatch(/services\.redis\.replication\.quorum: quorum belongs to mode "sentinel"/);
  });
});

describe('SentinelReplication on a bare chart', () => {
  const props: SentinelReplicationProps = {
    name: 'cache',
    selector: { app: 'cache' },
    namespace: 'apps',
    headlessService: 'cache',
    clientService: 'cache-sentinel',
    replicas: 3,
    quorum: 2,
    masterName: 'main',
    dataPort: { name: 'redis', port: 6379 },
    sentinelPort: 26379,
  };
  const chart = () => new Chart(Testing.app(), 'test', { namespace: 'apps' });

  it('writes the scripts and the client Service, without authentication when no password env is given', () => {
    const c = chart();
    new SentinelReplication(c, 'sentinel', props);
    const manifests = Testing.synth(c) as Manifest[];
    const scripts = (find(manifests, 'ConfigMap', 'cache-sentinel-scripts') as Obj).data;
    expect(scripts['start-sentinel.sh']).toContain('sentinel monitor main $master 6379 2\n');
    expect(scripts['start-sentinel.sh']).toContain('auth=""');
    expect(scripts['start-redis.sh']).toContain('master="cache-0.cache.apps.svc.cluster.local"');
    expect((find(manifests, 'Service', 'cache-sentinel') as Obj).spec.selector).toEqual({ app: 'cache' });
  });

  it('refuses fewer than 3 replicas and a quorum that is not a majority', () => {
    expect(() => new SentinelReplication(chart(), 's', { ...props, replicas: 2 })).toThrow(
      'SentinelReplication "cache": replicas (2) must be at least 3',
    );
    expect(() => new SentinelReplication(chart(), 's', { ...props, replicas: 5, quorum: 2 })).toThrow(
      'SentinelReplication "cache": quorum (2) must be a majority of the 5 Sentinels: 3 to 5',
    );
  });
});
