import { isReason } from '../../core/reason';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, ConfigIssue, formatIssue } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { checkPolicies } from '../../pipeline/policy';
import { synthTarget } from '../../pipeline/synth';
import { copyEnvironments, edit, runSynth, treeDigest } from '../helpers';

/**
 * Policy bypasses the configuration must refuse, each with file, line, path, value and fix:
 * Kubernetes API grants that take over the cluster without a wildcard, and egress that opens
 * (nearly) the whole internet when judged over everything a service may reach.
 */

/** The orchestrator's last `api` rule in environments/defaults.yaml, after which a rule is added. */
const LAST_API_RULE = '        resourceNames: [feature-flags]\n        verbs: [get, watch]';

/** A scratch copy of environments/ with `edits`. */
function environmentsWith(edits: Array<[string, string | RegExp, string]>): string {
  const dir = copyEnvironments();
  for (const [file, search, replacement] of edits) edit(dir, file, search, replacement);
  return dir;
}

/** The issues loading a scratch copy with `edits` gives ([] when it loads). */
function issuesOf(edits: Array<[string, string | RegExp, string]>): ConfigIssue[] {
  try {
    loadPlatform(environmentsWith(edits));
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

const lines = (issues: ConfigIssue[]) => issues.map(formatIssue);

/** One more `api` rule of orchestrator, as YAML under the list. */
function apiRule(rule: {
  apiGroup: string;
  resources: string[];
  verbs: string[];
  scope?: string;
  reason?: string;
}): string {
  return [
    `      - apiGroup: ${JSON.stringify(rule.apiGroup)}`,
    `        resources: [${rule.resources.join(', ')}]`,
    `        verbs: [${rule.verbs.join(', ')}]`,
    ...(rule.scope ? [`        scope: ${rule.scope}`] : []),
    ...(rule.reason !== undefined ? [`        reason: ${JSON.stringify(rule.reason)}`] : []),
  ].join('\n');
}

describe('Kubernetes API grants that take over the cluster', () => {
  // the RBAC good practices' privilege escalation risks, none of them a wildcard
  const grants: Array<[string, { apiGroup: string; resources: string[]; verbs: string[]; scope?: string }, RegExp]> = [
    [
      'nodes/proxy',
      { apiGroup: '', resources: ['nodes/proxy'], verbs: ['get'], scope: 'cluster' },
      /\(node proxy\), which reaches the kubelet API/,
    ],
    [
      'nodes/status patch',
      { apiGroup: '', resources: ['nodes/status'], verbs: ['patch'], scope: 'cluster' },
      /\(node modification\), which rewrites node labels/,
    ],
    ['pods/exec', { apiGroup: '', resources: ['pods/exec'], verbs: ['create'] }, /\(exec, attach and port-forward\)/],
    [
      'pods/attach (a GET is enough)',
      { apiGroup: '', resources: ['pods/attach'], verbs: ['get'] },
      /\(exec, attach and port-forward\)/,
    ],
    [
      'pods/ephemeralcontainers',
      { apiGroup: '', resources: ['pods/ephemeralcontainers'], verbs: ['patch'] },
      /\(ephemeral containers\)/,
    ],
    [
      'serviceaccounts/token create',
      { apiGroup: '', resources: ['serviceaccounts/token'], verbs: ['create'] },
      /\(token request\)/,
    ],
    [
      'clusterrolebindings create',
      {
        apiGroup: 'rbac.authorization.k8s.io',
        resources: ['clusterrolebindings'],
        verbs: ['create'],
        scope: 'cluster',
      },
      /\(RBAC writes\)/,
    ],
    [
      'namespaces patch',
      { apiGroup: '', resources: ['namespaces'], verbs: ['patch'], scope: 'cluster' },
      /\(namespace modification\), which rewrites namespace labels/,
    ],
    [
      'validatingwebhookconfigurations delete',
      {
        apiGroup: 'admissionregistration.k8s.io',
        resources: ['validatingwebhookconfigurations'],
        verbs: ['delete'],
        scope: 'cluster',
      },
      /\(admission control\)/,
    ],
    [
      'mutatingwebhookconfigurations delete',
      {
        apiGroup: 'admissionregistration.k8s.io',
        resources: ['mutatingwebhookconfigurations'],
        verbs: ['delete'],
        scope: 'cluster',
      },
      /\(admission control\)/,
    ],
    [
      'escalate',
      { apiGroup: 'rbac.authorization.k8s.io', resources: ['clusterroles'], verbs: ['escalate'], scope: 'cluster' },
      /\(escalate\)/,
    ],
    [
      'bind',
      { apiGroup: 'rbac.authorization.k8s.io', resources: ['roles'], verbs: ['bind'] },
      /\(bind\), which binds any Role or ClusterRole/,
    ],
    [
      'impersonate',
      { apiGroup: '', resources: ['serviceaccounts'], verbs: ['impersonate'], scope: 'cluster' },
      /\(impersonate\)/,
    ],
    [
      'deployments create',
      { apiGroup: 'apps', resources: ['deployments'], verbs: ['create'] },
      /\(workload creation\), which runs pods of any image/,
    ],
    [
      'persistentvolumes create',
      { apiGroup: '', resources: ['persistentvolumes'], verbs: ['create'], scope: 'cluster' },
      /\(persistent volume creation\)/,
    ],
    [
      'CSR approval',
      {
        apiGroup: 'certificates.k8s.io',
        resources: ['certificatesigningrequests/approval'],
        verbs: ['update'],
        scope: 'cluster',
      },
      /\(certificate signing\)/,
    ],
    [
      'signers approve',
      { apiGroup: 'certificates.k8s.io', resources: ['signers'], verbs: ['approve'], scope: 'cluster' },
      /\(certificate signing\)/,
    ],
  ];

  it.each(grants)('refuses %s without a reason, with file, line, path, value and fix', (_, rule, why) => {
    const issues = issuesOf([['defaults.yaml', LAST_API_RULE, `${LAST_API_RULE}\n${apiRule(rule)}`]]);
    const text = lines(issues);
    const resource = rule.resources[0];
    const outside = text.filter((l) => l.includes('in targets development, staging'));
    expect(outside).toHaveLength(1);
    expect(outside[0]).toMatch(/^.*defaults\.yaml:\d+: services\.orchestrator\.api\[3\]\.resources\[0\]: /);
    expect(outside[0]).toContain(
      `asks for ${rule.verbs.join(', ')} on "${rule.apiGroup ? `${rule.apiGroup}/` : ''}${resource}"`,
    );
    expect(outside[0]).toMatch(why);
    expect(outside[0]).toMatch(
      /the rule gives no reason\. Remove the grant, or add "reason" to the rule \(a reason in words: at least 12 characters and two words, not blank\)/,
    );
    // production refuses it outright
    const production = text.filter((l) => l.includes('in targets production-eu-west-1, production-us-east-1'));
    expect(production).toHaveLength(1);
    expect(production[0]).toMatch(
      /services\.orchestrator\.api\[3\]\.resources\[0\]: .*; such grants are refused in production, even with a reason/,
    );
  });

  it('refuses a blank or placeholder reason, with file, line and what a reason must be', () => {
    for (const blank of [' ', '\t', 'n/a', 'because']) {
      const text = lines(
        issuesOf([
          [
            'defaults.yaml',
            LAST_API_RULE,
            `${LAST_API_RULE}\n${apiRule({ apiGroup: '', resources: ['pods/exec'], verbs: ['create'], reason: blank })}`,
          ],
        ]),
      );
      expect(text).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `defaults\\.yaml:\\d+: services\\.orchestrator\\.api\\[3\\]\\.reason: ${JSON.stringify(blank).replace(/[\\/]/g, '\\$&')} is not valid; expected a reason in words: at least 12 characters and two words, not blank`,
          ),
        ),
      );
    }
  });

  it('allows a grant with a reason outside production, and refuses it in production even then', () => {
    const rule = apiRule({
      apiGroup: '',
      resources: ['pods/exec'],
      verbs: ['create'],
      reason: 'runs the nightly reconciliation inside the redis pod',
    });
    const text = lines(issuesOf([['defaults.yaml', LAST_API_RULE, `${LAST_API_RULE}\n${rule}`]]));
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.api\[3\]\.resources\[0\]: service "orchestrator" asks for create on "pods\/exec" .*refused in production, even with a reason\. Remove the rule from the production environment .* \(in targets production-eu-west-1, production-us-east-1\)$/,
    );

    // production states its own list (lists replace): the rest loads, and the Role carries the grant
    const dir = environmentsWith([
      ['defaults.yaml', LAST_API_RULE, `${LAST_API_RULE}\n${rule}`],
      [
        'production.yaml',
        '  orchestrator:\n    priority: high\n',
        `  orchestrator:\n    priority: high\n    api:\n      - apiGroup: coordination.k8s.io\n        resources: [leases]\n        verbs: [create]\n`,
      ],
    ]);
    const staging = loadPlatform(dir).find((c) => c.target === 'staging')!;
    const manifests = synthTarget(staging);
    const role = manifests.find((m) => m.kind === 'Role' && m.metadata.name === 'orchestrator') as any;
    expect(role.rules).toContainEqual({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] });
    expect(checkPolicies(staging, manifests)).toEqual([]);
  });

  it('synth exits 1 on pods/exec, writes nothing and prints no stack trace', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const dir = environmentsWith([
      [
        'defaults.yaml',
        LAST_API_RULE,
        `${LAST_API_RULE}\n${apiRule({ apiGroup: '', resources: ['pods/exec'], verbs: ['create'] })}`,
      ],
    ]);
    const before = treeDigest(out);
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).toMatch(
      /defaults\.yaml:\d+: services\.orchestrator\.api\[3\]\.resources\[0\]: service "orchestrator" asks for create on "pods\/exec"/,
    );
    expect(treeDigest(out)).toBe(before);
  });
});

describe('egress judged over everything a service may reach', () => {
  const EXTERNALS = /^externals:\n/m;
  const DATA_SERVICE_DEPS = '      - { external: postgres }\n      - { external: market-data }';
  /** `count` external peers `net-<i>` with one block each, and data-service depending on all of them. */
  function peers(cidrs: string[], reasons: Array<string | undefined> = []): Array<[string, string | RegExp, string]> {
    const declared = cidrs
      .map(
        (c, i) =>
          `  net-${i}:\n    cidrs: [${JSON.stringify(c)}]\n    ports:\n      - { name: https, port: 443 }\n${reasons[i] !== undefined ? `    reason: ${JSON.stringify(reasons[i])}\n` : ''}`,
      )
      .join('');
    const deps = cidrs.map((_, i) => `\n      - { external: net-${i} }`).join('');
    return [
      ['defaults.yaml', EXTERNALS, `externals:\n${declared}`],
      ['defaults.yaml', DATA_SERVICE_DEPS, `${DATA_SERVICE_DEPS}${deps}`],
    ];
  }

  it('refuses 256 peers of one /8 each on one service (together 0.0.0.0/0)', () => {
    const text = lines(issuesOf(peers(Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`))));
    // one issue per group of targets whose other peers (postgres, market-data) differ
    expect(text.length).toBeGreaterThan(0);
    for (const line of text) {
      expect(line).toMatch(
        /defaults\.yaml:\d+: services\.data-service\.dependsOn: service "data-service" may reach the external peers postgres \(.*\), market-data \(.*\), net-0 \(0\.0\.0\.0\/8\), net-1 \(1\.0\.0\.0\/8\), net-2 \(2\.0\.0\.0\/8\) and 253 more, whose blocks together cover the whole IPv4 internet; the egress of one service is judged as a whole\. Narrow the peers' blocks .* or add a "reason" .* to each of these externals/,
      );
    }
    for (const target of ['development', 'staging', 'production-eu-west-1', 'production-us-east-1'])
      expect(text.join('\n')).toContain(target);
  });

  it('refuses two peers of one /8 each on one service, as it refuses both blocks on one peer', () => {
    const text = lines(issuesOf(peers(['3.0.0.0/8', '4.0.0.0/8'])));
    expect(text.length).toBeGreaterThan(0);
    for (const line of text) {
      expect(line).toMatch(
        /defaults\.yaml:\d+: services\.data-service\.dependsOn: service "data-service" may reach the external peers postgres \(.*\), market-data \(.*\), net-0 \(3\.0\.0\.0\/8\), net-1 \(4\.0\.0\.0\/8\), whose blocks together cover more public addresses than one \/8/,
      );
    }
    // every target refuses it
    for (const target of ['development', 'staging', 'production-eu-west-1', 'production-us-east-1'])
      expect(text.join('\n')).toContain(target);
  });

  it('allows the two peers only when each says why, and narrower blocks when different services reach them', () => {
    const why = 'the feed vendor publishes its whole allocation only';
    expect(issuesOf(peers(['3.0.0.0/8', '4.0.0.0/8'], [why, why]))).toEqual([]);
    // the peer without a reason still adds a /8 to postgres and market-data
    const text = lines(issuesOf(peers(['3.0.0.0/8', '4.0.0.0/8'], [why])));
    expect(text.length).toBeGreaterThan(0);
    for (const line of text) {
      expect(line).toMatch(
        /services\.data-service\.dependsOn: service "data-service" may reach the external peers postgres \(.*\), market-data \(.*\), net-1 \(4\.0\.0\.0\/8\), whose blocks together cover more public addresses than one \/8/,
      );
    }
    // two /9s: refused on one service, allowed on two
    expect(issuesOf(peers(['3.0.0.0/9', '4.0.0.0/9']))).not.toEqual([]);
    const [declare] = peers(['3.0.0.0/9', '4.0.0.0/9']);
    expect(
      issuesOf([
        declare,
        ['defaults.yaml', DATA_SERVICE_DEPS, `${DATA_SERVICE_DEPS}\n      - { external: net-0 }`],
        [
          'defaults.yaml',
          '      - { external: postgres }\n      - { external: kubernetes-api }',
          '      - { external: postgres }\n      - { external: kubernetes-api }\n      - { external: net-1 }',
        ],
      ]),
    ).toEqual([]);
  });

  it('refuses a blank reason on a peer that opens the whole internet', () => {
    for (const blank of [' ', '   ']) {
      const text = lines(
        issuesOf([
          ['defaults.yaml', 'cidrs: [203.0.113.0/24]', `cidrs: [0.0.0.0/0]\n    reason: ${JSON.stringify(blank)}`],
        ]),
      );
      expect(text).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `defaults\\.yaml:\\d+: externals\\.exchanges\\.reason: ${JSON.stringify(blank)} is not valid; expected a reason in words`,
          ),
        ),
      );
    }
  });

  it('refuses a reason filled out with invisible characters (zero-width spaces, joiners, bidi controls)', () => {
    const zw = '\u200b'.repeat(6);
    for (const invisible of [`${zw} ${zw}`, `ok ${zw}${zw} go`, `wide egress\u202e is needed`]) {
      expect(isReason(invisible)).toBe(false);
      const text = lines(
        issuesOf([
          ['defaults.yaml', 'cidrs: [203.0.113.0/24]', `cidrs: [0.0.0.0/0]\n    reason: ${JSON.stringify(invisible)}`],
        ]),
      );
      expect(text).toContainEqual(
        expect.stringMatching(
          /defaults\.yaml:\d+: externals\.exchanges\.reason: .* is not valid; expected a reason in words/,
        ),
      );
    }
    expect(isReason('the market data feed needs every exchange range')).toBe(true);
  });

  it.each([
    ['::ffff:0:0/96', 'IPv4-mapped'],
    ['64:ff9b::/96', 'NAT64'],
    ['64:ff9b:1::/48', 'local-use NAT64'],
    ['::/96', 'IPv4-compatible'],
    ['2001::/32', 'Teredo'],
  ])('judges %s by the IPv4 space it embeds (%s): all of it', (cidr, via) => {
    const text = lines(issuesOf([['defaults.yaml', 'cidrs: [203.0.113.0/24]', `cidrs: ["${cidr}"]`]]));
    expect(text).toEqual([
      expect.stringContaining(
        `externals.exchanges.cidrs[0]: ${cidr} embeds 0.0.0.0/0 (${via} addresses), which opens the whole IPv4 internet; narrow it`,
      ),
    ]);
  });

  it('adds the IPv4 space a 6to4 block embeds to the IPv4 blocks of the peer', () => {
    const text = lines(issuesOf([['defaults.yaml', 'cidrs: [203.0.113.0/24]', 'cidrs: [3.0.0.0/8, "2002:400::/32"]']]));
    expect(text).toEqual([
      expect.stringMatching(
        /externals\.exchanges\.cidrs: 3\.0\.0\.0\/8, 2002:400::\/32 \(embeds 4\.0\.0\.0\/16\) together cover more public addresses than one \/8/,
      ),
    ]);
    // a NAT64 block of the venue's own /24 is that /24
    expect(
      issuesOf([['defaults.yaml', 'cidrs: [203.0.113.0/24]', 'cidrs: [203.0.113.0/24, "64:ff9b::cb00:7100/120"]']]),
    ).toEqual([]);
  });
});
