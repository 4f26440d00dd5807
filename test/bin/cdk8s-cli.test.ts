import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { BUILD, ROOT, treeDigest } from '../helpers';

/**
 * `npx cdk8s synth`, the stock cdk8s CLI as cdk8s.yaml configures it, run offline in a scratch
 * copy of the repository: it empties its `output` folder before it runs the app, so that folder
 * must not be dist/, and a failed app must leave the committed dist/ as it was.
 */
jest.setTimeout(600_000);

const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');

/** The tracked files of the repository in a scratch folder, node_modules linked; build/ as given. */
function scratchCopy(build: 'none' | 'linked'): string {
  const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-cli-')), 'repo');
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!fs.existsSync(path.join(ROOT, file))) continue;
    fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(copy, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  if (build === 'linked') {
    // the compiled project, entry by entry, so that the CLI's scratch output lands in the copy
    fs.mkdirSync(path.join(copy, 'build'));
    for (const entry of fs.readdirSync(BUILD))
      if (entry !== 'cdk8s.out') fs.symlinkSync(path.join(BUILD, entry), path.join(copy, 'build', entry));
  }
  return copy;
}

function cdk8sSynth(cwd: string, args: string[] = []) {
  const env = { ...process.env };
  delete env.CDK8S_OUTDIR;
  const result = spawnSync(CDK8S, ['synth', '--no-check-upgrade', ...args], { cwd, encoding: 'utf8', env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Breaks a configuration: staging's quota too small for its services. */
function breakConfig(copy: string): void {
  const file = path.join(copy, 'environments', 'staging.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const broken = text.replace('requests: { cpu: "20", memory: 40Gi,', 'requests: { cpu: "1", memory: 40Gi,');
  expect(broken).not.toBe(text);
  fs.writeFileSync(file, broken);
}

describe('npx cdk8s synth', () => {
  it('has a scratch output, never dist/, and an app that builds first', () => {
    const config = parse(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'));
    expect(path.normalize(config.output).split(path.sep)[0]).toBe('build'); // gitignored, not dist/
    expect(config.app).toMatch(/^npm run --silent build\b.*&& node build\/bin\/synth\.js$/);
  });

  it('on a fresh clone (no build/) with a configuration error: builds, refuses, and leaves the committed dist/ as it was', () => {
    const copy = scratchCopy('none');
    breakConfig(copy);
    const before = treeDigest(path.join(copy, 'dist'));
    const result = cdk8sSynth(copy);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('nothing was written to dist/');
    expect(result.stderr).toMatch(/staging: .*requests\.cpu/);
    expect(treeDigest(path.join(copy, 'dist'))).toBe(before);
    expect(fs.existsSync(path.join(copy, 'build', 'bin', 'synth.js'))).toBe(true); // it did build
  });

  it('with a valid configuration: writes dist/ as npm run synth does and hands the CLI one file per target', () => {
    // the app of cdk8s.yaml without its build step (built above and by `npm test`)
    const copy = scratchCopy('linked');
    const before = treeDigest(path.join(copy, 'dist'));
    fs.rmSync(path.join(copy, 'dist', 'staging'), { recursive: true });
    const result = cdk8sSynth(copy, ['--app', 'node build/bin/synth.js']);
    expect(result.stderr).toMatch(/^dist\/: 1 folder\(s\) changed, 4 unchanged; \d+ objects in 4 targets/m);
    expect(result.status).toBe(0);
    expect(treeDigest(path.join(copy, 'dist'))).toBe(before);
    expect(result.stdout).toContain('build/cdk8s.out/staging.k8s.yaml');
    const staging = fs.readFileSync(path.join(copy, 'build', 'cdk8s.out', 'staging.k8s.yaml'), 'utf8');
    expect(staging).toMatch(/^kind: Deployment$/m);
    // and with a configuration error afterwards, nothing in dist/ changes
    breakConfig(copy);
    const failed = cdk8sSynth(copy, ['--app', 'node build/bin/synth.js']);
    expect(failed.status).not.toBe(0);
    expect(treeDigest(path.join(copy, 'dist'))).toBe(before);
  });
});
