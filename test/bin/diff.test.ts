import { spawnSync } from 'child_process';
import * as path from 'path';
import { diffManifests, FieldChange, formatDiff } from '../../lib/manifest-diff';
import { Manifest } from '../../lib/manifest';
import { BUILD, configOf, manifestsOf, ROOT } from '../helpers';

const runDiff = (args: string[]) => spawnSync(process.execPath, [path.join(BUILD, 'bin', 'diff.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

const cm = (name: string, data: Record<string, string>, namespace = 'a'): Manifest =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data } as Manifest);

describe('diffManifests', () => {
  it('reports objects added, removed and changed fields with paths and both values', () => {
    const diff = diffManifests([cm('x', { a: '1' }), cm('gone', {})], [cm('x', { a: '2', 'b.json': '{}' }), cm('new', {}), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }]);
    expect(diff.removed).toEqual([]);
    expect(diff.added).toEqual(['Secret/s']);
    expect(diff.changed).toEqual([
      { object: 'ConfigMap/gone → new', kind: 'ConfigMap', changes: [{ path: 'metadata.name', from: 'gone', to: 'new' }] },
      { object: 'ConfigMap/x', kind: 'ConfigMap', changes: [{ path: 'data.a', from: '1', to: '2' }, { path: 'data["b.json"]', from: undefined, to: '{}' }] },
    ]);
  });

  it('matches list items by name and compares embedded JSON field by field', () => {
    const a = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x:1' }, { name: 'b', image: 'y:1' }] } } as Manifest;
    const b = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'b', image: 'y:2' }, { name: 'a', image: 'x:1' }] } } as Manifest;
    expect(diffManifests([a], [b]).changed[0].changes).toEqual([{ path: 'spec.containers[name=b].image', from: 'y:1', to: 'y:2' }]);
    const d = diffManifests([cm('d', { 'x.json': '{"title":"a","n":1}' })], [cm('d', { 'x.json': '{"title":"b","n":1}' })]);
    expect(d.changed[0].changes).toEqual([{ path: 'data["x.json"](json).title', from: 'a', to: 'b' }]);
  });

  it('prints one line per object and per field', () => {
    const text = formatDiff('a', 'b', diffManifests([cm('x', { a: '1' })], [cm('x', { a: '2' })]));
    expect(text).toBe('a → b: 0 added, 0 removed, 1 changed (1 field)\n~ ConfigMap/x\n    data.a: "1" → "2"');
  });
});

describe('the two production regions', () => {
  const diff = () => diffManifests(manifestsOf('production-us-east-1'), manifestsOf('production-eu-west-1'));
  const us = () => configOf('production-us-east-1');
  const eu = () => configOf('production-eu-west-1');
  const regionCidrs = () => new Set([us(), eu()].flatMap((c) => Object.values(c.externals).flatMap((e) => e.cidrs)));

  /** The fields the region overrides may change, by kind: everything else must be identical. */
  const ALLOWED: Array<[RegExp, RegExp, (c: FieldChange) => boolean]> = [
    [/^Ingress\//, /^spec\.(rules\[\d+\]\.host|tls\[\d+\]\.hosts\[\d+\])$/, (c) => c.from === us().ingress.host && c.to === eu().ingress.host],
    [/^Ingress\//, /^metadata\.annotations\[".*"\]$/, (c) => String(c.from).includes(us().ingress.host)],
    [/^StatefulSet\//, /^spec\.volumeClaimTemplates\[(\d+|name=[a-z-]+)\]\.spec\.storageClassName$/, (c) => c.from === us().storageClass && c.to === eu().storageClass],
    [/^ClusterSecretStore\//, /^(metadata\.name|spec\.provider\.aws\.region)$/, () => true],
    [/^(ExternalSecret|SecretStore)\//, /^spec\.secretStoreRef\.name$/, (c) => c.from === us().secretStore.name && c.to === eu().secretStore.name],
    [/^Service\//, /^spec\.externalName$/, (c) => c.from === us().externals.postgres.externalName && c.to === eu().externals.postgres.externalName],
    // external CIDRs (exchanges, market data, postgres, the API server) in the NetworkPolicies
    [/^NetworkPolicy\//, /^spec\.egress\[\d+\]\.to\[\d+\](\.ipBlock(\.cidr)?)?$/, (c) => [c.from, c.to].every((v) => v === undefined || regionCidrs().has(typeof v === 'string' ? v : (v as any).ipBlock?.cidr ?? (v as any).cidr))],
    // dashboards are titled with their target
    [/^ConfigMap\/.*-dashboard$/, /^data\[".*\.json"\]\(json\)\.(title|uid)$/, (c) => String(c.from).includes('us-east-1') && String(c.to).includes('eu-west-1')],
  ];

  it('differ in no object, only in fields of the region overrides', () => {
    const d = diff();
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    const unexpected = d.changed.flatMap((o) => o.changes.filter((c) => !ALLOWED.some(([object, field, values]) => object.test(o.object) && field.test(c.path) && values(c)))
      .map((c) => `${o.object} ${c.path}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`));
    expect(unexpected).toEqual([]);
  });

  it('differ in each region override: ingress host, storage class, secret store, database endpoint', () => {
    const paths = diff().changed.flatMap((o) => o.changes.map((c) => `${o.object.split(' ')[0]} ${c.path}`));
    expect(paths).toEqual(expect.arrayContaining([
      'Ingress/gateway spec.rules[0].host',
      'StatefulSet/redis spec.volumeClaimTemplates[0].spec.storageClassName',
      `ClusterSecretStore/${us().secretStore.name} spec.provider.aws.region`,
      'ExternalSecret/gateway-secrets spec.secretStoreRef.name',
      'Service/postgres spec.externalName',
    ]));
  });
});

describe('npm run diff', () => {
  it('prints the semantic difference of two targets and exits 0', () => {
    const result = runDiff(['production-us-east-1', 'production-eu-west-1']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^production-us-east-1 → production-eu-west-1: 0 added, 0 removed, \d+ changed/);
    expect(result.stdout).toContain('~ Ingress/gateway\n    spec.rules[0].host: "api.us.trading.example.com" → "api.eu.trading.example.com"');
  });

  it('shows a promotion from staging to production: Rollouts and Schedules added, Deployments removed', () => {
    const result = runDiff(['staging', 'production-us-east-1']);
    expect(result.status).toBe(0);
    for (const line of ['+ Rollout/gateway', '+ Rollout/execution-gateway', '- Deployment/gateway', '+ Schedule/trading-prod-weekly', '+ AnalysisTemplate/gateway-pre-promotion']) {
      expect(result.stdout.split('\n')).toContain(line);
    }
  });

  it('refuses an unknown target, listing the known ones', () => {
    const result = runDiff(['staging', 'prod']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('diff: unknown target prod; targets: development, production-eu-west-1, production-us-east-1, staging\n');
  });
});
