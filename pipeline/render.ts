/**
 * What synthesis gives and how it is written: a folder's output, the problems that refuse a target,
 * and manifests rendered as YAML files. Shared by the targets (pipeline/synth.ts) and dist/argocd
 * (pipeline/delivery-synth.ts), and light to load: the command's own thread needs only this and
 * the delivery side while the workers build the targets.
 */
import type { Capacity } from './capacity';
import { toYamlDocument } from './speedups';
import { fileNameOf, Manifest } from '../core/manifest';
import type { PolicyViolation } from './policy';

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
  /**
   * Files the same as in the target's folder of the output, which a synth worker compared them
   * with, each with what identified the file then (pipeline/output.ts `FolderComparison`);
   * `files` holds the others.
   */
  readonly unchanged?: ReadonlyMap<string, string>;
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

/** Where rendered files go, each as soon as it is rendered: relative file name and content. */
export type FileSink = (name: string, content: string) => void;

/**
 * What the synth worker that finishes a target does with its files (pipeline/parallel-synth.ts):
 * writes them into `stageDir`, a new folder, or compares them with `compareDir`, the target's
 * folder in the output, and sends back only those that differ (pipeline/output.ts).
 */
export type FileDestination = { readonly stageDir: string } | { readonly compareDir: string };

/** Renders manifests into files, refusing two objects that would share a file. */
export function renderFiles(folder: string, manifests: readonly Manifest[]): Map<string, string> {
  const files = new Map<string, string>();
  renderFilesTo(folder, manifests, (name, content) => files.set(name, content));
  return files;
}

/**
 * `renderFiles`, each file handed to `write` as soon as it is rendered, in the same order: a
 * 1,000-service target's files are ~45 MB of text, which the garbage collector would otherwise
 * copy while they wait together. The file names are checked before anything is written.
 */
export function renderFilesTo(folder: string, manifests: readonly Manifest[], write: FileSink): void {
  // the order of localeCompare, with one collator instead of one per comparison
  const collator = new Intl.Collator();
  const named = manifests
    .map((manifest) => ({ manifest, name: fileNameOf(manifest) }))
    .sort((a, b) => collator.compare(a.name, b.name));
  const names = new Set<string>();
  for (const { name } of named) {
    if (names.has(name))
      throw new SynthError([`${folder}: two objects would be written to ${name}; give one of them another name`]);
    names.add(name);
  }
  for (const { manifest, name } of named) write(name, toYaml(manifest));
}

/** What one target gave: its output, or the problems that refused it. */
export interface TargetResult {
  readonly output?: TargetOutput;
  readonly problems: string[];
}

/** A policy violation as one line of synth's report: target, object, field, what is wrong, and the fix. */
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
