import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, formatIssue } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { copyEnvironments, edit, runSynth, treeDigest } from '../helpers';

const REDIS_MONITORING = /    monitoring:\n      http: false\n(?!.*interval)/;

function customAlert(expr: string): string {
  return [
    '    monitoring:',
    '      http: false',
    '      alerts:',
    '        custom:',
    '          - alert: RedisRejectedConnections',
    `            expr: ${JSON.stringify(expr)}`,
    '            for: 5m',
    '            severity: warning',
    '            summary: Redis rejects connections',
    '            description: Redis reached maxclients',
    '            reason: any rejected client is a failed request',
    '',
  ].join('\n');
}

function issuesOf(dir: string): string[] {
  try {
    loadPlatform(dir);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('monitoring configuration rules', () => {
  it('refuses a PromQL syntax error in an environment file at synth, naming file, line, service and alert, and writes nothing', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const ok = runSynth(['--config', copyEnvironments(), '--out', out, '--quiet']);
    expect(ok.status).toBe(0);
    const before = treeDigest(out);

    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', REDIS_MONITORING, customAlert('increase(redis_rejected_connections_total[5m] > 0'));
    const line = fs.readFileSync(path.join(dir, 'defaults.yaml'), 'utf8').split('\n').findIndex((l) => l.includes('redis_rejected_connections_total')) + 1;
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(result.stderr).toContain(`defaults.yaml:${line}: services.redis.monitoring.alerts.custom[0].expr: custom alert "RedisRejectedConnections" of service "redis": PromQL syntax error: the expression ends too early`);
    expect(result.stderr).toMatch(/in targets development, production-eu-west-1, production-us-east-1, staging/);
    expect(treeDigest(out)).toBe(before);
  });

  it('accepts a valid custom alert', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', REDIS_MONITORING, customAlert('increase(redis_rejected_connections_total[5m]) > 0'));
    expect(issuesOf(dir)).toEqual([]);
  });

  it('fails on a duplicate custom alert name', () => {
    const dir = copyEnvironments();
    const block = customAlert('up == 0');
    const second = block.split('\n').slice(4, 11).join('\n');
    edit(dir, 'defaults.yaml', REDIS_MONITORING, `${block}${second}\n`);
    expect(issuesOf(dir)).toEqual(expect.arrayContaining([
      expect.stringMatching(/defaults\.yaml:\d+: services\.redis\.monitoring\.alerts\.custom\[1\]\.alert: custom alert name "RedisRejectedConnections" is already used by custom\[0\]/),
    ]));
  });

  it('fails on a p95 latency alert for a service without HTTP metrics', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', REDIS_MONITORING, '    monitoring:\n      http: false\n      alerts:\n        latencyP95Seconds: 0.01\n');
    expect(issuesOf(dir)).toEqual(expect.arrayContaining([
      expect.stringMatching(/services\.redis\.monitoring\.alerts\.latencyP95Seconds: service "redis" sets http: false, so there is no http_request_duration_seconds/),
    ]));
  });

  it('fails on alerts for a service without a metrics port', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', '      - { name: redis, port: 6379 }\n      - { name: metrics, port: 9090 }', '      - { name: redis, port: 6379 }');
    edit(dir, 'defaults.yaml', REDIS_MONITORING, '    monitoring:\n      http: false\n      slo:\n        availability: 99.9\n');
    expect(issuesOf(dir)).toEqual(expect.arrayContaining([
      expect.stringMatching(/services\.redis\.monitoring\.slo: service "redis" has no port named "metrics"/),
    ]));
  });
});
