/**
 * npm run synth [-- --target <name>]... [--check] [--config <dir>] [--out <dir>]
 *
 * Loads environments/, synthesizes every target in memory, checks policy, and only then writes
 * dist/ (atomically, folder by folder). With --check nothing is written: the command lists the
 * files that differ from dist/ and exits 1 when there are any.
 */
import { performance } from 'perf_hooks';
import { ConfigError, formatIssue } from '../config/errors';
import { capacityLine } from '../lib/capacity-readme';
import * as fs from 'fs';
import * as path from 'path';
import { OutputError, OutputTree, OutputWriter, diffTree } from '../lib/output';
import { poolFor, synthesizeInParallel } from '../lib/parallel-synth';
import type { TargetOutput } from '../lib/synth';

// Loaded when needed, not at start: the worker pool of a large platform starts first, so the
// workers load the constructs while this thread reads the configuration.
const load = (): typeof import('../config/load') => require('../config/load');
const synth = (): typeof import('../lib/synth') => require('../lib/synth');
const delivery = (): typeof import('../charts/delivery-chart') => require('../charts/delivery-chart');

interface Options {
  check: boolean;
  targets: string[];
  config: string;
  out: string;
  quiet: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { check: false, targets: [], config: 'environments', out: 'dist', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--check': options.check = true; break;
      case '--target': case '-t': options.targets.push(value()); break;
      case '--config': options.config = value(); break;
      case '--out':
        options.out = value();
        if (options.out.trim() === '') fail('--out needs a folder name (the folder synth writes, dist/ by default)');
        break;
      case '--quiet': case '-q': options.quiet = true; break;
      case '--help': case '-h':
        console.log('usage: npm run synth -- [--target <name>]... [--check] [--config <dir>] [--out <dir>] [--quiet]');
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default: fail(`unknown argument ${arg}; see --help`);
    }
  }
  return options;
}

function fail(message: string): never {
  console.error(`synth: ${message}`);
  process.exit(2);
}

function summary(outputs: TargetOutput[], ms: number, verb: string): string {
  const lines: string[] = [];
  for (const output of outputs) {
    const kinds = new Map<string, number>();
    for (const m of output.manifests) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
    const list = [...kinds.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`  ${output.folder.padEnd(22)} ${String(output.manifests.length).padStart(4)} objects: ${list}`);
    const capacity = output.capacity;
    if (capacity?.workloads.length) lines.push(`  ${''.padEnd(22)}      capacity at max + surge / quota: ${capacityLine(capacity)}`);
  }
  const total = outputs.reduce((n, o) => n + o.manifests.length, 0);
  const { DELIVERY_FOLDER } = delivery();
  const targets = outputs.filter((o) => o.folder !== DELIVERY_FOLDER).length;
  lines.push(`${verb} ${total} objects in ${targets} targets${outputs.length > targets ? ` and ${DELIVERY_FOLDER}/` : ''} in ${Math.round(ms)} ms`);
  return lines.join('\n');
}

/** The output folder being written (not with --check); left as it was on any failure. */
let writer: OutputWriter | undefined;

function refuse(error: OutputError): never {
  writer?.discard();
  console.error(`synth: ${error.message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseArgs(process.argv.slice(2));
  let outputs: TargetOutput[];
  const only = options.targets.length ? options.targets : undefined;
  try {
    // checked, locked and cleaned up after a killed run before anything is synthesized
    if (!options.check) writer = OutputWriter.open(options.out);
    for (const line of writer?.recovered ?? []) console.error(`synth: ${line}`);
    // a large platform's workers load the constructs while this thread reads the configuration
    const pool = poolFor(options.config);
    let configs = load().loadPlatform(options.config);
    if (options.targets.length) {
      const known = configs.map((c) => c.target);
      const unknown = options.targets.filter((t) => !known.includes(t));
      if (unknown.length) {
        writer?.discard();
        fail(`unknown target ${unknown.join(', ')}; targets: ${known.join(', ')}`);
      }
      configs = configs.filter((c) => options.targets.includes(c.target));
    }
    // a large platform's targets arrive one by one: each is staged meanwhile (a folder new to the
    // output by the worker that built it), and all are swapped in only when every target is valid
    outputs = await synthesizeInParallel(configs, pool ? Math.min(pool.size, configs.length) : undefined, pool,
      writer && ((output) => (output.staged ? writer!.placed(output.folder) : writer!.stage(output.folder, output.files))),
      writer && ((folder) => writer!.dirFor(folder)));
  } catch (error) {
    writer?.discard();
    if (error instanceof OutputError) refuse(error);
    if (error instanceof ConfigError) {
      console.error(`synth failed: ${error.issues.length} problem(s) in the configuration; nothing was written to ${options.out}/\n`);
      for (const issue of error.issues) console.error(`  ${formatIssue(issue)}`);
      process.exit(1);
    }
    if (error instanceof synth().SynthError) {
      console.error(`synth failed: ${error.problems.length} problem(s); nothing was written to ${options.out}/\n`);
      for (const problem of error.problems) console.error(`  ${problem}`);
      process.exit(1);
    }
    throw error;
  }

  // dist/argocd is made from all targets at once: with --target it is neither written nor checked
  const tree: OutputTree = new Map(outputs.filter((o) => !only || only.includes(o.folder)).map((o) => [o.folder, o.files]));
  if (options.check) {
    const differences = diffTree(options.out, tree, only);
    if (differences.length) {
      console.error(`${options.out}/ is stale: ${differences.length} file(s) differ from what synth produces; run ${options.config === 'environments' ? 'npm run synth' : `npm run synth -- --config ${options.config} --out ${options.out} (or npm run synth:examples)`} and commit ${options.out}/\n`);
      for (const d of differences) console.error(`  ${d.change.padEnd(8)} ${d.file}${d.note ? ` (${d.note})` : ''}`);
      process.exit(1);
    }
    if (!options.quiet) console.log(summary(outputs.filter((o) => tree.has(o.folder)), performance.now() - started, `${options.out}/ is up to date:`));
    return;
  }
  try {
    for (const output of outputs) if (tree.has(output.folder) && !output.staged) writer!.stage(output.folder, output.files);
    const result = writer!.commit([...tree.keys()], only);
    for (const warning of result.warnings) console.error(`synth: warning: ${warning}`);
  } catch (error) {
    if (error instanceof OutputError) refuse(error);
    throw error;
  }
  if (process.env.CDK8S_OUTDIR) mirrorForCdk8s(process.env.CDK8S_OUTDIR, options.out, outputs.filter((o) => tree.has(o.folder)));
  const log = process.env.CDK8S_OUTDIR ? console.error : console.log; // the cdk8s CLI swallows the app's stdout
  if (!options.quiet) log(summary(outputs.filter((o) => tree.has(o.folder)), performance.now() - started, 'wrote'));
}

/**
 * Run by the cdk8s CLI (`npx cdk8s synth`, cdk8s.yaml's `app`), which sets CDK8S_OUTDIR to a
 * scratch folder it empties first (build/cdk8s.out): after dist/ is written as `npm run synth`
 * writes it, the manifests are copied there too, one multi-document file per target, for the CLI
 * to list (or print, with --stdout). Never into the output folder itself.
 */
function mirrorForCdk8s(dir: string, out: string, outputs: TargetOutput[]): void {
  const scratch = path.resolve(dir);
  const real = path.resolve(out);
  if (scratch === real || scratch.startsWith(real + path.sep) || real.startsWith(scratch + path.sep)) return;
  fs.mkdirSync(scratch, { recursive: true });
  for (const output of outputs) {
    const files = output.files.size ? output.files : new Map(fs.readdirSync(path.join(out, output.folder)).map((f) => [f, fs.readFileSync(path.join(out, output.folder, f), 'utf8')]));
    const docs = [...files].filter(([file]) => file.endsWith('.yaml')).map(([, content]) => content.replace(/^---\n/, ''));
    fs.writeFileSync(path.join(scratch, `${output.folder}.k8s.yaml`), docs.map((d) => `---\n${d}`).join(''));
  }
}

main().catch(async (error) => {
  writer?.discard();
  // an internal error, not a configuration problem: say so plainly, stack only on request
  console.error(`synth: internal error: ${(error as Error).message}`);
  if (process.env.DEBUG) console.error((error as Error).stack);
  else console.error('(set DEBUG=1 for the stack trace)');
  process.exit(2);
});
