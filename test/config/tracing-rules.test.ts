import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseEndpoint } from '../../config/tracing-rules';
import { configIssues, copyEnvironments, edit, runSynth, treeDigest } from '../helpers';

/** The issues of environments/ with one edit, as `file:line: path: message`. */
function refused(file: string, search: string | RegExp, replacement: string): string[] {
  const dir = copyEnvironments();
  edit(dir, file, search, replacement);
  return configIssues(dir).map((i) => `${path.basename(i.file)}:${i.line ?? '?'}: ${i.path}: ${i.message}`);
}

const ENDPOINT = 'endpoint: otel-collector.observability:4317';

describe('tracing configuration errors', () => {
  it('refuses a sampling ratio above 1 or below 0, naming file, line and what is allowed', () => {
    expect(refused('production.yaml', 'samplingRatio: 0.05', 'samplingRatio: 5')).toEqual([
      expect.stringMatching(/^production\.yaml:\d+: tracing\.samplingRatio: .*5.*between 0 and 1/),
    ]);
    expect(refused('staging.yaml', 'samplingRatio: 1', 'samplingRatio: -0.1')).toEqual([
      expect.stringMatching(/^staging\.yaml:\d+: tracing\.samplingRatio: .*-0\.1.*between 0 and 1/),
    ]);
  });

  it("refuses a service's own ratio outside 0-1", () => {
    const messages = refused('defaults.yaml', '    tracing: { enabled: false }', '    tracing: { samplingRatio: 1.5 }');
    expect(messages).toEqual([
      expect.stringMatching(/^defaults\.yaml:\d+: services\.redis\.tracing\.samplingRatio: .*1\.5.*between 0 and 1/),
    ]);
  });

  it('refuses an endpoint that is neither host:port nor a URL', () => {
    const messages = refused('defaults.yaml', ENDPOINT, 'endpoint: "otel collector:4317"');
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^defaults\.yaml:\d+: tracing\.collector\.endpoint: "otel collector:4317" is not a host:port or a URL; write "<service>\.<namespace>:<port>" .* \(in targets production-eu-west-1, production-us-east-1, staging\)$/,
      ),
    );
    expect(refused('defaults.yaml', ENDPOINT, 'endpoint: ftp://otel-collector.observability:4317')).toContainEqual(
      expect.stringMatching(/tracing\.collector\.endpoint: .* has the scheme "ftp"; OTLP takes http or https/),
    );
    expect(refused('defaults.yaml', ENDPOINT, 'endpoint: "http://otel-collector.observability:99999"')).toContainEqual(
      expect.stringMatching(/tracing\.collector\.endpoint: .* is not a valid URL/),
    );
  });

  it('refuses a port that belongs to the other protocol, both ways', () => {
    expect(refused('defaults.yaml', ENDPOINT, 'endpoint: otel-collector.observability:4318')).toContainEqual(
      expect.stringMatching(
        /^defaults\.yaml:\d+: tracing\.collector\.endpoint: "otel-collector\.observability:4318" uses port 4318, the OTLP port of http\/protobuf, but tracing\.protocol is grpc \(port 4317\); .*Use port 4317 or set tracing\.protocol: http\/protobuf/,
      ),
    );
    expect(refused('defaults.yaml', 'protocol: grpc', 'protocol: http/protobuf')).toContainEqual(
      expect.stringMatching(
        /tracing\.collector\.endpoint: "otel-collector\.observability:4317" uses port 4317, the OTLP port of grpc, but tracing\.protocol is http\/protobuf/,
      ),
    );
  });

  it('refuses /v1/traces on an http/protobuf endpoint and any path on a gRPC one', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', 'protocol: grpc', 'protocol: http/protobuf');
    edit(dir, 'defaults.yaml', ENDPOINT, 'endpoint: http://otel-collector.observability:4318/v1/traces');
    expect(configIssues(dir).map((i) => i.message)).toContainEqual(
      expect.stringMatching(/ends in \/v1\/traces, which the SDKs append .* give the base URL without it/),
    );
    expect(
      refused('defaults.yaml', ENDPOINT, 'endpoint: http://otel-collector.observability:4317/otlp'),
    ).toContainEqual(expect.stringMatching(/has the path "\/otlp", which OTLP over gRPC has no use for/));
  });

  it('refuses a collector whose namespace is unknown', () => {
    expect(refused('defaults.yaml', ENDPOINT, 'endpoint: otel-collector:4317')).toContainEqual(
      expect.stringMatching(
        /^defaults\.yaml:\d+: tracing\.collector\.endpoint: "otel-collector:4317" names no namespace, so the collector's namespace is unknown .* e\.g\. "otel-collector\.observability:4317"/,
      ),
    );
  });

  it('refuses a host outside the cluster that is not a declared external peer', () => {
    expect(refused('defaults.yaml', ENDPOINT, 'endpoint: otlp.traces.example.com:4317')).toContainEqual(
      expect.stringMatching(
        /tracing\.collector\.endpoint: "otlp\.traces\.example\.com:4317" is not a Service in the cluster .* declare it under externals .* set tracing\.collector\.external/,
      ),
    );
  });

  it("refuses a collector in the target's own namespace", () => {
    expect(
      refused(
        'staging.yaml',
        'tracing:\n  enabled: true',
        `tracing:\n  enabled: true\n  collector:\n    ${'endpoint: otel-collector.trading-staging:4317'}`,
      ),
    ).toContainEqual(
      expect.stringMatching(
        /^staging\.yaml:\d+: tracing\.collector\.endpoint: "otel-collector\.trading-staging:4317" is in the target's own namespace "trading-staging".*point the endpoint at the collector in another namespace \(e\.g\. "otel-collector\.observability:4317"\)/,
      ),
    );
  });

  it('never suggests the namespace the target already has', () => {
    // staging's namespace set to what the message would suggest (<platform>-<environment>), the collector in it
    const dir = copyEnvironments();
    edit(dir, 'staging.yaml', /^namespace: trading-staging$/m, 'namespace: trading-platform-staging');
    edit(
      dir,
      'staging.yaml',
      'tracing:\n  enabled: true',
      'tracing:\n  enabled: true\n  collector:\n    endpoint: otel-collector.trading-platform-staging:4317',
    );
    const [problem, ...others] = configIssues(dir).map((i) => i.message);
    expect(others).toEqual([]);
    expect(problem).toContain('is in the target\'s own namespace "trading-platform-staging"');
    expect(problem).toContain('give the target another namespace (e.g. "trading-platform-staging-apps")');
  });

  it('refuses credentials in the endpoint', () => {
    // a password is the secret scan's, before any rule; a user alone is the endpoint's
    expect(
      refused('defaults.yaml', ENDPOINT, 'endpoint: http://tracer:hunter2hunter2@otel-collector.observability:4317'),
    ).toContainEqual(
      expect.stringMatching(/tracing\.collector\.endpoint: looks like a credential; a password in a URL/),
    );
    expect(
      refused('defaults.yaml', ENDPOINT, 'endpoint: http://tracer@otel-collector.observability:4317'),
    ).toContainEqual(expect.stringMatching(/carries user information; it would be written to dist\/ in plain text/));
  });

  it('refuses tracing enabled without a ratio or without a collector', () => {
    expect(refused('staging.yaml', '  samplingRatio: 1\n', '')).toEqual([
      expect.stringMatching(
        /^staging\.yaml:\d+: tracing\.enabled: tracing is enabled but has no samplingRatio; set tracing\.samplingRatio/,
      ),
    ]);
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      /  collector:\n    # the OpenTelemetry Collector.*\n    endpoint: .*\n    podSelector: .*\n/,
      '',
    );
    expect(configIssues(dir).map((i) => `${i.path}: ${i.message}`)).toContainEqual(
      expect.stringMatching(
        /^tracing\.enabled: tracing is enabled but names no collector; set tracing\.collector\.endpoint/,
      ),
    );
  });

  it('refuses a traced service that sets an OTEL_ variable itself, but not an untraced one', () => {
    expect(
      refused('defaults.yaml', '      LOG_LEVEL: info', '      LOG_LEVEL: info\n      OTEL_SERVICE_NAME: my-gateway'),
    ).toContainEqual(
      expect.stringMatching(
        /^defaults\.yaml:\d+: services\.[a-z-]+\.env\.OTEL_SERVICE_NAME: is written by tracing for every traced service/,
      ),
    );
  });

  it('leaves dist/ untouched and prints no stack trace', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const good = copyEnvironments();
    expect(runSynth(['--config', good, '--out', out, '--quiet', '--target', 'staging']).status).toBe(0);
    const before = treeDigest(out);
    edit(good, 'staging.yaml', 'samplingRatio: 1', 'samplingRatio: 2');
    const result = runSynth(['--config', good, '--out', out, '--target', 'staging']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/staging\.yaml:\d+: tracing\.samplingRatio/);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(treeDigest(out)).toBe(before);
  });
});

describe('parseEndpoint', () => {
  it.each([
    ['otel-collector.observability:4317', 'grpc', 'http', 'otel-collector.observability', 4317, ''],
    ['otel-collector.observability', 'grpc', 'http', 'otel-collector.observability', 4317, ''],
    ['otel-collector.observability', 'http/protobuf', 'http', 'otel-collector.observability', 4318, ''],
    ['https://otlp.example.com', 'grpc', 'https', 'otlp.example.com', 443, ''],
    [
      'http://otel.observability.svc.cluster.local:4318/otlp/',
      'http/protobuf',
      'http',
      'otel.observability.svc.cluster.local',
      4318,
      '/otlp',
    ],
  ] as const)('reads %s (%s)', (text, protocol, scheme, host, port, p) => {
    expect(parseEndpoint(text, protocol)).toEqual({ scheme, host, port, path: p });
  });
});
