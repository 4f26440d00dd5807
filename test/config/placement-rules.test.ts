import { loadPlatform } from '../../config/load';
import * as path from 'path';
import { configIssues, copyEnvironments, edit, ROOT } from '../helpers';

/** The refusals of a scratch copy of environments/ after the edits, as `file:line: path: message`. */
function refusals(...edits: Array<[string, string | RegExp, string]>): string[] {
  const dir = copyEnvironments();
  for (const [file, search, replacement] of edits) edit(dir, file, search, replacement);
  return configIssues(dir).map((i) => `${i.file.split('/').pop()}:${i.line ?? '?'}: ${i.path}: ${i.message}`);
}

const PROD = 'production.yaml';

describe('services.<name>.placement: spot', () => {
  it('is refused for a latency-critical service (Guaranteed QoS), at its line', () => {
    const issues = refusals([PROD, '  execution-gateway:\n', '  execution-gateway:\n    placement: spot\n']);
    expect(issues).toContainEqual(
      expect.stringMatching(
        /^production\.yaml:\d+: services\.execution-gateway\.placement: "spot" is not allowed: service "execution-gateway" is latency-critical \(cpuPinning: true, qos: guaranteed, an order latency alert \(p99 under 0\.0001s\)\): a spot node is reclaimed at two minutes' notice.*; allowed: "on-demand" \(in targets production-eu-west-1, production-us-east-1\)$/,
      ),
    );
    // nothing else
    expect(issues).toHaveLength(1);
  });

  it('is refused for a latency-critical service by qos alone, without pinning', () => {
    const issues = refusals(
      [PROD, '    cpuPinning: true\n', ''],
      [PROD, '  execution-gateway:\n', '  execution-gateway:\n    placement: spot\n'],
    );
    expect(issues[0]).toMatch(/is latency-critical \(qos: guaranteed, an order latency alert/);
  });

  it('is refused for a burstable service whose only sign of being latency-critical is an order latency alert', () => {
    // FlashMM's market maker: burstable, on the order path by its P95 order latency alert
    const dir = copyEnvironments(path.join(ROOT, 'examples', 'flashmm', 'environments'));
    edit(dir, 'defaults.yaml', /\n  flashmm:\n/, '\n  flashmm:\n    placement: spot\n');
    const issues = configIssues(dir).map((i) => `${i.file.split('/').pop()}:${i.line ?? '?'}: ${i.path}: ${i.message}`);
    expect(issues).toContainEqual(
      expect.stringMatching(
        /^defaults\.yaml:\d+: services\.flashmm\.placement: "spot" is not allowed: service "flashmm" is latency-critical \(an order latency alert \(p95 under 0\.05s\)\)/,
      ),
    );
  });

  it('is refused for a stateful service (a StatefulSet with its volume)', () => {
    const issues = refusals([PROD, '  redis:\n', '  redis:\n    placement: spot\n']);
    expect(issues).toContainEqual(
      expect.stringMatching(
        /^production\.yaml:\d+: services\.redis\.placement: "spot" is not allowed: service "redis" keeps state on a volume \(workload: statefulset\).*allowed: "on-demand"/,
      ),
    );
  });

  it('is accepted for a stateless, burstable service, in every environment (no spot pool: on-demand nodes)', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', /\n  gateway:\n/, '\n  gateway:\n    placement: spot\n');
    expect(loadPlatform(dir).filter((c) => c.services.gateway.placement === 'spot')).toHaveLength(4);
  });

  it('refuses a taint effect that would let any pod onto spot', () => {
    const issues = refusals([
      PROD,
      '      spot:\n        nodes: { zones: [us-east-1a',
      '      spot:\n        taint: { key: spot, value: "true", effect: PreferNoSchedule }\n        nodes: { zones: [us-east-1a',
    ]);
    expect(issues.join('\n')).toMatch(
      /regions\.us-east-1\.cluster\.spot\.taint\.effect: "PreferNoSchedule" is not allowed; allowed: "NoSchedule", "NoExecute"/,
    );
  });
});

describe('services.<name>.cpuPinning', () => {
  it('refuses a pinned service without Guaranteed QoS, naming why (requests = limits, whole CPUs)', () => {
    const issues = refusals([PROD, /(\n  gateway:\n)/, '$1    cpuPinning: true\n']);
    const gateway = issues.filter((i) => i.includes('services.gateway'));
    expect(gateway).toContainEqual(
      expect.stringMatching(
        /services\.gateway\.resources: Guaranteed QoS needs requests equal to limits .*\(cpuPinning: true needs Guaranteed QoS\)/,
      ),
    );
    expect(gateway).toContainEqual(
      expect.stringMatching(
        /services\.gateway\.resources\.limits\.cpu: Guaranteed QoS with exclusive cores needs whole CPUs; "500m" is fractional \(cpuPinning: true needs Guaranteed QoS\)/,
      ),
    );
  });

  it('refuses cpuPinning beside qos: burstable', () => {
    const issues = refusals([PROD, '    cpuPinning: true\n', '    cpuPinning: true\n    qos: burstable\n']);
    expect(issues).toContainEqual(
      expect.stringMatching(/services\.execution-gateway\.qos: "burstable" contradicts cpuPinning: true/),
    );
  });

  it('refuses a pool whose nodes do not carry the pinned selector: the pods could never be scheduled', () => {
    const issues = refusals([PROD, /, labels: \{ cpumanager: "true" \}/g, '']);
    expect(issues).toEqual([
      expect.stringMatching(
        /^production\.yaml:\d+: regions\.us-east-1\.cluster\.nodes\.labels: is not set: no node of the pool carries cpumanager=true \(cluster\.cpuPinning\.nodeSelector\), so the pinned pods of "execution-gateway" could never be scheduled; .*--cpu-manager-policy=static/,
      ),
      expect.stringMatching(/regions\.eu-west-1\.cluster\.nodes\.labels: is not set/),
    ]);
  });

  it('follows cluster.cpuPinning.nodeSelector when the environment names its own label', () => {
    const issues = refusals([
      PROD,
      'regions:\n',
      'cluster:\n  cpuPinning:\n    nodeSelector: { node.example.com/cpu-policy: static }\nregions:\n',
    ]);
    expect(issues[0]).toMatch(/no node of the pool carries node\.example\.com\/cpu-policy=static/);
  });

  it('refuses a VPA that would set fractional cores on a pinned service', () => {
    const issues = refusals([
      PROD,
      '    cpuPinning: true\n',
      '    cpuPinning: true\n    vpa: { updateMode: Initial }\n',
    ]);
    expect(issues).toContainEqual(
      expect.stringMatching(
        /services\.execution-gateway\.vpa: the VPA of the pinned service "execution-gateway" sets CPU \(updateMode Initial\)/,
      ),
    );
  });
});
