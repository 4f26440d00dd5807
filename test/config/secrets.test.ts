import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigIssue, formatIssue, show } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { renderProviderSchemaModule } from '../../bin/provider-schema';
import { synthesizeAll } from '../../pipeline/synth';
import { find } from '../../core/manifest';
import { configIssues, copyEnvironments, edit, ROOT, runSynth, SHARED, treeDigest } from '../helpers';

// literals that are secrets whatever the name they are given (test fixtures, not real credentials)
const AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const PEM =
  '-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEAx4Tn0tARealKey0nlyAFixture\\n-----END RSA PRIVATE KEY-----';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const GITHUB_TOKEN = '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';
const SLACK_WEBHOOK = 'https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/abcdefghijklmnopqrstuvwx';
const PASSWORD = 'Sup3rS3cretPw';
/** `admin:Sup3rS3cretPw` in base64, as an HTTP Basic Authorization header carries it. */
const BASIC = 'YWRtaW46U3VwM3JTM2NyZXRQdw==';
/** The shipped readiness probe of redis (environments/defaults.yaml), whose command the tests below change. */
const REDIS_READINESS = `readiness: { exec: { command: [sh, -c, 'test "$(REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping)" = PONG'] }, periodSeconds: 5, timeoutSeconds: 2 }`;

/** The issues of a scratch copy of environments/ after `edits`, each line also formatted as synth prints it. */
function refused(edits: Array<[file: string, search: string | RegExp, replacement: string]>): {
  issues: ConfigIssue[];
  text: string;
} {
  const dir = copyEnvironments();
  for (const [file, search, replacement] of edits) edit(dir, file, search, replacement);
  const issues = configIssues(dir);
  return { issues, text: issues.map(formatIssue).join('\n') };
}

const LEASE = 'LEADER_ELECTION_LEASE: orchestrator-leader';

describe('no secret literal in any field of the configuration', () => {
  it.each([
    ['an AWS access key id', AWS_KEY_ID, 'AKIA'],
    ['a PEM private key', PEM, 'BEGIN'],
    ['a JSON Web Token', JWT, 'eyJh'],
    ['a GitHub token', GITHUB_TOKEN, 'ghp_'],
    ['a Slack webhook URL', SLACK_WEBHOOK, 'hooks.slack'],
    ['a password in a URL', 'postgres://user:pw@db/x', 'pw@'],
    ['a password in a query string', 'postgresql://db/x?user=app&password=pw', 'password=pw'],
    ['a short auth query parameter', 'redis://default@x?auth=Hunter7pwQQ', 'Hunter7pwQQ'],
    ['a percent-encoded password in a URL', 'postgres://app%3Apw@db/x', 'app%3Apw'],
    ['a Google API key', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', 'AIzaSyDaGmWKa4JsXZ'],
    ["redis-server's --requirepass in a command line", `redis-server --requirepass ${PASSWORD}`, PASSWORD],
    ["curl's -u user:password in a command line", `curl -u admin:${PASSWORD} http://localhost:9090/`, PASSWORD],
    ['an Authorization header with a bearer token', `Authorization: Bearer ${PASSWORD}`, PASSWORD],
    ['basic credentials without the header name', `Basic ${BASIC}`, BASIC],
  ])(
    'refuses %s in env under a name that does not look like a credential, at its file and line',
    (_what, value, leak) => {
      const { issues, text } = refused([['defaults.yaml', LEASE, `${LEASE}\n      UPSTREAM: "${value}"`]]);
      const issue = issues.find((i) => i.path === 'services.orchestrator.env.UPSTREAM');
      expect(issue).toBeDefined();
      expect(issue!.file).toMatch(/defaults\.yaml$/);
      expect(issue!.line).toBeGreaterThan(0);
      expect(issue!.message).toMatch(
        /looks like a credential; .* would be written to dist\/ in plain text .*Move it to secrets: \[\{env: UPSTREAM, remoteKey: \.\.\.\}\]/,
      );
      // the message quotes a redacted excerpt, never the secret
      expect(text).not.toContain(value.replace(/\\n/g, '\n'));
      if (leak !== 'AKIA' && leak !== 'ghp_' && leak !== 'eyJh') expect(text).not.toContain(leak);
    },
  );

  it.each<[string, Array<[string, string | RegExp, string]>, RegExp]>([
    [
      'a config: value',
      [
        [
          'defaults.yaml',
          LEASE,
          `${LEASE}\n    config:\n      upstream.url: "https://app:${PASSWORD}@upstream.example.com/x"`,
        ],
      ],
      /services\.orchestrator\.config\.upstream\.url: .*config: entries are written to dist\/ \(a ConfigMap\)/i,
    ],
    [
      'args',
      [['defaults.yaml', LEASE, `${LEASE}\n    args: ["--token=${GITHUB_TOKEN}"]`]],
      /services\.orchestrator\.args\[0\]: .*write \$\(NAME\) in the argument/,
    ],
    [
      'args as a credential flag and its value',
      [['defaults.yaml', LEASE, `${LEASE}\n    args: ["--db-password", "${PASSWORD}"]`]],
      /services\.orchestrator\.args\[1\]: looks like a credential; a credential given as the value of "--db-password" .*write \$\(NAME\) in the argument/,
    ],
    [
      'a credential flag and its value in an exec probe command',
      [
        [
          'defaults.yaml',
          'liveness: { tcp: { port: metrics }, periodSeconds: 20 }',
          `liveness: { exec: { command: [redis-cli, "--pass", "${PASSWORD}", ping] }, periodSeconds: 20 }`,
        ],
      ],
      /services\.redis\.sidecars\[0\]\.probes\.liveness\.exec\.command\[2\]: .*"--pass"/,
    ],
    [
      "redis's --requirepass flag and its value",
      [['defaults.yaml', '--requirepass, $(REDIS_PASSWORD)]', `--requirepass, "${PASSWORD}"]`]],
      /services\.redis\.args\[7\]: looks like a credential; a credential given as the value of "--requirepass" .*write \$\(NAME\) in the argument/,
    ],
    [
      "redis's --masterauth flag and its value",
      [
        [
          'defaults.yaml',
          '--requirepass, $(REDIS_PASSWORD)]',
          `--requirepass, $(REDIS_PASSWORD), --masterauth, "${PASSWORD}"]`,
        ],
      ],
      /services\.redis\.args\[9\]: looks like a credential; a credential given as the value of "--masterauth" /,
    ],
    [
      'a requirepass= assignment in args',
      [['defaults.yaml', LEASE, `${LEASE}\n    args: ["--requirepass=${PASSWORD}"]`]],
      /services\.orchestrator\.args\[0\]: looks like a credential; a credential given as "--requirepass=" .*write \$\(NAME\) in the argument/,
    ],
    [
      'a requirepass line of a redis.conf in config:',
      [
        [
          'defaults.yaml',
          LEASE,
          `${LEASE}\n    config:\n      redis.conf: "bind 0.0.0.0\\nrequirepass ${PASSWORD}\\n"`,
        ],
      ],
      /services\.orchestrator\.config\.redis\.conf: looks like a credential; a credential given as the value of "requirepass" .*config: entries are written to dist\/ \(a ConfigMap\)/i,
    ],
    [
      "curl's -u user:password in an exec readiness probe's shell command",
      [
        [
          'defaults.yaml',
          REDIS_READINESS,
          `readiness: { exec: { command: [sh, -c, "redis-cli ping && curl -u admin:${PASSWORD} http://localhost:9090/"] }, periodSeconds: 5 }`,
        ],
      ],
      /services\.redis\.probes\.readiness\.exec\.command\[2\]: looks like a credential; a password given with "-u" \(user:password\) .*let a shell read it: \[sh, -c, '\.\.\. "\$NAME" \.\.\.'\] \(\$\(NAME\) is not expanded in a probe\)/,
    ],
    [
      "curl's -u and a user:password as the next item",
      [['defaults.yaml', LEASE, `${LEASE}\n    args: [curl, "-u", "admin:${PASSWORD}", "http://localhost:9090/"]`]],
      /services\.orchestrator\.args\[2\]: looks like a credential; a password given as the value of "-u" \(user:password\) .*write \$\(NAME\) in the argument/,
    ],
    [
      "curl's --user and a user:password as the next item",
      [['defaults.yaml', LEASE, `${LEASE}\n    args: ["--user", "admin:${PASSWORD}"]`]],
      /services\.orchestrator\.args\[1\]: looks like a credential; a password given as the value of "--user"/,
    ],
    [
      'an Authorization header with a bearer token in args',
      [['defaults.yaml', LEASE, `${LEASE}\n    args: ["--header", "Authorization: Bearer ${PASSWORD}"]`]],
      /services\.orchestrator\.args\[1\]: looks like a credential; a credential in an HTTP Authorization header would be written to dist\/ in plain text \("…ization: Bearer \*\*\*\*"\)\. .*write \$\(NAME\) in the argument/,
    ],
    [
      'an Authorization header with basic credentials in args',
      [['defaults.yaml', LEASE, `${LEASE}\n    args: ["-H", "Authorization: Basic ${BASIC}"]`]],
      /services\.orchestrator\.args\[1\]: looks like a credential; a credential in an HTTP Authorization header would be written to dist\/ in plain text \("…rization: Basic \*\*\*\*"\)/,
    ],
    [
      'command',
      [['defaults.yaml', LEASE, `${LEASE}\n    command: [/app, "--db=postgres://app:${PASSWORD}@db/trading"]`]],
      /services\.orchestrator\.command\[1\]: .*write \$\(NAME\) in the argument/,
    ],
    [
      'an exec probe command',
      [
        [
          'defaults.yaml',
          'liveness: { tcp: { port: metrics }, periodSeconds: 20 }',
          `liveness: { exec: { command: [redis-cli, "-u", "redis://default:${PASSWORD}@localhost:6379", ping] }, periodSeconds: 20 }`,
        ],
      ],
      /services\.redis\.sidecars\[0\]\.probes\.liveness\.exec\.command\[2\]: .*\$\(NAME\)/,
    ],
    [
      'sidecar env',
      [
        [
          'defaults.yaml',
          'REDIS_ADDR: redis://localhost:6379',
          `REDIS_ADDR: redis://localhost:6379\n          UPSTREAM: "${JWT}"`,
        ],
      ],
      /services\.redis\.sidecars\[0\]\.env\.UPSTREAM: .*Move it to secrets: \[\{env: UPSTREAM/,
    ],
    [
      'sidecar args',
      [
        [
          'defaults.yaml',
          'args: [--web.listen-address=:9090]',
          `args: [--web.listen-address=:9090, "--redis.password=${PASSWORD}"]`,
        ],
      ],
      /services\.redis\.sidecars\[0\]\.args\[1\]: /,
    ],
    [
      'an alert threshold reason',
      [['defaults.yaml', 'reason: 2m rides out a pod restart', `reason: ${AWS_KEY_ID} 2m rides out a pod restart`]],
      /monitoring\.thresholds\..*\.reason: /,
    ],
    [
      'monitoring.prometheusUrl',
      [
        [
          'defaults.yaml',
          'prometheusUrl: http://prometheus-operated.monitoring.svc:9090',
          `prometheusUrl: http://admin:${PASSWORD}@prometheus-operated.monitoring.svc:9090`,
        ],
      ],
      /monitoring\.prometheusUrl: .*a password in a URL .*take the credential out of the URL/i,
    ],
    [
      'monitoring.runbookUrlPattern',
      [
        [
          'defaults.yaml',
          'runbookUrlPattern: https://runbooks.trading.example.com/alerts/{alert}',
          `runbookUrlPattern: https://runbooks.trading.example.com/alerts/{alert}?access_token=${PASSWORD}`,
        ],
      ],
      /monitoring\.runbookUrlPattern: .*"access_token="/,
    ],
    [
      "an external peer's externalName",
      [['defaults.yaml', 'externalName: postgres.dev.trading.example.com', `externalName: ${GITHUB_TOKEN}`]],
      /externals\.postgres\.externalName: .*a GitHub token/,
    ],
    [
      'delivery.repoURL with user:password',
      [
        [
          'staging.yaml',
          'repoURL: https://github.com/trading-platform/platform-manifests.git',
          `repoURL: https://deploy:${PASSWORD}@github.com/trading-platform/platform-manifests.git`,
        ],
      ],
      /delivery\.repoURL: .*Argo CD reads repository and cluster credentials from its own Secrets/,
    ],
    [
      'delivery.repoURL with a token as the user',
      [
        [
          'staging.yaml',
          'repoURL: https://github.com/trading-platform/platform-manifests.git',
          `repoURL: https://${GITHUB_TOKEN}@github.com/trading-platform/platform-manifests.git`,
        ],
      ],
      /delivery\.repoURL: .*Argo CD reads/,
    ],
    [
      'delivery.server with a token parameter',
      [
        [
          'staging.yaml',
          'server: https://staging.k8s.trading.example.com',
          `server: https://staging.k8s.trading.example.com?token=${PASSWORD}`,
        ],
      ],
      /delivery\.server: .*Argo CD reads/,
    ],
    [
      "a region's delivery.server with user:password",
      [
        [
          'production.yaml',
          'server: https://prod-us-east-1.k8s.trading.example.com',
          `server: https://admin:${PASSWORD}@prod-us-east-1.k8s.trading.example.com`,
        ],
      ],
      /production\.yaml:\d+: regions\.us-east-1\.delivery\.server: .*Argo CD reads/,
    ],
    [
      'a literal in secretStore.provider',
      [['staging.yaml', /region: us-east-1\n/, `region: us-east-1\n      externalID: "${JWT}"\n`]],
      /secretStore\.provider\.aws\.externalID: .*secretRef fields/,
    ],
  ])('refuses a secret in %s, naming the file, line, path and the field to use instead', (_what, edits, expected) => {
    const { issues, text } = refused(edits);
    expect(text).toMatch(expected);
    const issue = issues.find((i) => expected.test(formatIssue(i)))!;
    expect(issue.line).toBeGreaterThan(0);
    for (const secret of [PASSWORD, BASIC, GITHUB_TOKEN, JWT, AWS_KEY_ID]) expect(text).not.toContain(secret);
  });

  it('accepts URLs without credentials, a variable reference as the password, and secretKeyRef names', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      LEASE,
      `${LEASE}\n      UPSTREAM_URL: "postgres://app:$(DB_PASSWORD)@db:5432/trading"\n      PROM: http://prometheus-operated.monitoring.svc:9090/api/v1/query?query=up\n      STORE_REF: gateway-secrets\n      IMAGE: ghcr.io/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n    args: ["--db-password", "$(DB_PASSWORD)"]`,
    );
    expect(() => loadPlatform(dir)).not.toThrow();
  });

  it('accepts variables after Redis password flags, curl -u and Bearer, user ids, users without a password and user:group', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      LEASE,
      `${LEASE}\n      AUTH_HEADER: "Authorization: Bearer $(API_TOKEN)"\n      RUN_AS: "chpst -u app:app --user=nobody"\n    args: ["--masterauth", "$(DB_PASSWORD)", "--requirepass=$(DB_PASSWORD)", "-u", "$(API_USER):$(API_PASSWORD)", "-u", "1000", "--user", "nobody", "--header", "Authorization: Bearer \${API_TOKEN}"]`,
    );
    edit(
      dir,
      'defaults.yaml',
      REDIS_READINESS,
      `readiness: { exec: { command: [sh, -c, 'test "$(id -u)" != 0 && redis-cli -a "$REDIS_PASSWORD" ping && curl -fsS -u "admin:$API_PASSWORD" http://localhost:9090/'] }, periodSeconds: 5 }`,
    );
    expect(() => loadPlatform(dir)).not.toThrow();
  });
});

describe('secretStore.provider follows the External Secrets CRD', () => {
  const provider = (block: string) =>
    ['staging.yaml', /  provider:\n    aws:\n[\s\S]*?\n(?=\S)/, `  provider:\n${block}\n`] as [string, RegExp, string];

  it('writes the fields as Kubernetes spells them (externalID, accessKeyIDSecretRef), which were dropped before', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      ...provider(
        [
          '    aws:',
          '      service: SecretsManager',
          '      region: us-east-1',
          '      externalID: trading-staging',
          '      auth:',
          '        secretRef:',
          '          accessKeyIDSecretRef: { name: aws-credentials, key: access-key-id, namespace: external-secrets }',
          '          secretAccessKeySecretRef: { name: aws-credentials, key: secret-access-key, namespace: external-secrets }',
        ].join('\n'),
      ),
    );
    const configs = loadPlatform(dir).filter((c) => c.target === 'staging');
    const outputs = synthesizeAll(configs);
    const store = find(outputs[0].manifests, 'ClusterSecretStore', 'aws-secrets-manager') as any;
    expect(store.spec.provider.aws.externalID).toBe('trading-staging');
    expect(store.spec.provider.aws.auth.secretRef.accessKeyIDSecretRef).toEqual({
      key: 'access-key-id',
      name: 'aws-credentials',
      namespace: 'external-secrets',
    });
    expect(store.spec.provider.aws.auth.secretRef.secretAccessKeySecretRef.name).toBe('aws-credentials');
  });

  it.each([
    ['externalId', 'externalID'],
    ['regoin', 'region'],
  ])('refuses the unknown key %s with the nearest valid key', (wrong, right) => {
    const { text } = refused([
      provider(`    aws:\n      service: SecretsManager\n      region: us-east-1\n      ${wrong}: x`),
    ]);
    expect(text).toMatch(
      new RegExp(
        `staging\\.yaml:\\d+: secretStore\\.provider\\.aws\\.${wrong}: unknown key "${wrong}"; did you mean "${right}"\\?`,
      ),
    );
  });

  it('refuses a camelCase key the generated converter knew (accessKeyIdSecretRef) with the CRD spelling', () => {
    const { text } = refused([
      provider(
        '    aws:\n      service: SecretsManager\n      region: us-east-1\n      auth:\n        secretRef:\n          accessKeyIdSecretRef: { name: a, key: b }',
      ),
    ]);
    expect(text).toMatch(
      /secretStore\.provider\.aws\.auth\.secretRef\.accessKeyIdSecretRef: unknown key "accessKeyIdSecretRef"; did you mean "accessKeyIDSecretRef"\?/,
    );
  });

  it("refuses a wrong type and a value outside the CRD's enum", () => {
    const { text } = refused([provider('    aws:\n      service: KeyVault\n      region: 42')]);
    expect(text).toMatch(
      /secretStore\.provider\.aws\.service: "KeyVault" is not allowed; allowed: "SecretsManager", "ParameterStore"/,
    );
    expect(text).toMatch(/secretStore\.provider\.aws\.region: 42 has the wrong type: expected string/);
  });

  it('refuses two providers in one store', () => {
    const { text } = refused([
      provider('    aws:\n      service: SecretsManager\n      region: us-east-1\n    gcpsm:\n      projectID: x'),
    ]);
    expect(text).toMatch(/secretStore\.provider: .* is not valid: must NOT have more than 1 properties/);
  });

  it("refuses the fake provider's data: the secret values themselves", () => {
    const { text } = refused([provider('    fake:\n      data:\n        - { key: db-password, value: hunter2 }')]);
    expect(text).toMatch(
      /secretStore\.provider\.fake\.data\[0\]\.value: the fake provider keeps the secret values in the ClusterSecretStore itself/,
    );
    expect(text).not.toContain('hunter2');
  });

  it('refuses a webhook header that carries a literal credential, and accepts one from a secretRef template', () => {
    const webhook = (auth: string) =>
      provider(
        [
          '    webhook:',
          '      url: https://secrets.example.com/{{ .remoteRef.key }}',
          '      result: { jsonPath: $.value }',
          `      headers: { Authorization: "${auth}", Content-Type: application/json }`,
          '      secrets:',
          '        - name: auth',
          '          secretRef: { name: webhook-credentials, namespace: external-secrets }',
        ].join('\n'),
      );
    // a token is found by the scan of every string, at the header's line, with the same fix
    const { text } = refused([webhook(`Bearer ${PASSWORD}`)]);
    expect(text).toMatch(
      /staging\.yaml:\d+: secretStore\.provider\.webhook\.headers\.Authorization: looks like a credential; a bearer token \("Bearer …"\) .*\{\{ \.auth\.token \}\}/,
    );
    expect(text).not.toContain(PASSWORD);
    // a credential the scan cannot tell from a word is refused for the header's name
    const short = refused([webhook('Bearer hunter2')]).text;
    expect(short).toMatch(
      /secretStore\.provider\.webhook\.headers\.Authorization: header "Authorization" carries a credential .*\{\{ \.auth\.token \}\}/,
    );
    expect(short).not.toContain('hunter2');
    const dir = copyEnvironments();
    edit(dir, ...webhook('Bearer {{ .auth.token }}'));
    expect(() => loadPlatform(dir)).not.toThrow();
  });

  it('is validated with the schema of ../shared/k8s/crds (imports/clustersecretstore-provider-schema.ts is current)', () => {
    const crd = fs.readFileSync(
      path.join(SHARED, 'k8s', 'crds', 'external-secrets.io_clustersecretstores.yaml'),
      'utf8',
    );
    const committed = fs.readFileSync(path.join(ROOT, 'imports', 'clustersecretstore-provider-schema.ts'), 'utf8');
    expect(committed).toBe(renderProviderSchemaModule(crd));
  });
});

describe('error messages quote short, redacted excerpts', () => {
  it('shows a string as a bounded excerpt with secrets masked', () => {
    expect(show(`https://deploy:${PASSWORD}@git.example.com/x.git`)).toBe(
      '"https://deploy:****@git.example.com/x.git"',
    );
    expect(show(`${'x'.repeat(200)}`).length).toBeLessThanOrEqual(70);
    expect(show(GITHUB_TOKEN)).toBe('"ghp_…"');
  });

  it('shows an object as short compact JSON, never the whole object or a secret in it', () => {
    const value = { url: `postgres://app:${PASSWORD}@db/x`, [GITHUB_TOKEN]: 'x', long: 'y'.repeat(500) };
    const text = show(value);
    expect(text.length).toBeLessThanOrEqual(80);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(GITHUB_TOKEN);
  });

  it('does not echo a token inside a URL that fails the schema', () => {
    const { text } = refused([
      [
        'defaults.yaml',
        'prometheusUrl: http://prometheus-operated.monitoring.svc:9090',
        `prometheusUrl: "ftp://admin:${PASSWORD}@prometheus?access_token=${GITHUB_TOKEN}"`,
      ],
    ]);
    expect(text).toMatch(
      /monitoring\.prometheusUrl: "ftp:\/\/admin:\*\*\*\*@prometheus\?access_token=\*\*\*\*" is not valid/,
    );
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(GITHUB_TOKEN);
  });

  it('does not echo the contents of a file that is not a mapping', () => {
    const dir = copyEnvironments();
    // what a symlink to /proc/self/environ reads as: one long scalar of NAME=value pairs
    const environ = [
      'PATH=/usr/bin',
      'HOME=/root',
      `GITHUB_TOKEN=${GITHUB_TOKEN}`,
      `DB_PASSWORD=${PASSWORD}`,
      `AWS_SECRET=${'z'.repeat(40)}`,
    ].join(' ');
    fs.writeFileSync(path.join(dir, 'staging.yaml'), `"${environ}"\n`);
    const text = configIssues(dir).map(formatIssue).join('\n');
    expect(text).toMatch(/staging\.yaml:1: \(top level\): must be a YAML mapping/);
    expect(text).not.toContain(GITHUB_TOKEN);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('HOME=/root');
  });
});

describe('synth refuses a secret in the configuration end to end', () => {
  it('exits 1 naming file, line and path, prints no secret and writes nothing', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const before = treeDigest(out);
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', LEASE, `${LEASE}\n      UPSTREAM: "postgresql://db/x?user=app&password=${PASSWORD}"`);
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.env\.UPSTREAM: looks like a credential; a credential given as "password=" would be written to dist\/ in plain text \(".*password=\*\*\*\*"\)/,
    );
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).not.toContain(PASSWORD);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(treeDigest(out)).toBe(before);
  });
});
