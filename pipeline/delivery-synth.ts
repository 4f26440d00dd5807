/**
 * dist/argocd, made from all targets together after they are synthesized, and the targets' results
 * put together with it. Apart from pipeline/synth.ts, which builds the targets (every construct):
 * a command whose targets are built on worker threads loads only this on its own thread.
 */
import { App } from 'cdk8s';
import { TargetConfig } from '../config/types';
import { DELIVERY_FOLDER, DeliveryChart, DeliveryTarget } from '../charts/delivery-chart';
import { checkApiServerRules } from './api-server-check';
import { renderDeliveryReadme } from './delivery-readme';
import { Manifest } from '../core/manifest';
import { secretProblems } from './secret-check';
import { endSynthesis } from '../core/synthesis-memo';
import { formatViolation, renderFiles, SynthError, TargetOutput, TargetResult } from './render';

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
