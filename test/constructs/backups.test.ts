import { BackupSchedules } from '../../constructs/backups';
import { find, Manifest, ofKind } from '../../core/manifest';
import { Chart, Testing } from 'cdk8s';
import { checkPolicies } from '../../pipeline/policy';
import { crdErrors } from '../crd-schema';
import { configIssues, configOf, copyEnvironments, edit, manifestsOf, TARGETS } from '../helpers';

type Obj = Record<string, any>;

/** PLATFORM.md, "Environments": backups (Velero). */
const EXPECTED: Record<string, Array<{ name: string; schedule: string; ttl: string }>> = {
  development: [],
  staging: [{ name: 'trading-staging-daily', schedule: '0 2 * * *', ttl: '168h' }],
  'production-us-east-1': [
    { name: 'trading-prod-daily', schedule: '0 2 * * *', ttl: '720h' },
    { name: 'trading-prod-weekly', schedule: '0 3 * * 0', ttl: '2160h' },
  ],
  'production-eu-west-1': [
    { name: 'trading-prod-daily', schedule: '0 2 * * *', ttl: '720h' },
    { name: 'trading-prod-weekly', schedule: '0 3 * * 0', ttl: '2160h' },
  ],
};

describe.each(TARGETS)('Velero backups of %s', (target) => {
  const schedules = () => ofKind(manifestsOf(target), 'Schedule') as Obj[];

  it("schedule PLATFORM.md's backups: daily 02:00 UTC (7 days staging, 30 days production), weekly Sunday 03:00 UTC for 90 days in production", () => {
    // an environment added since has the Schedules its configuration lists
    const expected =
      EXPECTED[target] ??
      configOf(target).backups.map((b) => ({
        name: `${configOf(target).namespace}-${b.name}`,
        schedule: b.schedule,
        ttl: b.ttl,
      }));
    expect(
      schedules()
        .map((s) => ({ name: s.metadata.name, schedule: s.spec.schedule, ttl: s.spec.template.ttl }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual([...expected].sort((a, b) => a.name.localeCompare(b.name)));
  });

  it("back up the target namespace with volume snapshots, from Velero's namespace, and keep backups when a Schedule goes", () => {
    for (const s of schedules()) {
      expect(s.metadata.namespace).toBe('velero');
      expect(s.spec.template.includedNamespaces).toEqual([configOf(target).namespace]);
      expect(s.spec.template.snapshotVolumes).toBe(true);
      expect(s.spec.useOwnerReferencesInBackup).toBe(false);
      expect(crdErrors(s as Manifest)).toEqual([]);
    }
  });
});

describe('the namespace policy with backups', () => {
  it("accepts Schedules in Velero's namespace and refuses anything else there", () => {
    const config = configOf('staging');
    const manifests = manifestsOf('staging');
    expect(checkPolicies(config, manifests)).toEqual([]);
    const stray = {
      ...find(manifests, 'ConfigMap', 'feature-flags'),
      metadata: { name: 'stray', namespace: 'velero' },
    } as Manifest;
    expect(checkPolicies(config, [...manifests, stray])).toEqual([
      expect.objectContaining({
        rule: 'namespace-scope',
        kind: 'ConfigMap',
        name: 'stray',
        message: 'is "velero", where only Schedule may go (Velero reads Schedules in its own namespace)',
      }),
    ]);
  });

  it("refuses a Schedule in Velero's namespace for a target without backups", () => {
    const schedule = ofKind(manifestsOf('staging'), 'Schedule')[0];
    expect(checkPolicies(configOf('development'), [...manifestsOf('development'), schedule])).toEqual([
      expect.objectContaining({
        rule: 'namespace-scope',
        kind: 'Schedule',
        message: 'is "velero", expected "trading-dev"',
      }),
    ]);
  });
});

describe('extra namespaces of a backup schedule', () => {
  const synth = (extraNamespaces?: string[]) => {
    const config = configOf('staging');
    const chart = new Chart(Testing.app(), 'test', { namespace: config.namespace });
    new BackupSchedules(chart, 'backups', {
      namespace: config.namespace,
      schedules: [{ name: 'full', schedule: '0 3 * * 0', ttl: '2160h', extraNamespaces }],
    });
    return Testing.synth(chart) as Obj[];
  };

  it('backs up the target namespace first, then the extra ones, each once', () => {
    expect(synth(['kube-system'])[0].spec.template.includedNamespaces).toEqual(['trading-staging', 'kube-system']);
    expect(synth(['trading-staging', 'kube-system'])[0].spec.template.includedNamespaces).toEqual([
      'trading-staging',
      'kube-system',
    ]);
    expect(synth()[0].spec.template.includedNamespaces).toEqual(['trading-staging']);
    expect(crdErrors(synth(['kube-system'])[0] as Manifest)).toEqual([]);
  });

  it('fails when an extra namespace is not a DNS-1123 label, naming file, path and value', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'production.yaml',
      '{ name: weekly, schedule: "0 3 * * 0", ttl: 2160h }',
      '{ name: weekly, schedule: "0 3 * * 0", ttl: 2160h, extraNamespaces: [Kube_System] }',
    );
    const refused = configIssues(dir);
    const issue = refused.find((i) => i.path === 'backups[1].extraNamespaces[0]');
    expect(issue?.file).toMatch(/production\.yaml$/);
    expect(issue?.message).toMatch(/^"Kube_System" is not valid; expected a DNS-1123 label/);
  });
});
