import { App, Chart } from 'cdk8s';
import { TargetConfig } from '../config/types';
import { DELIVERY_FOLDER, DeliveryChart, DeliveryTarget } from '../charts/delivery-chart';
import { PlatformChart } from '../charts/platform-chart';
import { checkApiServerRules } from './api-server-check';
import { Capacity, capacityOf, capacityProblems, drainProblems } from './capacity';
import { renderDeliveryReadme } from './delivery-readme';
import { chartsToJson, toYamlDocument } from './speedups';
import { fileNameOf, Manifest } from '../core/manifest';
import { checkPolicies, PolicyViolation } from './policy';
import { secretProblems } from './secret-check';
import { withDeliveryAnnotations } from '../core/sync-waves';
import { endSynthesis } from '../core/synthesis-memo';
import { renderTargetReadme } from './target-readme';

/** Everything synthesized for one folder of dist/. */
export interface TargetOutput {
  /** The folder under dist/, e.g. `staging`. */
  readonly folder: string;
  readonly manifests: Manifest[];
  /**
   * Relative file name → content; manifests first, then documentation Argo CD skips. Empty when
   * `staged`: a synth worker wrote the files to the folder it was given (pipeline/parallel-synth.ts).
   */
  readonly files: Map<string, string>;
  readonly staged?: boolean;
  /** Requests, limits and pods at minimum and maximum scale (targets only, not argocd/). */
  readonly capacity?: Capacity;
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
  return synthTargetWithCapacity(config).manifests;
}

/** `synthTarget`, with the capacity its quota and drain checks computed. */
function synthTargetWithCapacity(config: TargetConfig): { manifests: Manifest[]; capacity: Capacity } {
  const app = new App({ outdir: 'unused' });
  const chart = new PlatformChart(app, config);
  const errors: string[] = [];
  for (const construct of chart.node.findAll()) {
    for (const message of construct.node.validate()) errors.push(`${config.target}: ${message}`);
  }
  if (errors.length) throw new SynthError(errors);
  const constructs = chart.node.findAll();
  const charts = constructs.filter((c): c is Chart => c instanceof Chart);
  // Argo CD's sync wave (and server-side apply where needed) on every object, whoever made it
  const manifests = chartsToJson(charts, constructs).map((m) => withDeliveryAnnotations(config, m));
  // rules over the whole namespace (pipeline/capacity.ts): the quota holds maximum scale plus surge, no PDB blocks a drain
  const quotaFile = config.sources[config.sources.length - 1];
  const capacity = capacityOf(manifests);
  const refused = [
    ...capacityProblems(config.target, quotaFile, capacity),
    ...drainProblems(config, manifests, capacity),
  ];
  if (refused.length) throw new SynthError(refused);
  return { manifests, capacity };
}

/**
 * Builds dist/argocd from all targets at once: the AppProjects, one Application per target and
 * the root Application (charts/delivery-chart.ts), validated across targets.
 */
export function synthDelivery(targets: readonly DeliveryTarget[]): TargetOutput {
  const app = new App({ outdir: 'unused' });
  const chart = new DeliveryChart(app, DELIVERY_FOLDER, { targets });
  const errors = chart.node
    .findAll()
    .flatMap((c) => c.node.validate())
    .map((message) => `${DELIVERY_FOLDER}: ${message}`);
  if (errors.length) throw new SynthError(errors);
  const manifests = chart.toJson() as Manifest[];
  const readme = renderDeliveryReadme(targets, manifests);
  // no secret reaches dist/, whatever field it came through (pipeline/secret-check.ts)
  const leaks = secretProblems(DELIVERY_FOLDER, manifests, readme);
  if (leaks.length) throw new SynthError(leaks);
  const refused = checkApiServerRules(DELIVERY_FOLDER, manifests);
  if (refused.length) throw new SynthError(refused.map(formatViolation));
  const files = renderFiles(DELIVERY_FOLDER, manifests);
  files.set('README.md', readme);
  return { folder: DELIVERY_FOLDER, manifests, files };
}

/** Renders manifests into files, refusing two objects that would share a file. */
export function renderFiles(folder: string, manifests: readonly Manifest[]): Map<string, string> {
  const files = new Map<string, string>();
  // the order of localeCompare, with one collator instead of one per comparison
  const collator = new Intl.Collator();
  const named = manifests
    .map((manifest) => ({ manifest, name: fileNameOf(manifest) }))
    .sort((a, b) => collator.compare(a.name, b.name));
  for (const { manifest, name } of named) {
    if (files.has(name))
      throw new SynthError([`${folder}: two objects would be written to ${name}; give one of them another name`]);
    files.set(name, toYaml(manifest));
  }
  return files;
}

/** What one target gave: its output, or the problems that refused it. */
export interface TargetResult {
  readonly output?: TargetOutput;
  readonly problems: string[];
}

/**
 * One target built (the first half of `synthTargetResult`): its construct tree validated and turned
 * into manifests, the quota and drain checks of the whole namespace passed; or the problems that
 * refused it. Plain data, so a synth worker can hand it to another (pipeline/parallel-synth.ts).
 */
export interface BuiltTarget {
  readonly manifests?: Manifest[];
  readonly capacity?: Capacity;
  readonly problems: string[];
}

/** Builds and validates one target and checks its capacity (see `BuiltTarget`). */
export function buildTarget(config: TargetConfig): BuiltTarget {
  try {
    return { ...synthTargetWithCapacity(config), problems: [] };
  } catch (error) {
    if (error instanceof SynthError) return { problems: error.problems };
    throw error;
  }
}

/** The second half of `synthTargetResult`: checks policy, scans for secrets and renders a built target. */
export function finishTarget(config: TargetConfig, built: BuiltTarget): TargetResult {
  const { manifests, capacity } = built;
  if (!manifests) return { problems: built.problems };
  try {
    const problems = [...checkPolicies(config, manifests), ...checkApiServerRules(config.target, manifests)].map(
      formatViolation,
    );
    const readme = problems.length ? undefined : renderTargetReadme(config, manifests);
    // no secret reaches dist/, whatever field it came through (pipeline/secret-check.ts)
    problems.push(...secretProblems(config.target, manifests, readme));
    if (problems.length) return { problems };
    const files = renderFiles(config.target, manifests);
    files.set('README.md', readme!);
    return { output: { folder: config.target, manifests, files, capacity }, problems: [] };
  } catch (error) {
    if (error instanceof SynthError) return { problems: error.problems };
    throw error;
  }
}

/** Builds, validates, checks policy, scans for secrets and renders one target. */
export function synthTargetResult(config: TargetConfig): TargetResult {
  return finishTarget(config, buildTarget(config));
}

/**
 * Puts the targets' results together and adds dist/argocd, made from all targets at once;
 * throws SynthError listing every problem of every target.
 */
export function assembleOutputs(configs: readonly TargetConfig[], results: readonly TargetResult[]): TargetOutput[] {
  try {
    const problems = results.flatMap((r) => r.problems);
    if (problems.length) throw new SynthError(problems);
    const outputs = results.map((r) => r.output!);
    if (outputs.length) {
      const targets = outputs.map((output) => ({
        config: configs.find((c) => c.target === output.folder)!,
        manifests: output.manifests,
      }));
      outputs.push(synthDelivery(targets));
    }
    return outputs;
  } finally {
    // the last step of every synthesis, in one process or on workers: its memo tables go
    endSynthesis();
  }
}

/**
 * Synthesizes every target: builds, validates, checks policy, renders. Nothing is written here;
 * throws SynthError listing every problem of every target.
 */
export function synthesizeAll(configs: readonly TargetConfig[]): TargetOutput[] {
  return assembleOutputs(configs, configs.map(synthTargetResult));
}

export function formatViolation(v: PolicyViolation): string {
  return `${v.target}: ${v.kind}/${v.name}: ${v.field}: ${v.message}; fix: ${v.fix}`;
}

/**
 * One manifest as YAML: keys in the order cdk8s sorted them, no line folding, no anchors, and
 * strings a YAML 1.1 reader (kubectl, Argo CD) would take for booleans or numbers quoted
 * (js-yaml's `dump`; pipeline/speedups/ writes the same, faster).
 */
export function toYaml(manifest: Manifest): string {
  return toYamlDocument(manifest);
}
