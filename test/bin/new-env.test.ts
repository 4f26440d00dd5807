import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as yaml from 'js-yaml';
import * as os from 'os';
import * as path from 'path';
import { derivedHost, derivedNamespace } from '../../bin/new-env-names';
import { BUILD, copyEnvironments, ROOT, runSynth, targetsIn, treeDigest } from '../helpers';

const newEnv = (args: string[]) => spawnSync(process.execPath, [path.join(BUILD, 'bin', 'new-env.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

describe('npm run new-env', () => {
  it('writes an environment file that synthesizes into its own folder, namespace and Argo CD Application', () => {
    const dir = copyEnvironments();
    const result = newEnv(['qa', '--from', 'staging', '--config', dir]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/wrote .*qa\.yaml .*target qa; review it, then npm run synth/);
    const written = yaml.load(fs.readFileSync(path.join(dir, 'qa.yaml'), 'utf8')) as Record<string, any>;
    const staging = yaml.load(fs.readFileSync(path.join(dir, 'staging.yaml'), 'utf8')) as Record<string, any>;
    expect(written).toEqual({ ...staging, namespace: 'trading-qa', ingress: { ...staging.ingress, host: 'api.qa.trading.example.com' } });
    // the copy keeps the comments that say why (thresholds) and the editor's schema line
    expect(fs.readFileSync(path.join(dir, 'qa.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/schema\.json\n# Environment "qa", copied from staging\.yaml/);

    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'new-env-out-'));
    const synth = runSynth(['--config', dir, '--out', out]);
    expect(synth.stderr).toBe('');
    expect(synth.status).toBe(0);
    const namespace = yaml.load(fs.readFileSync(path.join(out, 'qa', 'namespace-trading-qa.yaml'), 'utf8')) as Record<string, any>;
    expect(namespace).toMatchObject({ kind: 'Namespace', metadata: { name: 'trading-qa' } });
    const application = yaml.load(fs.readFileSync(path.join(out, 'argocd', 'application-trading-platform-qa.yaml'), 'utf8')) as Record<string, any>;
    expect(application.spec.source.path).toMatch(/(^|\/)qa$/);
    expect(application.spec.destination.namespace).toBe('trading-qa');
    expect(targetsIn(dir)).toContain('qa');
  });

  it('copies an environment with regions into one target per region', () => {
    const dir = copyEnvironments();
    const result = newEnv(['dr', '--from=production', '--config', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('targets dr-eu-west-1, dr-us-east-1');
  });

  it.each([
    ['an existing environment', ['staging', '--from', 'development'], 1, /staging\.yaml already exists; choose another name/],
    ['an existing target', ['production-us-east-1', '--from', 'staging'], 1, /"production-us-east-1" is already a target/],
    ['a name that is not a DNS-1123 label', ['QA_1', '--from', 'staging'], 1, /"QA_1" is not a valid environment name: .*DNS-1123 label/],
    ['the Argo CD folder', ['argocd', '--from', 'staging'], 1, /"argocd" is reserved/],
    ['an unknown source', ['qa', '--from', 'stagin'], 1, /--from stagin: no such environment .*; environments: development, production, staging/],
    ['no --from', ['qa'], 2, /--from <environment> is missing/],
  ])('refuses %s and writes nothing', (_, args, status, message) => {
    const dir = copyEnvironments();
    const before = treeDigest(dir);
    const result = newEnv([...args as string[], '--config', dir]);
    expect(result.status).toBe(status);
    expect(result.stderr).toMatch(message as RegExp);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(treeDigest(dir)).toBe(before);
  });

  it('derives the namespace and the ingress host from the source\'s', () => {
    expect(derivedNamespace('trading-staging', 'qa')).toBe('trading-qa');
    expect(derivedNamespace('payments', 'qa')).toBe('payments-qa');
    expect(derivedHost('api.staging.trading.example.com', 'staging', 'staging', 'qa')).toBe('api.qa.trading.example.com');
    expect(derivedHost('api.trading.example.com', 'production', 'prod', 'qa')).toBe('qa.api.trading.example.com');
  });
});
