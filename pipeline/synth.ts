/**
 * The targets: each built (its construct tree, validated, as manifests, with the namespace's quota
 * and drain checks), then finished (policy, API server rules, README, secret scan, YAML files).
 * dist/argocd is pipeline/delivery-synth.ts; what both give is pipeline/render.ts.
 */
import { App, Chart } from 'cdk8s';
import { TargetConfig } from '../config/types';
import { PlatformChart } from '../charts/platform-chart';
import { checkApiServerRules } from './api-server-check';
import { Capacity, capacityOf, capacityProblems, drainProblems } from './capacity';
import { assembleOutputs } from './delivery-synth';
import { chartsToJson } from './speedups';
import { Manifest } from '../core/manifest';
import { checkPolicies } from './policy';
import { FileSink, formatViolation, renderFilesTo, SynthError, TargetOutput, TargetResult } from './render';
import { secretProblems } from './secret-check';
import { withDeliveryAnnotations } from '../core/sync-waves';
import { renderTargetReadme } from './target-readme';

export { assembleOutputs, synthDelivery } from './delivery-synth';
export { formatViolation, renderFiles, SynthError, toYaml } from './render';
export type { TargetOutput, TargetResult } from './render';

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

/**
 * The second half of `synthTargetResult`: checks policy, scans for secrets and renders a built
 * target. With `write`, its files go there as they are rendered, once every check has passed,
 * and the output holds none.
 */
export function finishTarget(config: TargetConfig, built: BuiltTarget, write?: FileSink): TargetResult {
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
    const files = new Map<string, string>();
    const sink: FileSink = write ?? ((name, content) => files.set(name, content));
    renderFilesTo(config.target, manifests, sink);
    sink('README.md', readme!);
    return { output: { folder: config.target, manifests, files, capacity }, problems: [] };
  } catch (error) {
    if (error instanceof SynthError) return { problems: error.problems };
    throw error;
  }
}

/** Builds, validates, checks policy, scans for secrets and renders one target (to `write`, if given: see `finishTarget`). */
export function synthTargetResult(config: TargetConfig, write?: FileSink): TargetResult {
  return finishTarget(config, buildTarget(config), write);
}

/**
 * Synthesizes every target: builds, validates, checks policy, renders. Nothing is written here;
 * throws SynthError listing every problem of every target.
 */
export function synthesizeAll(configs: readonly TargetConfig[]): TargetOutput[] {
  return assembleOutputs(
    configs,
    configs.map((config) => synthTargetResult(config)),
  );
}
