/**
 * npm run synth [-- --target <name>]... [--check] [--config <dir>] [--out <dir>]
 *
 * Loads environments/, synthesizes every target in memory, checks policy, and only then writes
 * dist/ (atomically, folder by folder). With --check nothing is written: the command lists the
 * files that differ from dist/ and exits 1 when there are any.
 */
import { performance } from 'perf_hooks';
import { ConfigError, formatIssue } from '../config/errors';
import { maskSecrets } from '../lib/secret-scan';
import { capacityLine } from '../lib/capacity-readme';
import { OutputTree, Staging, diffTree, writeTree } from '../lib/output';
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
      case '--out': options.out = value(); break;
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

/** New target folders written while the other targets are built; removed again on any failure. */
let staging: Staging | undefined;

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseArgs(process.argv.slice(2));
  let outputs: TargetOutput[];
  const only = options.targets.length ? options.targets : undefined;
  if (!options.check) staging = new Staging(options.out);
  try {
    // a large platform's workers load the constructs while this thread reads the configuration
    const pool = poolFor(options.config);
    let configs = load().loadPlatform(options.config);
    if (options.targets.length) {
      const known = configs.map((c) => c.target);
      const unknown = options.targets.filter((t) => !known.includes(t));
      if (unknown.length) fail(`unknown target ${unknown.join(', ')}; targets: ${known.join(', ')}`);
      configs = configs.filter((c) => options.targets.includes(c.target));
    }
    // a large platform's targets arrive one by one: a folder new to the output is written aside
    // meanwhile (by the worker that built it), and moved in only when every target is valid
    outputs = await synthesizeInParallel(configs, pool ? Math.min(pool.size, configs.length) : undefined, pool,
      (output) => output.staged || staging?.stage(output.folder, output.files), staging && ((folder) => staging!.dirFor(folder)));
  } catch (error) {
    staging?.discard();
    if (error instanceof ConfigError) {
      console.error(`synth failed: ${error.issues.length} problem(s) in the configuration; nothing was written to ${options.out}/\n`);
      for (const issue of error.issues) console.error(`  ${formatIssue(issue)}`);
      process.exit(1);
    }
    if (error instanceof synth().SynthError) {
      console.error(`synth failed: ${error.problems.length} problem(s); nothing was written to ${options.out}/\n`);
      for (const problem of error.problems) console.error(`  ${maskSecrets(problem)}`);
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
      for (const d of differences) console.error(`  ${d.change.padEnd(8)} ${d.file}`);
      process.exit(1);
    }
    if (!options.quiet) console.log(summary(outputs.filter((o) => tree.has(o.folder)), performance.now() - started, `${options.out}/ is up to date:`));
    return;
  }
  writeTree(options.out, tree, only, staging!.commit());
  if (!options.quiet) console.log(summary(outputs.filter((o) => tree.has(o.folder)), performance.now() - started, 'wrote'));
}

main().catch(async (error) => {
  staging?.discard();
  // an internal error, not a configuration problem: say so plainly, stack only on request
  // its message may quote a value or a file: any secret in it is masked
  console.error(`synth: internal error: ${maskSecrets(String((error as Error)?.message ?? error))}`);
  if (process.env.DEBUG) console.error((error as Error).stack);
  else console.error('(set DEBUG=1 for the stack trace)');
  process.exit(2);
});
