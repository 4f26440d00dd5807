import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, formatIssue } from '../../config/errors';
import { ALERT } from '../../core/alert-names';
import { loadPlatform } from '../../config/load';
import { copyEnvironments, edit, runSynth, TARGETS, treeDigest } from '../helpers';

/** redis's monitoring block, the last of defaults.yaml, to its end. */
const REDIS_MONITORING = /    monitoring:\n      http: false\n(?!.*interval)[\s\S]*$/;

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
    const line =
      fs
        .readFileSync(path.join(dir, 'defaults.yaml'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('redis_rejected_connections_total')) + 1;
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(result.stderr).toContain(
      `defaults.yaml:${line}: services.redis.monitoring.alerts.custom[0].expr: custom alert "RedisRejectedConnections" of service "redis": PromQL syntax error: the expression ends too early`,
    );
    expect(result.stderr).toContain(`in targets ${[...TARGETS].sort().join(', ')}`);
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
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.redis\.monitoring\.alerts\.custom\[1\]\.alert: custom alert name "RedisRejectedConnections" is already used by custom\[0\]/,
        ),
      ]),
    );
  });

  // the names of the generated alerts are decided in core/alert-names.ts; a custom alert of the
  // same name would share its runbook URL and silences
  it("refuses a custom alert named like a generated one, at the alert's name", () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      REDIS_MONITORING,
      customAlert('increase(redis_rejected_connections_total[5m]) > 0').replace(
        'RedisRejectedConnections',
        ALERT.targetDown,
      ),
    );
    expect(issuesOf(dir)).toEqual([
      expect.stringMatching(
        /defaults\.yaml:\d+: services\.redis\.monitoring\.alerts\.custom\[0\]\.alert: custom alert name "TargetDown" is the name of an alert the platform generates for every service \(core\/alert-names\.ts\); give the custom alert its own name, e\.g\. "RedisTargetDown"/,
      ),
    ]);
  });

  it('fails on a p95 latency alert for a service without HTTP metrics', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      REDIS_MONITORING,
      '    monitoring:\n      http: false\n      alerts:\n        latencyP95Seconds: 0.01 # why: a cache lookup\n',
    );
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /services\.redis\.monitoring\.alerts\.latencyP95Seconds: service "redis" sets http: false, so there is no http_request_duration_seconds/,
        ),
      ]),
    );
  });

  it('fails on alerts for a service without a metrics port', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      '      - { name: redis, port: 6379 }\n      - { name: metrics, port: 9090 }',
      '      - { name: redis, port: 6379 }',
    );
    edit(
      dir,
      'defaults.yaml',
      REDIS_MONITORING,
      '    monitoring:\n      http: false\n      slo:\n        availability: 99.9 # why: the platform promise\n',
    );
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/services\.redis\.monitoring\.slo: service "redis" has no port named "metrics"/),
      ]),
    );
  });

  it('fails on a mean latency alert without the metrics to compute it', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      REDIS_MONITORING,
      '    monitoring:\n      http: false\n      alerts:\n        latencyMeanSeconds: 0.001 # why: a cache lookup\n',
    );
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.redis\.monitoring\.alerts\.latencyMeanSeconds: service "redis" has no monitoring\.metrics\.duration \{sum, count\}/,
        ),
      ]),
    );
  });
});

describe('standard alert thresholds (monitoring.thresholds)', () => {
  it('fails on a ratio above 1, naming file, path, value and what is allowed', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', /    memory:\n      ratio: 0\.8\n/, '    memory:\n      ratio: 80\n');
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: monitoring\.thresholds\.memory\.ratio: .*80.*(<= 1|at most 1|maximum 1).*/,
        ),
      ]),
    );
  });

  it('fails on a duration Prometheus does not accept', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', /    hpaAtMax:\n      for: 15m\n/, '    hpaAtMax:\n      for: 15m1h\n');
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: monitoring\.thresholds\.hpaAtMax\.for: "15m1h" is not a Prometheus duration: units must go from the largest to the smallest, each once \(e\.g\. "1h30m", not "30m1h"\)/,
        ),
      ]),
    );
    edit(dir, 'defaults.yaml', 'for: 15m1h', 'for: 15 minutes');
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: monitoring\.thresholds\.hpaAtMax\.for: .*"15 minutes".*duration such as "30s", "5m", "1h" or "1h30m"/,
        ),
      ]),
    );
  });

  it('fails on a warning ratio at or above the critical one', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'production.yaml',
      'monitoring:\n  targetDownSeverity: critical\n',
      'monitoring:\n  targetDownSeverity: critical\n  thresholds:\n    httpErrors: { warning: 0.05 } # why: a test\n',
    );
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /production\.yaml:\d+: monitoring\.thresholds\.httpErrors\.warning: the warning ratio \(0\.05\) must be below the critical ratio \(0\.05\)/,
        ),
      ]),
    );
  });

  it("fails on a service's warning or critical ratio that crosses the one it inherits", () => {
    const dir = copyEnvironments();
    const critical = loadPlatform(dir).find((t) => t.target === 'staging')!.monitoring.thresholds.httpErrors.critical;
    edit(
      dir,
      'defaults.yaml',
      '    monitoring:\n      alerts:\n        # inference',
      `    monitoring:\n      thresholds:\n        httpErrors: { warning: ${critical} } # why: a test\n      alerts:\n        # inference`,
    );
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `defaults\\.yaml:\\d+: services\\.ml-service\\.monitoring\\.thresholds\\.httpErrors\\.warning: the warning ratio \\(${critical}\\) of service "ml-service" must be below the critical ratio it inherits \\(${critical}, monitoring\\.thresholds\\.httpErrors\\.critical\\)`,
          ),
        ),
      ]),
    );
    edit(dir, 'defaults.yaml', `httpErrors: { warning: ${critical} }`, 'httpErrors: { critical: 0.0001 }');
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.ml-service\.monitoring\.thresholds\.httpErrors\.critical: the critical ratio \(0\.0001\) of service "ml-service" must be above the warning ratio it inherits/,
        ),
      ]),
    );
    // both set by the service, in order: valid whatever the environment's
    edit(
      dir,
      'defaults.yaml',
      'httpErrors: { critical: 0.0001 }',
      'httpErrors: { warning: 0.00005, critical: 0.0001 }',
    );
    expect(issuesOf(dir).filter((i) => i.includes('httpErrors'))).toEqual([]);
  });

  it('is overridable per environment and per service', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'production.yaml',
      'monitoring:\n  targetDownSeverity: critical\n',
      'monitoring:\n  targetDownSeverity: critical\n  thresholds:\n    memory: { ratio: 0.9 } # why: a test\n',
    );
    edit(
      dir,
      'defaults.yaml',
      '    monitoring:\n      alerts:\n        # inference',
      '    monitoring:\n      thresholds:\n        memory: { for: 30m, reason: models load in bursts }\n      alerts:\n        # inference',
    );
    const [east] = loadPlatform(dir).filter((t) => t.target === 'production-us-east-1');
    expect(east.monitoring.thresholds.memory).toMatchObject({ ratio: 0.9, for: '10m' });
    expect(east.services['ml-service'].monitoring?.thresholds?.memory).toEqual({
      for: '30m',
      reason: 'models load in bursts',
    });
  });
});

describe('sidecars', () => {
  const sidecar = /      - name: redis-exporter\n        image: docker\.io\/oliver006\/redis_exporter:v1\.62\.0\n/;

  it('fail when they serve a port the service does not declare', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', 'ports: [metrics]', 'ports: [metrix]');
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.redis\.sidecars\[0\]\.ports\[0\]: "metrix" is not a port of "redis"; a sidecar serves ports declared in the service's ports: redis \(6379\), metrics \(9090\)/,
        ),
      ]),
    );
  });

  it('fail when the image is not pinned', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      sidecar,
      '      - name: redis-exporter\n        image: docker.io/oliver006/redis_exporter:latest\n',
    );
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.redis\.sidecars\[0\]\.image: "docker\.io\/oliver006\/redis_exporter:latest" uses the moving tag "latest"/,
        ),
      ]),
    );
  });

  it('fail without probes from staging on, and with a limit above the LimitRange maximum', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      /        probes:\n          # ready when .*\n          readiness: \{ http: \{ path: \/health, port: metrics \}, periodSeconds: 10 \}\n          liveness: \{ tcp: \{ port: metrics \}, periodSeconds: 20 \}\n/,
      '',
    );
    edit(dir, 'defaults.yaml', 'limits: { cpu: 100m, memory: 64Mi,', 'limits: { cpu: "5", memory: 64Mi,');
    const issues = issuesOf(dir);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.redis\.sidecars\[0\]\.probes: sidecar "redis-exporter" of service "redis" has no readiness probe; staging requires readiness and liveness probes in every container \(in targets? [^)]*\bstaging\b/,
        ),
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.redis\.sidecars\[0\]\.resources\.limits\.cpu: sidecar "redis-exporter" of service "redis": limit "5" exceeds the LimitRange maximum per container "4" \(limitRange\.max\.cpu\)/,
        ),
      ]),
    );
    expect(issues.some((i) => /in target development/.test(i) && /probe/.test(i))).toBe(false);
  });

  it('of a Guaranteed-QoS service need requests equal to limits', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      '    qos: guaranteed\n',
      '    qos: guaranteed\n    sidecars:\n      - name: proxy\n        image: ghcr.io/trading-platform/proxy:1.0.0\n        resources:\n          requests: { cpu: 50m, memory: 32Mi }\n          limits: { cpu: 100m, memory: 32Mi }\n        probes:\n          readiness: { tcp: { port: 15000 } }\n          liveness: { tcp: { port: 15000 } }\n',
    );
    expect(issuesOf(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.execution-gateway\.sidecars\[0\]\.resources: sidecar "proxy" of service "execution-gateway": Guaranteed QoS needs requests equal to limits in every container of the pod/,
        ),
      ]),
    );
  });
});
