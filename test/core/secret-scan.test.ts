import * as fs from 'fs';
import * as path from 'path';
import { load } from 'js-yaml';
import {
  excerpt,
  findSecrets,
  flagValueFindings,
  maskSecrets,
  scanStrings,
  scanValues,
  stringsOf,
} from '../../core/secret-scan';
import { ROOT } from '../helpers';

// fixtures shaped like real credentials; none of them is one
const TOKENS: Array<[string, string, RegExp]> = [
  ["an AWS access key id (even AWS's documented example)", 'UPSTREAM=AKIAIOSFODNN7EXAMPLE', /aws-access-key-id/],
  [
    'a PEM private key (any length)',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx4\n-----END RSA PRIVATE KEY-----',
    /private-key/,
  ],
  ['an OpenSSH private key header', '-----BEGIN OPENSSH PRIVATE KEY-----', /private-key/],
  [
    'a JSON Web Token',
    'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    /jwt/,
  ],
  ['a GitHub token (secretlint)', 'token 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 here', /secretlint\/github/],
  [
    'a Slack webhook URL (secretlint)',
    'https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/abcdefghijklmnopqrstuvwx',
    /secretlint\/slack/,
  ],
  ['a Slack bot token (secretlint)', 'xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn', /secretlint\/slack/],
  ['a password in a URL', 'postgres://user:pw@db/x', /url-userinfo/],
  ['a password in an https URL', 'https://deploy:s3cr3t@git.example.com/x.git', /url-userinfo/],
  [
    'a token as the user of a URL',
    'https://0123456789abcdef0123456789abcdef01234567@github.com/org/repo.git',
    /url-userinfo/,
  ],
  ['a password query parameter', 'postgresql://db/x?user=app&password=pw', /credential-parameter/],
  [
    'an access_token query parameter',
    'https://prometheus:9090/api/v1/query?access_token=abc123def',
    /credential-parameter/,
  ],
  ['an API key query parameter', 'https://maps.example.com/?key=AIzaSyA1234567890abcdefghij', /credential-parameter/],
  ['a password flag', '--db-password=hunter2', /credential-parameter/],
  ['a shell assignment', 'PGPASSWORD=hunter2 psql -h db', /credential-parameter/],
  ['a short credential name', 'MYSQL_PWD=hunter2', /credential-parameter/],
  ['a libpq connection string', 'host=db user=app password=hunter2 dbname=x', /credential-parameter/],
  ['a password in an embedded YAML file', 'db:\n  host: db\n  password: hunter2\n', /credential-field/],
  ['a password in embedded JSON', '{"user": "app", "password": "hunter2"}', /credential-field/],
  ['a short auth query parameter', 'redis://default@x?auth=Hunter7pwQQ', /credential-parameter/],
  ['an authToken query parameter', 'https://x.example.com/?authToken=Hunter7pwQQ', /credential-parameter/],
  ['an auth_token query parameter', 'https://x.example.com/?auth_token=Hunter7pwQQ', /credential-parameter/],
  ['a percent-encoded password in a URL', 'postgres://app%3Apw@db/x', /url-userinfo/],
  ['a Google API key', 'GOOGLE_KEY AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', /google-api-key/],
  ["Redis's requirepass as an assignment", 'requirepass=hunter2Hunter2XyZ', /redis-password/],
  ["redis-server's --requirepass in a shell command", 'redis-server --requirepass hunter2Hunter2XyZ', /redis-password/],
  ["redis-server's --masterauth= flag", '--masterauth=hunter2Hunter2XyZ', /redis-password/],
  [
    'a requirepass line of an embedded redis.conf',
    'bind 0.0.0.0\nrequirepass foobared\nappendonly yes\n',
    /redis-password/,
  ],
  ['a masterauth line of an embedded redis.conf', 'port 6379\nmasterauth "foo bared"\n', /redis-password/],
  ['a Redis password set with CONFIG SET', 'redis-cli CONFIG SET requirepass foobared', /redis-password/],
  [
    "redis-cli's -a in a probe's command",
    'redis-cli -h localhost -a hunter2Hunter2 ping | grep PONG',
    /redis-password/,
  ],
  ["redis-cli's -a, quoted", `redis-cli --no-auth-warning -a 'foo bared' ping`, /redis-password/],
  ["redis-cli's --pass", 'redis-cli --pass hunter2Hunter2 ping', /redis-password/],
  ["redis-cli's AUTH command", 'redis-cli -h redis-0 AUTH hunter2Hunter2', /redis-password/],
  ["redis-cli's AUTH with a user", 'redis-cli AUTH default "foo bared" && echo ok', /redis-password/],
  [
    'a Redis ACL SETUSER with a password',
    'redis-cli ACL SETUSER app on >hunter2Hunter2 ~cached:* +get',
    /redis-password/,
  ],
  ['a users.acl line with a password', 'user default off\nuser app on ~* >foobared +@all\n', /redis-password/],
  ['an indented users.acl line with a password', 'acl: |\n  user app on ~* >foobared +@all\n', /redis-password/],
  [
    'a users.acl line after a lone carriage return, behind a "user" of prose',
    'the user x\ruser app on ~* >foobared +@all',
    /redis-password/,
  ],
  ['an ACL SETUSER right after a "user" of prose', 'the user ACL SETUSER app on >hunter2Hunter2 ~*', /redis-password/],
  [
    'an ACL SETUSER after a --user on the same line',
    'redis-cli --user admin --pass "$PW" ACL SETUSER app on >hunter2Hunter2 ~* +@all',
    /redis-password/,
  ],
  [
    "a sentinel.conf's auth-pass",
    'sentinel monitor redis redis-0 6379 2\nsentinel auth-pass redis foobared\n',
    /redis-password/,
  ],
  [
    "curl's -u user:password in a probe's shell command",
    'redis-cli ping && curl -u admin:Sup3rS3cretPw http://localhost:9090/',
    /user-password/,
  ],
  ["curl's --user user:password", 'curl -fsS --user deploy:hunter2 http://localhost:9090/-/ready', /user-password/],
  ["curl's -u glued to the user", 'curl -uadmin:Sup3rS3cretPw http://localhost:9090/', /user-password/],
  ["curl's -u after other short flags", 'curl -fsSu admin:Sup3rS3cretPw http://localhost:9090/', /user-password/],
  ["curl's --user=user:password", 'curl --user=admin:Sup3rS3cretPw http://localhost:9090/', /user-password/],
  [
    'an Authorization header with a bearer token',
    'Authorization: Bearer abcdef0123456789abcdef0123456789',
    /authorization-header/,
  ],
  [
    'an Authorization header with basic credentials',
    'Authorization: Basic YWRtaW46U3VwM3JTM2NyZXRQdw==',
    /authorization-header/,
  ],
  ['an Authorization header in embedded JSON', '{"Authorization": "Token 0123456789abcdef"}', /authorization-header/],
  ['a bearer token without the header name', 'Bearer abcdef0123456789abcdef0123456789', /authorization-header/],
  ['basic credentials without the header name', 'Basic YWRtaW46U3VwM3JTM2NyZXRQdw==', /authorization-header/],
];

// what the platform writes everywhere and must not be taken for a secret
const NOT_SECRETS: Array<[string, string]> = [
  [
    'an image digest',
    'ghcr.io/trading-platform/gateway@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  ],
  ['a dashboard UID', '{"uid": "a1b2c3d4e5f60718", "title": "gateway"}'],
  ['a hash in a generated name', 'gateway-config-c8a1b2c3'],
  [
    'PromQL',
    'sum(rate(http_requests_total{job="gateway",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="gateway"}[5m])) > 0.05',
  ],
  ['a Prometheus URL', 'http://prometheus-operated.monitoring.svc:9090'],
  [
    'an Alertmanager URL with a path and query',
    'http://alertmanager-operated.monitoring.svc:9093/api/v2/alerts?silenced=false',
  ],
  ['a secretKeyRef', 'valueFrom: {secretKeyRef: {name: gateway-secrets, key: DATABASE_URL}}'],
  ['a remote key', 'trading/database-url'],
  ['a variable as the password of a URL', 'postgres://app:$(DB_PASSWORD)@db:5432/trading'],
  ["an SSH URL's user", 'ssh://git@github.com/trading-platform/platform-manifests.git'],
  ['a switch', '--use-token=false'],
  ['words that end in a credential word', 'bypass=abc monkey=abcdefg'],
  ['a number of tokens', '--max-tokens=4096'],
  ['a field that references a secret', 'tokenSecretRef: vault-token'],
  ['a runbook URL', 'https://runbooks.trading.example.com/alerts/{alert}'],
  ['a percent-encoded variable as the password of a URL', 'postgres://app%3A$(DB_PASSWORD)@db/x'],
  ["a malformed percent escape in a URL's user", 'https://a%zz@host/x'],
  ['a variable as the Redis password', 'redis-server --requirepass $(REDIS_PASSWORD) --masterauth ${REDIS_PASSWORD}'],
  [
    'shell variables and printf verbs as the Redis password',
    `--masterauth "$auth"\nrequirepass %s\nrequirepass <password>`,
  ],
  ['the Redis setting named in prose', 'the requirepass setting comes from REDIS_PASSWORD'],
  ["redis-cli's -a with a variable", 'redis-cli -a "$REDIS_PASSWORD" ping && redis-cli -a $(REDIS_PASSWORD) ping'],
  ['-a of another program', 'ls -a /data && uname -a'],
  [
    "-u of programs other than curl: a time format, socat's addresses, rsync's source",
    'echo "started at $(date -u +%H:%M:%S)" && socat -u TCP-LISTEN:8080,fork STDOUT && rsync -u backup:/data /local && sort -u a:b',
  ],
  [
    'sentinel auth-pass from a variable or a printf verb',
    `sentinel auth-pass redis $REDIS_PASSWORD\nprintf 'sentinel auth-pass %s %s\\n' x "$auth"`,
  ],
  ['user ids', 'test "$(id -u)" = 0 && id -u nobody && ls -u /data'],
  ['a user without a password', 'su-exec --user=nobody redis-server'],
  ['a user and group outside curl', 'chpst -u redis:redis redis-server && docker run -u nobody:nogroup x'],
  ['a numeric user and group', 'docker run --user 1000:1000 x'],
  [
    'variables as the user and password of curl',
    'curl -u $(API_USER):$(API_PASSWORD) http://x && curl -u "admin:${PW}" http://x',
  ],
  ['a variable as a bearer token', 'Authorization: Bearer $(TOKEN) Authorization: Bearer ${TOKEN} Bearer $TOKEN'],
  ['a template as a bearer token', 'Bearer {{ .auth.token }}'],
  [
    'the words bearer, basic and authorization in prose',
    'JWT with refresh tokens) and authorization: rate, errors. Basic authentication and Bearer tokens',
  ],
  ['an AuthorizationPolicy', 'kind: AuthorizationPolicy'],
  [
    "redis-cli's AUTH and ACL rules without a literal password",
    'redis-cli AUTH "$REDIS_PASSWORD" && redis-cli auth $(REDIS_PASSWORD) && redis-cli ACL SETUSER app on >$PW ~* && redis-cli ACL SETUSER app on #9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  ],
  ['an ACL rule whose only > is a redirection', 'redis-cli ACL SETUSER app on nopass ~* +@all >/dev/null 2>&1'],
  ['an ACL rule whose output is appended to a file', 'redis-cli ACL SETUSER app on nopass ~* +@all >>acl.log 2>&1'],
  [
    'an ACL rule inside a word or after a word on the line',
    'xACL SETUSER app on >foobared\nthe user app on ~* >foobared +@all',
  ],
  ['the word auth in prose', 'the gateway does auth for every request; user docs at /docs'],
  ['redis-cli and auth in prose', 'connect with redis-cli and auth with the password from the secret manager'],
  [
    'prose lines that start with "user" and hold a ">"',
    'User latency p99 >500ms pages the on-call\nuser sessions >10k on a node\nuser logs on >5 times ~ hourly',
  ],
  [
    'a credential flag named in prose, with words after it',
    'clients pass the token with --token when they connect; set --password or the DB_PASSWORD variable',
  ],
];

describe('secret scan', () => {
  it.each(TOKENS)('finds %s', (_what, text, rule) => {
    const findings = findSecrets(text);
    expect(findings.map((f) => f.rule)).toEqual(expect.arrayContaining([expect.stringMatching(rule)]));
  });

  it.each(NOT_SECRETS)('finds nothing in %s', (_what, text) => {
    expect(findSecrets(text)).toEqual([]);
  });

  it('finds nothing in any string of the committed dist/ and examples/*/dist/, nor in their READMEs', () => {
    const strings: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.yaml')) stringsOf(load(fs.readFileSync(full, 'utf8')), strings);
        else strings.push(fs.readFileSync(full, 'utf8'));
      }
    };
    walk(path.join(ROOT, 'dist'));
    for (const example of fs.readdirSync(path.join(ROOT, 'examples'))) {
      if (fs.existsSync(path.join(ROOT, 'examples', example, 'dist')))
        walk(path.join(ROOT, 'examples', example, 'dist'));
    }
    expect(strings.length).toBeGreaterThan(10000);
    expect(scanStrings(strings).map((f) => `${f.rule}: ${strings[f.index].slice(0, 80)}`)).toEqual([]);
  });

  it('ignores secretlint-disable comments inside a scanned value', () => {
    const text = '# secretlint-disable\n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\n# secretlint-enable';
    expect(findSecrets(text).map((f) => f.rule)).toContain('secretlint/github');
  });

  it('scans many strings as one text and points each finding at its own string', () => {
    const strings = [
      'plain value',
      'another plain one',
      'x postgres://a:pw@db/x',
      'plain value',
      'AKIAIOSFODNN7EXAMPLE',
      'pwd=abc',
    ];
    const findings = scanStrings(strings);
    expect(findings.map((f) => [f.index, strings[f.index].slice(f.start, f.end)])).toEqual([
      [2, 'pw'],
      [4, 'AKIAIOSFODNN7EXAMPLE'],
      [5, 'abc'],
    ]);
  });

  it('scans the strings of several values as their listed strings are scanned, numbered across them', () => {
    const values = [
      'a README with pwd=readme1',
      { kind: 'ConfigMap', data: { 'app.conf': 'url: postgres://a:pw@db/x', plain: 'value' } },
      {
        spec: {
          args: ['--verbose', 'AKIAIOSFODNN7EXAMPLE', '--db-password', 'Hunter6pwXY'],
          command: ['--db-password', 'Hunter6pwXY'], // not paired: only args are
          env: [{ name: 'password=keyname', value: 'pwd=abc' }],
        },
      },
      { data: { again: 'url: postgres://a:pw@db/x' } }, // the same string: reported at its first place
    ];
    const strings: string[] = [];
    const starts = values.map((value) => {
      const start = strings.length;
      stringsOf(value, strings);
      return start;
    });
    const scanned = scanValues(values, ['args']);
    expect(scanned.starts).toEqual(starts);
    const flagged = values.flatMap((value, i) => flagValueFindings(value, ['args'], starts[i]));
    expect(flagged).toHaveLength(1);
    expect(scanned.findings).toEqual(
      [...scanStrings(strings), ...flagged].sort((a, b) => a.index - b.index || a.start - b.start),
    );
    expect(scanned.findings.map((f) => [f.index, strings[f.index].slice(f.start, f.end)])).toEqual([
      [0, 'readme1'],
      [5, 'pw'], // after 'kind', 'ConfigMap', 'data' and the key 'app.conf'
      [11, 'AKIAIOSFODNN7EXAMPLE'],
      [13, 'Hunter6pwXY'], // the value of --db-password in args
      [19, 'keyname'],
      [21, 'abc'],
    ]);
    expect(scanValues([], ['args'])).toEqual({ findings: [], starts: [] });
  });

  it('pairs a credential flag with its value in the next item of an array', () => {
    const args = ['--db-password', 'Hunter6pwXY'];
    expect(scanStrings(args)).toEqual([]); // each string alone says nothing
    const findings = flagValueFindings({ args });
    expect(findings.map((f) => [f.rule, f.index, f.start, f.end, f.password])).toEqual([
      ['credential-flag', 2, 0, 11, true],
    ]);
    expect(stringsOf({ args }, [])[findings[0].index]).toBe('Hunter6pwXY');
    expect(excerpt('Hunter6pwXY', findings)).toBe('****');
    for (const flag of ['--password', '--token', '--secret', '--api-key', '-auth', '--redis.pass']) {
      expect(flagValueFindings([flag, 'Hunter6pwXY'])).toHaveLength(1);
    }
    // any array, or only the arrays under the given keys, with the index counted as stringsOf counts
    const value = { env: { A: 'x' }, command: ['/app', '--token', 'Hunter6pwXY'], other: ['--token', 'Hunter6pwXY'] };
    expect(flagValueFindings(value, ['args', 'command'], 10).map((f) => f.index)).toEqual([10 + 6]);
    expect(flagValueFindings(value).map((f) => f.index)).toEqual([6, 9]);
  });

  it('does not pair a credential flag with a variable, a switch, a number, another flag or a file', () => {
    for (const [flag, next] of [
      ['--db-password', '$(DB_PASSWORD)'],
      ['--token', '${TOKEN}'],
      ['--use-token', 'false'],
      ['--token', '-v'],
      ['--tls-private-key', '/etc/tls/tls.key'],
      ['--key', 'name'],
      ['--max-tokens', 'Hunter6pwXY'],
      ['--password-file', 'x.txt'],
      ['--bypass', 'Hunter6pwXY'],
      ['password', 'Hunter6pwXY'],
    ]) {
      expect([flag, next, flagValueFindings([flag, next])]).toEqual([flag, next, []]);
    }
  });

  it("pairs Redis's password flags and curl's -u with a user:password in the next item", () => {
    expect(flagValueFindings({ args: ['--requirepass', 'hunter2Hunter2XyZ'] })).toHaveLength(1);
    expect(flagValueFindings({ args: ['--masterauth', 'hunter2Hunter2XyZ'] })).toHaveLength(1);
    const command = ['curl', '-fsS', '-u', 'admin:Sup3rS3cretPw', 'http://localhost:9090/'];
    const findings = flagValueFindings({ command });
    // only the password is the secret: the excerpt keeps the user
    expect(findings.map((f) => [f.rule, f.index, f.start, f.end, f.inUrl, f.password, f.what])).toEqual([
      ['user-password', 4, 6, 19, false, true, 'a password given as the value of "-u" (user:password)'],
    ]);
    expect(excerpt('admin:Sup3rS3cretPw', findings)).toBe('admin:****');
    // curl takes any password, even one that reads like a group name
    expect(flagValueFindings(['curl', '--user', 'admin:admin'])).toHaveLength(1);
    expect(flagValueFindings(['--proxy-user', 'admin:Sup3rS3cretPw'])).toHaveLength(1);
  });

  it("does not pair Redis's password flags with a variable, nor -u with an id, a user alone or a user and group", () => {
    for (const pair of [
      ['--requirepass', '$(REDIS_PASSWORD)'],
      ['--masterauth', '${REDIS_PASSWORD}'],
      ['id', '-u'],
      ['-u', '1000'],
      ['--user', 'nobody'],
      ['-u', '1000:1000'],
      ['chpst', '-u', 'redis:redis'],
      ['curl', '-u', '$(API_USER):$(API_PASSWORD)'],
    ]) {
      expect([pair, flagValueFindings(pair)]).toEqual([pair, []]);
    }
  });

  it('says what it found in a command, a header or a Redis setting, and where the fix is', () => {
    const found = (text: string) =>
      findSecrets(text).map((f) => [f.rule, text.slice(f.start, f.end), f.what, f.inUrl, f.password]);
    expect(found('redis-server --requirepass hunter2Hunter2XyZ')).toEqual([
      ['redis-password', 'hunter2Hunter2XyZ', 'a credential given as the value of "--requirepass"', false, true],
    ]);
    expect(found('requirepass=hunter2Hunter2XyZ')).toEqual([
      ['redis-password', 'hunter2Hunter2XyZ', 'a credential given as "requirepass="', false, true],
    ]);
    // none is in a URL (inUrl false): the fix is a variable in the command, header or file
    expect(found('masterauth foobared')).toEqual([
      ['redis-password', 'foobared', 'a credential given as the value of "masterauth"', false, true],
    ]);
    expect(found('curl -u admin:Sup3rS3cretPw http://x')).toEqual([
      ['user-password', 'Sup3rS3cretPw', 'a password given with "-u" (user:password)', false, true],
    ]);
    expect(found('--header=Authorization: Bearer abcdef0123456789abcdef0123456789')).toEqual([
      [
        'authorization-header',
        'abcdef0123456789abcdef0123456789',
        'a credential in an HTTP Authorization header',
        false,
        true,
      ],
    ]);
    expect(found('Basic YWRtaW46U3VwM3JTM2NyZXRQdw==')).toEqual([
      [
        'authorization-header',
        'YWRtaW46U3VwM3JTM2NyZXRQdw==',
        'a user and password in base64 ("Basic …")',
        false,
        true,
      ],
    ]);
    // a JSON Web Token after `Bearer` is reported once, as what it is
    const jwt =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    expect(found(`Authorization: Bearer ${jwt}`).map((f) => f[0])).toEqual(['jwt']);
    expect(excerpt('sh -c redis-cli ping && curl -u admin:Sup3rS3cretPw http://localhost:9090/')).toBe(
      '…& curl -u admin:**** http://localhost:9090/',
    );
  });

  it('does not join two strings into one secret', () => {
    expect(scanStrings(['https://user:', 'pass@host/x', 'password', '=hunter2'])).toEqual([]);
  });

  it('stays linear on long hostile input', () => {
    const hostile = [
      'a-'.repeat(200000),
      'password'.repeat(50000),
      '-u '.repeat(100000),
      `-u ${'a'.repeat(300)}`.repeat(2000),
      'requirepass '.repeat(50000),
      'Authorization: '.repeat(50000),
      '://'.repeat(100000),
      '-----BEGIN PRIVATE KEY-----'.repeat(20000),
      // a "user" of prose, then an ACL SETUSER further on the line, many times on one line
      `${'the user y '.repeat(40000)}acl setuser`,
      'xACL SETUSER '.repeat(30000),
    ].join('\n');
    const started = Date.now();
    findSecrets(hostile);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('redaction', () => {
  it.each(TOKENS)('quotes %s without the secret', (_what, text) => {
    const findings = findSecrets(text);
    const quoted = excerpt(text, findings);
    const masked = maskSecrets(text, findings);
    for (const f of findings) {
      const secret = text.slice(f.start, f.end);
      expect(quoted).not.toContain(secret);
      expect(masked).not.toContain(secret);
    }
    expect(quoted.length).toBeLessThanOrEqual(50);
  });

  it("masks a password whole and shows a token's first characters (its kind)", () => {
    expect(maskSecrets('postgres://user:longpassword123456@db/x')).toBe('postgres://user:****@db/x');
    expect(maskSecrets('postgresql://db/x?user=app&password=pw')).toBe('postgresql://db/x?user=app&password=****');
    expect(maskSecrets('token 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 here')).toBe('token ghp_… here');
    expect(
      maskSecrets('-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx4\n-----END RSA PRIVATE KEY----- after'),
    ).toBe('----… after');
  });

  it('cuts a long value to a short excerpt around the first secret', () => {
    const value = `${'description '.repeat(20)}postgres://app:pw@db/x ${'more '.repeat(20)}`;
    const quoted = excerpt(value);
    expect(quoted.startsWith('…')).toBe(true);
    expect(quoted).toContain('postgres://app:****@db/x');
    expect(quoted.length).toBeLessThanOrEqual(50);
    expect(excerpt('x'.repeat(500))).toBe(`${'x'.repeat(48)}…`);
  });
});
