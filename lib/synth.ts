import { App, Chart, Yaml } from 'cdk8s';
import { TargetConfig } from '../config/types';
import { PlatformChart } from '../charts/platform-chart';
import { fileNameOf, Manifest } from './manifest';
import { checkPolicies, PolicyViolation } from './policy';
import { renderTargetReadme } from './target-readme';

/** Everything synthesized for one folder of dist/. */
export interface TargetOutput {
  /** The folder under dist/, e.g. `staging`. */
  readonly folder: string;
  readonly manifests: Manifest[];
  /** Relative file name → content; manifests first, then documentation Argo CD skips. */
  readonly files: Map<string, string>;
}

/** Problems found after the configuration was valid: construct validations and policy. */
export class SynthError extends Error {
  constructor(public readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SynthError';
  }
}

/** Builds the construct tree of one target and returns its manifests, validated. */
export function synthTarget(config: TargetConfig): Manifest[] {
  const app = new App({ outdir: 'unused' });
  const chart = new PlatformChart(app, config);
  const errors: string[] = [];
  for (const construct of chart.node.findAll()) {
    for (const message of construct.node.validate()) errors.push(`${config.target}: ${message}`);
  }
  if (errors.length) throw new SynthError(errors);
  const charts = chart.node.findAll().filter((c): c is Chart => c instanceof Chart);
  return charts.flatMap((c) => c.toJson() as Manifest[]);
}

/** Renders manifests into files, refusing two objects that would share a file. */
export function renderFiles(folder: string, manifests: readonly Manifest[]): Map<string, string> {
  const files = new Map<string, string>();
  const sorted = [...manifests].sort((a, b) => fileNameOf(a).localeCompare(fileNameOf(b)));
  for (const manifest of sorted) {
    const name = fileNameOf(manifest);
    if (files.has(name)) throw new SynthError([`${folder}: two objects would be written to ${name}; give one of them another name`]);
    files.set(name, Yaml.stringify(manifest));
  }
  return files;
}

/**
 * Synthesizes every target: builds, validates, checks policy, renders. Nothing is written here;
 * throws SynthError listing every problem of every target.
 */
export function synthesizeAll(configs: readonly TargetConfig[]): TargetOutput[] {
  const outputs: TargetOutput[] = [];
  const problems: string[] = [];
  for (const config of configs) {
    try {
      const manifests = synthTarget(config);
      const violations = checkPolicies(config, manifests);
      if (violations.length) {
        problems.push(...violations.map(formatViolation));
        continue;
      }
      const files = renderFiles(config.target, manifests);
      files.set('README.md', renderTargetReadme(config, manifests));
      outputs.push({ folder: config.target, manifests, files });
    } catch (error) {
      if (error instanceof SynthError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (problems.length) throw new SynthError(problems);
  return outputs;
}

export function formatViolation(v: PolicyViolation): string {
  return `${v.target}: ${v.kind}/${v.name}: ${v.field}: ${v.message}; fix: ${v.fix}`;
}
