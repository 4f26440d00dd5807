import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as yaml from 'js-yaml';
import * as os from 'os';
import * as path from 'path';
import { derivedHost, derivedNamespace } from '../../bin/new-env-names';
import {
  BUILD,
  copyEnvironments,
  edit,
  ENVIRONMENTS,
  ROOT,
  runSynth,
  targetsIn,
  TARGETS,
  treeDigest,
} from '../helpers';

/** A name no environment of environments/ has yet (a user may have added qa). */
const NAME = ['qa', 'uat', 'perf', 'sandbox', 'new-env-test'].find(
  (n) => !TARGETS.some((t) => t === n || t.startsWith(`${n}-`)),
)!;

const environments = fs
  .readdirSync(ENVIRONMENTS)
  .filter((f) => f.endsWith('.yaml') && f !== 'defaults.yaml')
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

const newEnv = (args: string[]) =>
  spawnSync(process.execPath, [path.join(BUILD, 'bin', 'new-env.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

/** Synthesizes the platform in `dir` into a new folder: no problem, exit 0. */
function expectSynthesizes(dir: string): void {
  const synth = runSynth(['--config', dir, '--out', fs.mkdtempSync(path.join(os.tmpdir(), 'new-env-out-')), '--quiet']);
  expect(synth.stderr).toBe('');
  expect(synth.status).toBe(0);
}

describe('npm run new-env', () => {
  it('writes an environment file that synthesizes into its own folder, namespace and Argo CD Application', () => {
    const dir = copyEnvironments();
    const result = newEnv([NAME, '--from', 'staging', '--config', dir]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`wrote .*${NAME}\\.yaml .*target ${NAME}; review it, then npm run synth`));
    const written = yaml.load(fs.readFileSync(path.join(dir, `${NAME}.yaml`), 'utf8')) as Record<string, any>;
    const staging = yaml.load(fs.readFileSync(path.join(dir, 'staging.yaml'), 'utf8')) as Record<string, any>;
    expect(written).toEqual({
      ...staging,
      namespace: `trading-${NAME}`,
      ingress: { ...staging.ingress, host: `api.${NAME}.trading.example.com` },
      // on staging's cluster until its delivery.server changes: the ClusterSecretStore must not be staging's
      secretStore: { ...staging.secretStore, name: `${staging.secretStore.name}-${NAME}` },
    });
    expect(written.delivery.server).toBe(staging.delivery.server);
    // the copy keeps the comments that say why (thresholds) and the editor's schema line
    expect(fs.readFileSync(path.join(dir, `${NAME}.yaml`), 'utf8')).toMatch(
      new RegExp(
        `^# yaml-language-server: \\$schema=\\./schema\\.json\\n# Environment "${NAME}", copied from staging\\.yaml`,
      ),
    );

    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'new-env-out-'));
    const synth = runSynth(['--config', dir, '--out', out]);
    expect(synth.stderr).toBe('');
    expect(synth.status).toBe(0);
    const namespace = yaml.load(
      fs.readFileSync(path.join(out, NAME, `namespace-trading-${NAME}.yaml`), 'utf8'),
    ) as Record<string, any>;
    expect(namespace).toMatchObject({ kind: 'Namespace', metadata: { name: `trading-${NAME}` } });
    const application = yaml.load(
      fs.readFileSync(path.join(out, 'argocd', `application-trading-platform-${NAME}.yaml`), 'utf8'),
    ) as Record<string, any>;
    expect(application.spec.source.path).toMatch(new RegExp(`(^|/)${NAME}$`));
    expect(application.spec.destination.namespace).toBe(`trading-${NAME}`);
    expect(targetsIn(dir)).toContain(NAME);
  });

  it('copies an environment with regions into one target per region, each with cluster-wide names of its own, and it synthesizes', () => {
    const dir = copyEnvironments();
    const result = newEnv(['dr', '--from=production', '--config', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('targets dr-eu-west-1, dr-us-east-1');
    const written = yaml.load(fs.readFileSync(path.join(dir, 'dr.yaml'), 'utf8')) as Record<string, any>;
    expect(Object.values(written.priorityClasses).map((c: any) => c.name)).toEqual([
      'trading-critical-dr',
      'trading-high-dr',
    ]);
    expect(written.regions['us-east-1'].secretStore.name).toBe('aws-secrets-manager-us-east-1-dr');
    // the production clusters now hold both targets, with no object in common
    expectSynthesizes(dir);
  });

  it("warns when the copy inherits its source's cluster-wide name from a file both read (defaults.yaml)", () => {
    const dir = copyEnvironments();
    edit(dir, 'staging.yaml', 'secretStore:\n  name: aws-secrets-manager\n', 'secretStore:\n');
    fs.appendFileSync(path.join(dir, 'defaults.yaml'), '\nsecretStore:\n  name: aws-secrets-manager\n');
    const result = newEnv([NAME, '--from', 'staging', '--config', dir]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(
      `new-env: ${NAME} deploys to the cluster of staging (https://staging.k8s.trading.example.com) with the same secretStore.name "aws-secrets-manager" (set it to "aws-secrets-manager-${NAME}"), inherited from a file both read: set it in ${NAME}.yaml, or synth refuses the two targets\n`,
    );
  });

  it('keeps the names it derives within 63 characters, and renames a name written in a flow mapping', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'production.yaml',
      /  critical:\n    name: trading-critical\n    value: (\d+)\n    description: [^\n]*\n/,
      '  critical: { name: trading-critical, value: $1, description: Order routing }\n',
    );
    const long = 'capacity-planning-rehearsal-europe';
    const result = newEnv([long, '--from', 'production', '--config', dir]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const text = fs.readFileSync(path.join(dir, `${long}.yaml`), 'utf8');
    expect(text).toContain(
      `  critical: { name: trading-critical-${long}, value: 1000000, description: Order routing }\n`,
    );
    const written = yaml.load(text) as Record<string, any>;
    for (const region of ['us-east-1', 'eu-west-1']) {
      const store: string = written.regions[region].secretStore.name;
      expect(store.length).toBeLessThanOrEqual(63);
      expect(store.endsWith(`-${long}`)).toBe(true);
    }
    expectSynthesizes(dir);
  });

  it.each([
    [
      'an existing environment',
      ['staging', '--from', 'development'],
      1,
      /staging\.yaml already exists; choose another name/,
    ],
    [
      'an existing target',
      ['production-us-east-1', '--from', 'staging'],
      1,
      /"production-us-east-1" is already a target/,
    ],
    [
      'a name that is not a DNS-1123 label',
      ['QA_1', '--from', 'staging'],
      1,
      /"QA_1" is not a valid environment name: .*DNS-1123 label/,
    ],
    ['the Argo CD folder', ['argocd', '--from', 'staging'], 1, /"argocd" is reserved/],
    [
      'an unknown source',
      [NAME, '--from', 'stagin'],
      1,
      new RegExp(`--from stagin: no such environment .*; environments: ${environments.join(', ')}$`, 'm'),
    ],
    ['no --from', [NAME], 2, /--from <environment> is missing/],
  ])('refuses %s and writes nothing', (_, args, status, message) => {
    const dir = copyEnvironments();
    const before = treeDigest(dir);
    const result = newEnv([...(args as string[]), '--config', dir]);
    expect(result.status).toBe(status);
    expect(result.stderr).toMatch(message as RegExp);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(treeDigest(dir)).toBe(before);
  });

  it("derives the namespace and the ingress host from the source's", () => {
    expect(derivedNamespace('trading-staging', 'qa')).toBe('trading-qa');
    expect(derivedNamespace('payments', 'qa')).toBe('payments-qa');
    expect(derivedHost('api.staging.trading.example.com', 'staging', 'staging', 'qa')).toBe(
      'api.qa.trading.example.com',
    );
    expect(derivedHost('api.trading.example.com', 'production', 'prod', 'qa')).toBe('qa.api.trading.example.com');
  });
});
