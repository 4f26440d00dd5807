import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as yaml from 'js-yaml';
import * as path from 'path';
import { diffManifests, FieldChange, formatDiff } from '../../pipeline/manifest-diff';
import { Manifest } from '../../core/manifest';
import { BUILD, configOf, ENVIRONMENTS, manifestsOf, ROOT, TARGETS } from '../helpers';

const runDiff = (args: string[]) =>
  spawnSync(process.execPath, [path.join(BUILD, 'bin', 'diff.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

const cm = (name: string, data: Record<string, string>, namespace = 'a'): Manifest =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data }) as Manifest;

describe('diffManifests', () => {
  it('reports objects added, removed and changed fields with paths and both values', () => {
    const diff = diffManifests(
      [cm('x', { a: '1' }), cm('gone', {})],
      [
        cm('x', { a: '2', 'b.json': '{}' }),
        cm('new', {}),
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } },
      ],
    );
    expect(diff.removed).toEqual([]);
    expect(diff.added).toEqual(['Secret/s']);
    expect(diff.changed).toEqual([
      {
        object: 'ConfigMap/gone → new',
        kind: 'ConfigMap',
        changes: [{ path: 'metadata.name', from: 'gone', to: 'new' }],
      },
      {
        object: 'ConfigMap/x',
        kind: 'ConfigMap',
        changes: [
          { path: 'data.a', from: '1', to: '2' },
          { path: 'data["b.json"]', from: undefined, to: '{}' },
        ],
      },
    ]);
  });

  it('matches list items by name and compares embedded JSON field by field', () => {
    const a = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'a', image: 'x:1' },
          { name: 'b', image: 'y:1' },
        ],
      },
    } as Manifest;
    const b = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'b', image: 'y:2' },
          { name: 'a', image: 'x:1' },
        ],
      },
    } as Manifest;
    expect(diffManifests([a], [b]).changed[0].changes).toEqual([
      { path: 'spec.containers[name=b].image', from: 'y:1', to: 'y:2' },
    ]);
    const d = diffManifests(
      [cm('d', { 'x.json': '{"title":"a","n":1}' })],
      [cm('d', { 'x.json': '{"title":"b","n":1}' })],
    );
    expect(d.changed[0].changes).toEqual([{ path: 'data["x.json"](json).title', from: 'a', to: 'b' }]);
  });

  it('prints one line per object and per field', () => {
    const text = formatDiff('a', 'b', diffManifests([cm('x', { a: '1' })], [cm('x', { a: '2' })]));
    expect(text).toBe('a → b: 0 added, 0 removed, 1 changed (1 field)\n~ ConfigMap/x\n    data.a: "1" → "2"');
  });
});

describe('the two production regions', () => {
  /** Two strings equal once each region name is replaced by a placeholder. */
  const sameButRegion = (from: unknown, to: unknown) =>
    String(from).replace(/us-east-1/g, 'REGION') === String(to).replace(/eu-west-1/g, 'REGION');
  const diff = () => diffManifests(manifestsOf('production-us-east-1'), manifestsOf('production-eu-west-1'));
  const us = () => configOf('production-us-east-1');

  /** Every leaf of a region block of environments/production.yaml, by its path (`externals.postgres.cidrs[0]`). */
  const leaves = (value: unknown, at = ''): Map<string, unknown> => {
    const out = new Map<string, unknown>();
    if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${at}[${i}]`).forEach((x, k) => out.set(k, x)));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) leaves(v, at ? `${at}.${k}` : k).forEach((x, p) => out.set(p, x));
    else out.set(at, value);
    return out;
  };
  const regions = () => {
    const file = yaml.load(fs.readFileSync(path.join(ENVIRONMENTS, 'production.yaml'), 'utf8')) as {
      regions: Record<string, unknown>;
    };
    return { from: leaves(file.regions['us-east-1']), to: leaves(file.regions['eu-west-1']) };
  };
  /** The region-block paths whose us-east-1 and eu-west-1 values are `from` and `to`. */
  const regionPathsOf = (from: unknown, to: unknown): string[] => {
    const { from: a, to: b } = regions();
    const scalar = (v: unknown) => (v && typeof v === 'object' ? ((v as any).ipBlock?.cidr ?? (v as any).cidr) : v);
    return [...a.keys()].filter((p) => a.get(p) === scalar(from) && b.get(p) === scalar(to));
  };

  /**
   * The fields a region block may change, each with the region-block path its values must come
   * from (the same path in both regions): everything else must be identical.
   */
  const ALLOWED: Array<[RegExp, RegExp, RegExp]> = [
    [/^Ingress\//, /^spec\.(rules\[\d+\]\.host|tls\[\d+\]\.hosts\[\d+\])$/, /^ingress\.host$/],
    [/^StatefulSet\//, /^spec\.volumeClaimTemplates\[(\d+|name=[a-z-]+)\]\.spec\.storageClassName$/, /^storageClass$/],
    [/^ClusterSecretStore\//, /^metadata\.name$/, /^secretStore\.name$/],
    [/^ClusterSecretStore\//, /^spec\.provider\./, /^secretStore\.provider\./],
    [/^(ExternalSecret|SecretStore)\//, /^spec\.secretStoreRef\.name$/, /^secretStore\.name$/],
    [/^Service\//, /^spec\.externalName$/, /^externals\.[a-z0-9-]+\.externalName$/],
    // external CIDRs (exchanges, market data, postgres, the API server) in the NetworkPolicies
    [
      /^NetworkPolicy\//,
      /^spec\.egress\[\d+\]\.to\[\d+\](\.ipBlock(\.cidr)?)?$/,
      /^externals\.[a-z0-9-]+\.cidrs\[\d+\]$/,
    ],
  ];

  it('differ in no object, only in fields that come from the region blocks of production.yaml', () => {
    const d = diff();
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    const allowed = (object: string, c: FieldChange) =>
      ALLOWED.some(
        ([o, field, from]) =>
          o.test(object) && field.test(c.path) && regionPathsOf(c.from, c.to).some((p) => from.test(p)),
      ) ||
      // the region itself: the label of every alert, and the uid and title of every dashboard
      (/^PrometheusRule\//.test(object) &&
        /\.labels\.region$/.test(c.path) &&
        c.from === 'us-east-1' &&
        c.to === 'eu-west-1') ||
      (/^ConfigMap\/[a-z0-9-]+-dashboard/.test(object) &&
        /\(json\)\.(uid|title)$/.test(c.path) &&
        sameButRegion(c.from, c.to)) ||
      // and the cloud.region resource attribute of every traced container's spans
      (/^(Deployment|StatefulSet|Rollout)\//.test(object) &&
        /\.env\[name=OTEL_RESOURCE_ATTRIBUTES\]\.value$/.test(c.path) &&
        String(c.from).replace(/,cloud\.region=us-east-1$/, '') ===
          String(c.to).replace(/,cloud\.region=eu-west-1$/, ''));
    const unexpected = d.changed.flatMap((o) =>
      o.changes
        .filter((c) => !allowed(o.object, c))
        .map((c) => `${o.object} ${c.path}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`),
    );
    expect(unexpected).toEqual([]);
  });

  it('give every service a Grafana dashboard per region that differs in its uid and title only (they end with the region)', () => {
    const changed = diff().changed.filter((o) => /-dashboard\b/.test(o.object));
    expect(changed.length).toBe(Object.keys(us().services).length);
    for (const o of changed) {
      expect(o.changes.map((c) => c.path.replace(/^.*\(json\)\./, '')).sort()).toEqual(['title', 'uid']);
      const uid = o.changes.find((c) => c.path.endsWith('.uid'))!;
      expect([uid.from, uid.to]).toEqual([expect.stringMatching(/-us-east-1$/), expect.stringMatching(/-eu-west-1$/)]);
      for (const c of o.changes) expect(sameButRegion(c.from, c.to)).toBe(true);
    }
  });

  it('differ in each region override: ingress host, storage class, secret store, database endpoint', () => {
    const paths = diff().changed.flatMap((o) => o.changes.map((c) => `${o.object.split(' ')[0]} ${c.path}`));
    expect(paths).toEqual(
      expect.arrayContaining([
        'Ingress/gateway spec.rules[0].host',
        'StatefulSet/redis spec.volumeClaimTemplates[0].spec.storageClassName',
        `ClusterSecretStore/${us().secretStore.name} spec.provider.aws.region`,
        'ExternalSecret/gateway-secrets spec.secretStoreRef.name',
        'Service/postgres spec.externalName',
      ]),
    );
  });
});

describe('npm run diff', () => {
  it('prints the semantic difference of two targets and exits 0', () => {
    const result = runDiff(['production-us-east-1', 'production-eu-west-1']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^production-us-east-1 → production-eu-west-1: 0 added, 0 removed, \d+ changed/);
    expect(result.stdout).toContain(
      '~ Ingress/gateway\n    spec.rules[0].host: "api.us.trading.example.com" → "api.eu.trading.example.com"',
    );
  });

  it('shows a promotion from staging to production: Rollouts and Schedules added, Deployments removed', () => {
    const result = runDiff(['staging', 'production-us-east-1']);
    expect(result.status).toBe(0);
    for (const line of [
      '+ Rollout/gateway',
      '+ Rollout/execution-gateway',
      '- Deployment/gateway',
      '+ Schedule/trading-prod-weekly',
      '+ AnalysisTemplate/gateway-pre-promotion',
    ]) {
      expect(result.stdout.split('\n')).toContain(line);
    }
  });

  it('refuses an unknown target, listing the known ones', () => {
    const result = runDiff(['staging', 'prod']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`diff: unknown target prod; targets: ${[...TARGETS].sort().join(', ')}\n`);
  });

  it('refuses a SYNTH_STOCK that names no speed-up as a mistake of the caller, not an internal error', () => {
    const result = spawnSync(process.execPath, [path.join(BUILD, 'bin', 'diff.js'), 'staging', 'development'], {
      cwd: ROOT,
      env: { ...process.env, SYNTH_STOCK: 'compile' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'diff: SYNTH_STOCK=compile: unknown speed-up compile; use 1 (all stock) or a list of json, charts, yaml, bundle\n',
    );
  });
});
