import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { synthesizeAll, SynthError } from '../../pipeline/synth';
import { configIssues, copyEnvironments, edit, runSynth, TARGETS, treeDigest } from '../helpers';

/**
 * Each bad edit must make `synth` exit non-zero with a message that names the file, the path,
 * the value and what is allowed, print no stack trace, and leave the output folder untouched.
 */
describe('synth refuses invalid configuration', () => {
  let out: string;
  let before: string;

  beforeAll(() => {
    // a real, previously synthesized output that a failed synth must not touch
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const ok = runSynth(['--config', copyEnvironments(), '--out', out, '--quiet']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    before = treeDigest(out);
  });

  /** The edited copy of environments/ with one edit. */
  function edited(file: string, search: string | RegExp, replacement: string): string {
    const dir = copyEnvironments();
    edit(dir, file, search, replacement);
    return dir;
  }

  /**
   * What synth reports for one bad edit, asked in this process (loading and synthesizing as the
   * command does): the command's own behaviour on a refusal (exit 1, no stack trace, nothing
   * written) is the first test's, and every refusal's in hostile-input.test.ts (npm run test:slow).
   */
  function refuse(file: string, search: string | RegExp, replacement: string): string {
    return refusalOf(edited(file, search, replacement));
  }

  function refusalOf(dir: string): string {
    try {
      synthesizeAll(loadPlatform(dir));
    } catch (error) {
      if (error instanceof ConfigError || error instanceof SynthError) return error.message;
      throw error;
    }
    throw new Error(`${dir} was accepted`);
  }

  it('as a command: exit 1, the message, no stack trace, and the output folder untouched', () => {
    const dir = edited('staging.yaml', /^namespace: trading-staging$/m, 'namspace: trading-staging');
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).toContain(refusalOf(dir));
    expect(treeDigest(out)).toBe(before);
  });

  it('fails on an unknown key and suggests the nearest valid one', () => {
    const message = refuse('staging.yaml', /^namespace: trading-staging$/m, 'namspace: trading-staging');
    expect(message).toMatch(/staging\.yaml:\d+: namspace: unknown key "namspace"; did you mean "namespace"\?/);
  });

  it('fails on a typo in a nested key', () => {
    const message = refuse('defaults.yaml', 'targetUtilization: 60', 'targetUtilisation: 60');
    expect(message).toMatch(/defaults\.yaml:\d+: services\.gateway\.autoscaling\.metrics\[0\]/);
    expect(message).toContain('"targetUtilisation"');
  });

  it('fails on negative replicas', () => {
    const message = refuse(
      'staging.yaml',
      /gateway:\n    replicas: \{ min: 2, max: 4 \}/,
      'gateway:\n    replicas: -1',
    );
    expect(message).toMatch(
      /staging\.yaml:\d+: services\.gateway\.replicas: -1 is not valid; expected a fixed number of replicas \(a whole number, 0 or more\)/,
    );
  });

  it('fails when minReplicas exceeds maxReplicas', () => {
    const message = refuse('production.yaml', 'replicas: { min: 2, max: 15 }', 'replicas: { min: 20, max: 15 }');
    expect(message).toMatch(
      /production\.yaml:\d+: services\.gateway\.replicas\.min: minReplicas \(20\) must be <= maxReplicas \(15\) for service "gateway"/,
    );
    expect(message).toContain('in targets production-eu-west-1, production-us-east-1');
  });

  it('fails on a dependency on an undeclared service', () => {
    const message = refuse(
      'defaults.yaml',
      '- { service: orchestrator, port: http }',
      '- { service: risk-engine, port: http }',
    );
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.gateway\.dependsOn\[2\]\.service: "gateway" depends on "risk-engine", which is not a declared service; (did you mean "[^"]+"\? )?declared: data-service/,
    );
  });

  it('fails on an image tagged latest', () => {
    const message = refuse('defaults.yaml', 'image: ghcr.io/trading-platform/ml-service:0.9.4', 'image: x:latest');
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.ml-service\.image: "x:latest" uses the moving tag "latest"; pin a version tag/,
    );
  });

  it('fails on an untagged image', () => {
    const message = refuse(
      'defaults.yaml',
      'image: ghcr.io/trading-platform/ml-service:0.9.4',
      'image: ghcr.io/trading-platform/ml-service',
    );
    expect(message).toContain('services.ml-service.image: "ghcr.io/trading-platform/ml-service" is not pinned');
  });

  it('fails on a malformed CPU quantity', () => {
    const message = refuse(
      'defaults.yaml',
      'requests: { cpu: 500m, memory: 2Gi }',
      'requests: { cpu: 2 cores, memory: 2Gi }',
    );
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.ml-service\.resources\.requests\.cpu: "2 cores" is not valid; did you mean "2"\? expected a CPU quantity such as "250m"/,
    );
  });

  it('fails on invalid YAML and names the line', () => {
    const message = refuse('staging.yaml', 'tier: staging', 'tier: [staging');
    expect(message).toMatch(/staging\.yaml:\d+: \(top level\): invalid YAML: /);
  });

  it('fails on an empty environment file', () => {
    const dir = copyEnvironments();
    fs.writeFileSync(path.join(dir, 'staging.yaml'), '');
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /staging\.yaml: \(top level\): is empty; an environment file must be a mapping and set at least `tier`/,
    );
    expect(treeDigest(out)).toBe(before);
  });

  it('fails on a duplicate key', () => {
    const message = refuse('staging.yaml', 'tier: staging', 'tier: staging\ntier: production');
    expect(message).toMatch(/staging\.yaml:\d+: .*invalid YAML: Map keys must be unique/);
  });

  it('fails on a value of the wrong enum and lists what is allowed', () => {
    const message = refuse('staging.yaml', 'tier: staging', 'tier: qa');
    expect(message).toMatch(
      /staging\.yaml:\d+: tier: "qa" is not allowed; allowed: "development", "staging", "production"/,
    );
  });

  it('fails on a service name that is not a DNS-1123 label', () => {
    const message = refuse('defaults.yaml', /^  redis:$/m, '  Redis_Cache:');
    expect(message).toContain('contains the invalid name "Redis_Cache"');
  });

  it('fails on duplicate ports in one service', () => {
    const message = refuse(
      'defaults.yaml',
      '- { name: metrics, port: 9090 }\n    replicas: 1\n    autoscaling:\n      metrics:\n        - { type: resource, resource: cpu, targetUtilization: 60 }',
      '- { name: metrics, port: 8080 }\n    replicas: 1\n    autoscaling:\n      metrics:\n        - { type: resource, resource: cpu, targetUtilization: 60 }',
    );
    expect(message).toMatch(/services\.gateway\.ports\[1\]\.port: port 8080 is already used by ports\[0\]/);
  });

  it('fails on a literal credential in env', () => {
    const message = refuse(
      'defaults.yaml',
      'LEADER_ELECTION_LEASE: orchestrator-leader',
      'LEADER_ELECTION_LEASE: orchestrator-leader\n      DB_PASSWORD: hunter2',
    );
    expect(message).toMatch(/services\.orchestrator\.env\.DB_PASSWORD: looks like a credential/);
    expect(message).not.toContain('hunter2');
  });

  it('reports every problem at once, not just the first', () => {
    const dir = copyEnvironments();
    edit(dir, 'staging.yaml', 'tier: staging', 'tier: qa');
    edit(dir, 'production.yaml', /^namespace: trading-prod$/m, 'namespaces: trading-prod');
    const refused = configIssues(dir);
    const files = refused.map((i) => path.basename(i.file)).sort();
    expect(files).toEqual(['production.yaml', 'staging.yaml']);
  });
});

/** The formatted issues loading a scratch copy of environments/ with one edit gives (file:line: path: message). */
function loadIssues(edits: Array<[string, string | RegExp, string]>): string {
  const dir = copyEnvironments();
  for (const [file, search, replacement] of edits) edit(dir, file, search, replacement);
  try {
    loadPlatform(dir);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}

describe('credential-like literals', () => {
  const lease = 'LEADER_ELECTION_LEASE: orchestrator-leader';

  it.each([
    ['JWT_SIGNING_KEY', 'hs256-abc'],
    ['SIGNING_KEY', 'abc'],
    ['PAGERDUTY_ROUTING_KEY', 'R0UT1NG'],
    ['ENCRYPTION_KEY', 'base64:abc'],
    ['HMAC_KEY', 'abc'],
    ['REDIS_PASS', 'hunter2'],
    ['DB_PASS', 'hunter2'],
    ['PG_PWD', 'hunter2'],
    ['POSTGRES_URL', 'postgres://trading:hunter2@db:5432/trading'],
    ['AMQP_URL', 'amqp://guest:guest@broker:5672'],
    ['REDIS_AUTH', 'hunter2'],
  ])('fails on a literal %s in env, naming file, path and fix', (name, value) => {
    const message = loadIssues([['defaults.yaml', lease, `${lease}\n      ${name}: "${value}"`]]);
    expect(message).toMatch(
      new RegExp(
        `defaults\\.yaml:\\d+: services\\.orchestrator\\.env\\.${name}: looks like a credential; .*Move it to secrets: \\[\\{env: ${name}, remoteKey: \\.\\.\\.\\}\\]`,
      ),
    );
    expect(message).not.toContain(value);
  });

  it("fails on a credential-like key of a service's config map", () => {
    const message = loadIssues([
      [
        'defaults.yaml',
        '      LEADER_ELECTION_LEASE: orchestrator-leader\n',
        '      LEADER_ELECTION_LEASE: orchestrator-leader\n    config:\n      SIGNING_KEY: abc\n      log-format: json\n',
      ],
    ]);
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.config\.SIGNING_KEY: looks like a credential; config entries are written to dist\/ in plain text \(the ConfigMap orchestrator-config\)\. Move it to secrets/,
    );
    expect(message).not.toContain('log-format');
  });

  it('passes harmless names, and connection URLs that carry no user or password', () => {
    expect(
      loadIssues([
        [
          'defaults.yaml',
          lease,
          [
            lease,
            'CACHE_KEY_PREFIX: md',
            'KEYSPACE: trading',
            'TLS_KEY_FILE: /etc/tls/tls.key',
            'AUTH_SERVICE_URL: http://auth:8080',
            'BYPASS_CACHE: "false"',
            'REDIS_URL: redis://redis:6379/0',
            'POSTGRES_URL: postgres://db:5432/trading',
          ].join('\n      '),
        ],
      ]),
    ).toBe('');
  });

  it('fails on a connection URL that is not a URL, since it may hold anything', () => {
    expect(loadIssues([['defaults.yaml', lease, `${lease}\n      POSTGRES_URL: host=db password=x`]])).toMatch(
      /services\.orchestrator\.env\.POSTGRES_URL: looks like a credential/,
    );
  });
});

describe('production availability cannot be switched off', () => {
  it('fails on spread none, with file, line, value and what is allowed', () => {
    const message = loadIssues([['production.yaml', 'spread: zones-and-nodes', 'spread: none']]);
    expect(message).toMatch(
      /production\.yaml:\d+: availability\.spread: "none" is not allowed in production: .*; allowed: "zones-and-nodes" \(in targets production-eu-west-1, production-us-east-1\)$/m,
    );
  });

  it('fails on a preStop delay of 0', () => {
    const message = loadIssues([['production.yaml', 'preStopSeconds: 15', 'preStopSeconds: 0']]);
    expect(message).toMatch(
      /production\.yaml:\d+: availability\.preStopSeconds: 0 is not allowed in production: .*; allowed: 1 or more seconds/,
    );
  });

  it('fails on maxUnavailable above 0, as a number or a percentage', () => {
    expect(loadIssues([['production.yaml', 'maxUnavailable: 0', 'maxUnavailable: 1']])).toMatch(
      /production\.yaml:\d+: availability\.maxUnavailable: 1 is not allowed in production: .*; allowed: 0/,
    );
    expect(loadIssues([['production.yaml', 'maxUnavailable: 0', 'maxUnavailable: "25%"']])).toMatch(
      /availability\.maxUnavailable: "25%" is not allowed in production/,
    );
  });

  it('fails on a grace period that ends before the preStop delay', () => {
    expect(
      loadIssues([['production.yaml', 'terminationGracePeriodSeconds: 60', 'terminationGracePeriodSeconds: 15']]),
    ).toMatch(
      /production\.yaml:\d+: availability\.terminationGracePeriodSeconds: 15 leaves no time to shut down after the preStop delay of 15s: the kubelet kills the container before it is sent SIGTERM; allowed: more than preStopSeconds/,
    );
  });

  it('fails in every tier on maxSurge 0 with maxUnavailable 0, which the API server refuses', () => {
    const found = loadIssues([['defaults.yaml', 'maxSurge: 1', 'maxSurge: 0']]);
    expect(found).toMatch(
      /defaults\.yaml:\d+: availability\.maxSurge: 0 with maxUnavailable 0 leaves a rolling update no room: it may neither add a pod nor remove one, and the API server refuses the Deployment; allowed: maxSurge 1 or more .* \(in targets development, staging\)$/,
    );
    // with room to remove a pod instead, outside production, it rolls
    expect(
      loadIssues([
        ['defaults.yaml', 'maxSurge: 1', 'maxSurge: 0'],
        ['defaults.yaml', 'maxUnavailable: 0', 'maxUnavailable: "25%"'],
      ]),
    ).not.toMatch(/maxSurge|in target (development|staging)\)/);
  });

  it("fails on a StatefulSet whose name leaves no room for its pods' revision-hash label (53 characters); 52 pass", () => {
    const renamed = (length: number) => {
      const name = `redis-${'x'.repeat(length - 'redis-'.length)}`;
      return loadIssues([
        ['defaults.yaml', /service: redis,/g, `service: ${name},`],
        ['defaults.yaml', /^  redis:$/m, `  ${name}:`],
        ['production.yaml', /^  redis:$/m, `  ${name}:`],
      ]);
    };
    expect(renamed(53)).toMatch(
      /defaults\.yaml:\d+: services\.redis-x+: a StatefulSet named "redis-x+" \(53 characters\) never creates a pod: its pods carry the label controller-revision-hash "<name>-<hash>", and a label value may have at most 63 characters; shorten the service name to at most 52 characters/,
    );
    expect(renamed(52)).not.toMatch(/never creates a pod/);
  });

  it('accepts no grace period where there is no preStop delay to outlast (outside production)', () => {
    expect(
      loadIssues([
        ['defaults.yaml', 'terminationGracePeriodSeconds: 45', 'terminationGracePeriodSeconds: 0'],
        ['defaults.yaml', 'preStopSeconds: 10', 'preStopSeconds: 0'],
      ]),
    ).not.toMatch(/in targets? (development|staging)/);
  });

  it('fails in every tier on a grace period that ends before the preStop delay', () => {
    expect(loadIssues([['defaults.yaml', 'preStopSeconds: 10', 'preStopSeconds: 50']])).toMatch(
      /defaults\.yaml:\d+: availability\.terminationGracePeriodSeconds: 45 leaves no time to shut down after the preStop delay of 50s: the kubelet kills the container before it is sent SIGTERM; allowed: more than preStopSeconds \(e\.g\. 80\) \(in targets development, staging\)$/,
    );
  });

  it('fails on a production service without a priority', () => {
    const message = loadIssues([['production.yaml', '  ml-service:\n    priority: high\n', '  ml-service:\n']]);
    expect(message).toMatch(
      /defaults\.yaml:\d+: services\.ml-service\.priority: is not set for service "ml-service": .*add "priority" under services\.ml-service in .*production\.yaml; allowed: "critical", "high"/,
    );
    expect(message.split('\n')).toHaveLength(1);
  });

  it('allows the same settings outside production', () => {
    expect(
      loadIssues([['staging.yaml', 'spread: zones', 'spread: none\n  preStopSeconds: 0\n  maxUnavailable: 1']]),
    ).toBe('');
  });
});

describe('the reference configuration', () => {
  it('loads into one target per environment file and region, sorted', () => {
    const targets = loadPlatform('environments').map((t) => t.target);
    expect(targets).toEqual([...TARGETS].sort());
    expect(targets).toEqual(
      expect.arrayContaining(['development', 'production-eu-west-1', 'production-us-east-1', 'staging']),
    );
  });

  it('merges region overrides over the environment over the defaults', () => {
    const [east] = loadPlatform('environments').filter((t) => t.target === 'production-us-east-1');
    expect(east.ingress.host).toBe('api.us.trading.example.com'); // region
    expect(east.ingress.className).toBe('nginx'); // defaults
    expect(east.namespace).toBe('trading-prod'); // environment
    expect(east.services.gateway.replicas).toEqual({ min: 2, max: 15 });
    expect(east.services.gateway.image).toBe('ghcr.io/trading-platform/gateway:1.8.2');
  });

  it('publishes an up-to-date schema for editors', () => {
    const { renderSchema } = jest.requireActual<typeof import('../../bin/schema')>('../../bin/schema');
    expect(fs.readFileSync('environments/schema.json', 'utf8')).toBe(renderSchema());
  });
});
