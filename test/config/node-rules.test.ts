import { poolCapacity } from '../../config/node-rules';
import { configIssues, configOf, copyEnvironments, edit, TARGETS } from '../helpers';

// the on-demand pool of production-us-east-1 (its spot pool follows under cluster.spot)
const PROD_POOL = '{ zones: [us-east-1a, us-east-1b, us-east-1c], perZone: 2, cpu: "8", memory: 16Gi, pods: 110,';

describe('cluster.nodes: the node pool synth checks pods against', () => {
  it.each(TARGETS)('is set for %s with 3 zones, and holds the quota with a zone drained', (target) => {
    const { cluster, quota } = configOf(target);
    expect(cluster.nodes?.zones.length).toBe(3);
    const left = poolCapacity(cluster.nodes!, 1);
    expect(left.pods).toBeGreaterThanOrEqual(quota.pods);
  });

  it('refuses a pod bigger than any node, naming file, line, service and the node size', () => {
    const dir = copyEnvironments();
    edit(dir, 'production.yaml', PROD_POOL, PROD_POOL.replace('cpu: "8"', 'cpu: "1"'));
    const issues = configIssues(dir).filter((i) => i.message.includes('cluster.nodes.cpu'));
    expect(issues.length).toBeGreaterThan(0);
    // execution-gateway asks for 2 CPUs (defaults.yaml); the us-east-1 pool now has 1-CPU nodes
    const big = issues.find((i) => i.path === 'services.execution-gateway.resources.requests.cpu')!;
    expect(big.file).toMatch(/defaults\.yaml$/);
    expect(big.line).toBeGreaterThan(0);
    expect(big.message).toMatch(
      /^a pod of "execution-gateway" requests 2 CPU, more than one node's allocatable "1" \(cluster\.nodes\.cpu\): it can never be scheduled; .*\(in target production-us-east-1\)$/,
    );
    expect(issues.some((i) => i.path === 'services.gateway.resources.requests.cpu')).toBe(false);
  });

  it('refuses a production pool of fewer than 3 zones, and one that cannot hold the quota with a zone drained', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'production.yaml',
      PROD_POOL,
      PROD_POOL.replace(
        'zones: [us-east-1a, us-east-1b, us-east-1c], perZone: 2',
        'zones: [us-east-1a, us-east-1b], perZone: 1',
      ),
    );
    const messages = configIssues(dir).map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message}`);
    expect(messages).toEqual([
      expect.stringMatching(
        /production\.yaml:\d+: regions\.us-east-1\.cluster\.nodes\.zones: has 2 zones; production spreads over three zones.*\(in target production-us-east-1\)$/,
      ),
      expect.stringMatching(
        /production\.yaml:\d+: regions\.us-east-1\.cluster\.nodes: with one of its 2 zones drained the pool's 1 nodes cannot hold what the quota admits: CPU 8 < quota\.requests\.cpu "32", memory 16Gi < quota\.requests\.memory "64Gi"; raise/,
      ),
    ]);
  });

  it('refuses zone spread over a single zone', () => {
    const dir = copyEnvironments();
    edit(dir, 'staging.yaml', /zones: \[us-east-1a, us-east-1b, us-east-1c\]/, 'zones: [us-east-1a]');
    const messages = configIssues(dir).map((i) => `${i.path}: ${i.message}`);
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^cluster\.nodes\.zones: has 1 zone but availability\.spread is "zones": pods cannot spread over zones/,
      ),
    );
  });
});
