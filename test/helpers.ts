import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { load as loadYaml } from 'js-yaml';
import { ConfigError, ConfigIssue } from '../config/errors';
import { loadPlatform } from '../config/load';
import { TargetConfig } from '../config/types';
import { Manifest } from '../core/manifest';
import { checkPolicies, PolicyViolation } from '../pipeline/policy';
import { synthesizeAll, TargetOutput } from '../pipeline/synth';

/** The repository root: tests run compiled (from build/test), with the repository as cwd. */
export const ROOT = process.cwd();
/** The compiled project next to this compiled file (build/ or another outDir). */
export const BUILD = path.resolve(__dirname, '..');
export const ENVIRONMENTS = path.join(ROOT, 'environments');
export const SHARED = path.resolve(ROOT, '..', 'shared');

let reference: { configs: TargetConfig[]; outputs: TargetOutput[] } | undefined;

/** The reference platform, loaded and synthesized once per test file. */
export function referencePlatform(): { configs: TargetConfig[]; outputs: TargetOutput[] } {
  if (!reference) {
    const configs = loadPlatform(ENVIRONMENTS);
    reference = { configs, outputs: synthesizeAll(configs) };
  }
  return reference;
}

/** Manifests of one target of the reference platform. */
export function manifestsOf(target: string): Manifest[] {
  const output = referencePlatform().outputs.find((o) => o.folder === target);
  if (!output) throw new Error(`no target ${target}`);
  return output.manifests;
}

export function configOf(target: string): TargetConfig {
  const config = referencePlatform().configs.find((c) => c.target === target);
  if (!config) throw new Error(`no target ${target}`);
  return config;
}

/**
 * The targets of the reference platform, read from environments/ on their own (not through the
 * loader under test): one per environment file, one per region of an environment with `regions:`.
 * Adding an environment adds its target to every test that runs per target.
 */
export const TARGETS: readonly string[] = targetsIn(ENVIRONMENTS);

export function targetsIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'defaults.yaml')
    .sort()
    .flatMap((f) => {
      const environment = f.replace(/\.ya?ml$/, '');
      const data = loadYaml(fs.readFileSync(path.join(dir, f), 'utf8')) as { regions?: Record<string, unknown> } | null;
      return data?.regions ? Object.keys(data.regions).map((region) => `${environment}-${region}`) : [environment];
    });
}

/** The four targets and seven services PLATFORM.md describes (tests that check its figures by hand). */
export const PLATFORM_TARGETS: readonly string[] = [
  'development',
  'staging',
  'production-us-east-1',
  'production-eu-west-1',
];
export const PLATFORM_SERVICES: readonly string[] = [
  'gateway',
  'data-service',
  'signal-service',
  'ml-service',
  'orchestrator',
  'execution-gateway',
  'redis',
];

/** A scratch copy of environments/ (or of `from`) in a temp dir; returns its path. */
export function copyEnvironments(from = ENVIRONMENTS): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envs-'));
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(dir, f));
  return dir;
}

/** The problems `loadPlatform` refuses `dir` with; fails the test when it loads. */
export function configIssues(dir: string): ConfigIssue[] {
  try {
    loadPlatform(dir);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error(`${dir} loaded, but the test expects it to be refused`);
}

/** Replaces `search` (which must occur) in a file of a scratch environments dir. */
export function edit(dir: string, file: string, search: string | RegExp, replacement: string): void {
  const full = path.join(dir, file);
  const text = fs.readFileSync(full, 'utf8');
  const next = text.replace(search, replacement);
  if (next === text) throw new Error(`edit: ${String(search)} not found in ${file}`);
  fs.writeFileSync(full, next);
}

/** Runs the compiled synth CLI. */
export function runSynth(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(BUILD, 'bin', 'synth.js'), ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A digest of every file under a directory (names and contents), to prove it did not change. */
export function treeDigest(dir: string): string {
  const hash = crypto.createHash('sha256');
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, entry.name);
      hash.update(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
      else hash.update(fs.readFileSync(full));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return hash.digest('hex');
}

/**
 * The reference production objects with one object replaced by a mutated copy, checked against the
 * target's configuration (or a mutated copy of it, for rules derived from the configuration).
 */
export function withMutation(
  kind: string,
  name: string,
  mutate: (m: any) => void,
  target = 'production-us-east-1',
  mutateConfig?: (c: any) => void,
): PolicyViolation[] {
  const manifests = manifestsOf(target).map((m) => {
    if (m.kind !== kind || m.metadata.name !== name) return m;
    const copy = JSON.parse(JSON.stringify(m));
    mutate(copy);
    return copy;
  });
  const config = JSON.parse(JSON.stringify(configOf(target))) as TargetConfig;
  mutateConfig?.(config);
  return checkPolicies(config, manifests);
}
