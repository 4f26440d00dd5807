/**
 * npm run synth [-- --target <name>]... [--check] [--config <dir>] [--out <dir>]
 *
 * Loads environments/, synthesizes every target in memory, checks policy, and only then writes
 * dist/ (atomically, folder by folder). With --check nothing is written: the command lists the
 * files that differ from dist/ and exits 1 when there are any.
 */
import { performance } from 'perf_hooks';
import { ConfigError, formatIssue } from '../config/errors';
import { maskSecrets } from '../core/secret-scan';
import { capacityLine } from '../pipeline/capacity-readme';
import * as fs from 'fs';
import * as path from 'path';
import { AMOUNT_KEYS, format, headroomPercent, QUOTA_KEY } from '../pipeline/capacity';
import {
  checkDestination,
  CommitResult,
  diffTree,
  FolderChange,
  OutputError,
  OutputTree,
  OutputWriter,
  WORK,
} from '../pipeline/output';
import { poolFor, synthesizeInParallel } from '../pipeline/parallel-synth';
import type { TargetOutput } from '../pipeline/render';
import { stockSettingProblem } from '../pipeline/speedups/switch';

// Loaded when needed, not at start: the worker pool of a large platform starts first, so the
// workers load the constructs while this thread reads the configuration.
/* eslint-disable @typescript-eslint/no-require-imports -- deliberate lazy loads, see above */
const load = (): typeof import('../config/load') => require('../config/load');
const render = (): typeof import('../pipeline/render') => require('../pipeline/render');
const delivery = (): typeof import('../charts/delivery-chart') => require('../charts/delivery-chart');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Options {
  check: boolean;
  targets: string[];
  config: string;
  out: string;
  quiet: boolean;
  list: boolean;
  stdout: boolean;
}

const HELP = `usage: npm run synth -- [options]      (or node build/bin/synth.js [options])

Synthesizes the configuration (environments/) into dist/: one folder per target and argocd/.
Writes only changed folders, all together or none; prints what was added, changed and removed.

options (each also as --flag=value):
  --target, -t <name>   only this target (repeatable); other folders, and argocd/, are left alone
  --check               write nothing; exit 1 listing every file missing from, differing in or extra
                        in the output, with a short diff (CI runs it)
  --config <dir>        the configuration folder (default environments)
  --out <dir>           the output folder (default dist); it must be synth's own: marked by
                        .synth-output, or empty, or new
  --list                list the targets with their cluster, namespace and API server; write nothing
  --stdout              print one target (--target <name>) as multi-document YAML; write nothing
                        (through npm: npm run -s synth -- ..., as -s keeps npm's banner out of the YAML)
  --quiet, -q           print only problems and warnings
  --help, -h            this help

exit codes: 0 done (or up to date), 1 configuration or policy problems (or --check found
differences), 2 usage or output-folder problems (nothing written).
Warns when a target's maximum scale leaves less than 10 % of its quota.`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    check: false,
    targets: [],
    config: 'environments',
    out: 'dist',
    quiet: false,
    list: false,
    stdout: false,
  };
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${arg} needs a value; see --help`);
      return v;
    };
    const flag = () => {
      if (inline !== undefined) fail(`${arg} takes no value; see --help`);
    };
    switch (arg) {
      case '--check':
        flag();
        options.check = true;
        break;
      case '--target':
      case '-t': {
        const target = value();
        if (target.trim() === '') fail(`${arg} needs a target name; see --list`);
        options.targets.push(target);
        break;
      }
      case '--config':
        options.config = value();
        break;
      case '--out':
        outGiven = true;
        options.out = value();
        if (options.out.trim() === '') fail('--out needs a folder name (the folder synth writes, dist/ by default)');
        break;
      case '--quiet':
      case '-q':
        flag();
        options.quiet = true;
        break;
      case '--list':
        flag();
        options.list = true;
        break;
      case '--stdout':
        flag();
        options.stdout = true;
        break;
      case '--help':
      case '-h':
        flag();
        console.log(HELP);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        fail(`unknown argument ${argv[i]}; see --help`);
    }
  }
  // a mistyped CI command (--list --check) must not pass by only listing
  const notWithList = [
    options.check && '--check',
    options.stdout && '--stdout',
    options.targets.length > 0 && '--target',
    outGiven && '--out',
  ].filter(Boolean);
  if (options.list && notWithList.length)
    fail(
      `--list only lists the targets; ${notWithList.join(' and ')} ${notWithList.length > 1 ? 'do' : 'does'} not go with it`,
    );
  if (options.stdout && options.targets.length !== 1)
    fail(
      options.targets.length
        ? '--stdout prints one target: give --target once'
        : '--stdout prints one target: add --target <name>',
    );
  if (options.stdout && options.check) fail('--stdout and --check do not go together');
  if (options.stdout && outGiven) fail('--stdout writes nothing, so --out does not go with it');
  return options;
}

function fail(message: string): never {
  console.error(`synth: ${message}`);
  process.exit(2);
}

/** Up to `max` names, then a count. */
const names = (list: readonly string[], max = 4) =>
  list.slice(0, max).join(', ') + (list.length > max ? ` and ${list.length - max} more` : '');

function describeChange(change: FolderChange | undefined): string {
  if (!change) return 'unchanged';
  if (change.whole === 'removed') return 'removed (no longer produced)';
  if (change.whole === 'added') return `new folder, ${change.added.length} file(s)`;
  const parts: string[] = [];
  if (change.added.length) parts.push(`added ${change.added.length}: ${names(change.added)}`);
  if (change.changed.length) parts.push(`changed ${change.changed.length}: ${names(change.changed)}`);
  if (change.removed.length) parts.push(`removed ${change.removed.length}: ${names(change.removed)}`);
  return parts.join('; ') || 'rewritten';
}

function summary(outputs: TargetOutput[], ms: number, verb: string, changes?: readonly FolderChange[]): string {
  const lines: string[] = [];
  for (const output of outputs) {
    const kinds = new Map<string, number>();
    for (const m of output.manifests) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
    const list = [...kinds.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(`  ${output.folder.padEnd(22)} ${String(output.manifests.length).padStart(4)} objects: ${list}`);
    const capacity = output.capacity;
    if (capacity?.workloads.length)
      lines.push(`  ${''.padEnd(22)}      capacity at max + surge / quota: ${capacityLine(capacity)}`);
    if (changes)
      lines.push(`  ${''.padEnd(22)}      ${describeChange(changes.find((c) => c.folder === output.folder))}`);
  }
  for (const change of changes?.filter((c) => c.whole === 'removed') ?? [])
    lines.push(`  ${change.folder.padEnd(22)} ${describeChange(change)}`);
  const total = outputs.reduce((n, o) => n + o.manifests.length, 0);
  const { DELIVERY_FOLDER } = delivery();
  const targets = outputs.filter((o) => o.folder !== DELIVERY_FOLDER).length;
  lines.push(
    `${verb} ${total} objects in ${targets} targets${outputs.length > targets ? ` and ${DELIVERY_FOLDER}/` : ''} in ${Math.round(ms)} ms`,
  );
  return lines.join('\n');
}

/** Targets whose maximum scale leaves less than 10 % of a quota (synth refuses more than 100 %). */
function headroomWarnings(outputs: readonly TargetOutput[]): string[] {
  const warnings: string[] = [];
  for (const output of outputs) {
    const capacity = output.capacity;
    if (!capacity?.workloads.length) continue;
    for (const key of [...AMOUNT_KEYS, 'pods' as const]) {
      const headroom = headroomPercent(capacity.atMax[key], capacity.quota[key]);
      if (headroom !== undefined && headroom < 10) {
        warnings.push(
          `${output.folder}: ${QUOTA_KEY[key]} at maximum scale plus surge is ${format(key, capacity.atMax[key])} of a quota of ` +
            `${format(key, capacity.quota[key]!)}: ${headroom} % headroom (below 10 %); raise the quota or lower the maximum`,
        );
      }
    }
  }
  return warnings;
}

/** A unified diff of one file, at most `maxLines` lines. */
function shortDiff(file: string, onDisk: string, wanted: string, maxLines = 20): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a file differs
  const { createTwoFilesPatch } = require('diff') as typeof import('diff'); // only when a file differs
  const patch = createTwoFilesPatch(`${file} (on disk)`, `${file} (synth)`, onDisk, wanted, undefined, undefined, {
    context: 2,
  });
  const lines = patch
    .split('\n')
    .filter((l) => !l.startsWith('=') && l !== '\\ No newline at end of file')
    .slice(0, -1);
  const body = lines.slice(0, maxLines);
  if (lines.length > maxLines) body.push(`... ${lines.length - maxLines} more line(s)`);
  return body;
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
  // a SYNTH_STOCK that names no speed-up is the caller's mistake, said as such
  const stock = stockSettingProblem();
  if (stock) fail(stock);
  let outputs: TargetOutput[];
  const only = options.targets.length ? options.targets : undefined;
  try {
    // checked, locked and cleaned up after a killed run before anything is synthesized
    if (!options.check && !options.list && !options.stdout) writer = OutputWriter.open(options.out);
    for (const line of writer?.recovered ?? []) console.error(`synth: ${line}`);
    if (writer?.restored.length && only) {
      // a restored folder is the old copy a killed run set aside, unverified: only a full synth rewrites it
      throw new OutputError(
        `an interrupted synth was recovered (${writer.restored.join(', ')} put back); ` +
          'run a full `npm run synth` (without --target) to rewrite every folder',
      );
    }
    // a large platform's workers load the constructs while this thread reads the configuration
    const pool = poolFor(options.config);
    const platform = load().loadPlatform(options.config);
    let configs = platform;
    if (options.targets.length) {
      const known = configs.map((c) => c.target);
      const unknown = options.targets.filter((t) => !known.includes(t));
      if (unknown.length) {
        writer?.discard();
        fail(`unknown target ${unknown.join(', ')}; targets: ${known.join(', ')}`);
      }
      configs = configs.filter((c) => options.targets.includes(c.target));
    }
    if (options.list) {
      await pool?.close();
      const rows = configs.map((c) => [c.target, c.cluster.name, c.namespace, c.delivery.server]);
      const widths = [0, 1, 2].map((i) =>
        Math.max(...[['target', 'cluster', 'namespace'][i], ...rows.map((r) => r[i])].map((x) => x.length)),
      );
      for (const row of [['target', 'cluster', 'namespace', 'API server'], ...rows])
        console.log(row.map((x, i) => (i < 3 ? x.padEnd(widths[i]) : x)).join('  '));
      return;
    }
    // the rules on the targets' configuration that dist/argocd needs hold for all of them, also in a
    // --target run, which builds no other target: it never writes (or passes --check with) what a
    // full synth refuses. --stdout writes nothing: one target is printed whatever the others hold
    if (only && !options.stdout) {
      const { DELIVERY_FOLDER, validateTargetConfigs } = delivery();
      const across = validateTargetConfigs(platform);
      if (across.length) throw new (render().SynthError)(across.map((problem) => `${DELIVERY_FOLDER}: ${problem}`));
    }
    // a large platform's targets arrive one by one: each is staged meanwhile (a folder new to the
    // output by the worker that built it; of one that exists, the worker sends only the files that
    // differ), and all are swapped in only when every target is valid
    outputs = await synthesizeInParallel(
      configs,
      pool ? Math.min(pool.size, configs.length) : undefined,
      pool,
      writer &&
        ((output) =>
          output.staged ? writer!.placed(output.folder) : writer!.stage(output.folder, output.files, output.unchanged)),
      writer
        ? (folder) => writer!.destinationFor(folder)
        : options.check
          ? (folder) => checkDestination(options.out, folder)
          : undefined,
    );
  } catch (error) {
    writer?.discard();
    if (error instanceof OutputError) refuse(error);
    if (error instanceof ConfigError) {
      console.error(
        `synth failed: ${error.issues.length} problem(s) in the configuration; nothing was written to ${options.out}/\n`,
      );
      for (const issue of error.issues) console.error(`  ${formatIssue(issue)}`);
      process.exit(1);
    }
    if (error instanceof render().SynthError) {
      console.error(`synth failed: ${error.problems.length} problem(s); nothing was written to ${options.out}/\n`);
      for (const problem of error.problems) console.error(`  ${maskSecrets(problem)}`);
      process.exit(1);
    }
    throw error;
  }

  // dist/argocd is made from all targets at once: with --target it is neither written nor checked
  const tree: OutputTree = new Map(
    outputs.filter((o) => !only || only.includes(o.folder)).map((o) => [o.folder, o.files]),
  );
  if (options.stdout) {
    process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 2)); // `| head`
    const output = outputs.find((o) => o.folder === options.targets[0])!;
    const docs = [...output.files]
      .filter(([file]) => file.endsWith('.yaml'))
      .map(([, content]) => `---\n${content.replace(/^---\n/, '')}`);
    process.stdout.write(docs.join(''));
    return;
  }
  if (options.check) {
    const unchanged = new Map(outputs.flatMap((o) => (o.unchanged ? [[o.folder, o.unchanged] as const] : [])));
    const differences = diffTree(options.out, tree, only, unchanged);
    if (differences.length) {
      const command =
        options.config === 'environments'
          ? 'npm run synth'
          : `npm run synth -- --config ${options.config} --out ${options.out} (or npm run synth:examples)`;
      console.error(
        `${options.out}/ is stale: ${differences.length} file(s) missing, differing or extra against what synth produces from ${options.config}/\n`,
      );
      // a synth killed while it swapped folders leaves its work folder (and a folder moved aside)
      if (fs.existsSync(path.join(options.out, WORK)))
        console.error(
          `  ${options.out}/${WORK}/ is there: a synth was interrupted while it wrote ${options.out}/. Run ${command}: it puts the interrupted change back whole first, then writes.\n`,
        );
      const MAX_DIFFS = 5;
      const MAX_DIFF_BYTES = 16 * 1024 * 1024;
      let shown = 0;
      let capped = false;
      for (const d of differences) {
        console.error(`  ${d.change.padEnd(8)} ${d.file}${d.note ? ` (${d.note})` : ''}`);
        if (d.change !== 'differs') continue;
        if (shown >= MAX_DIFFS) {
          capped = true;
          continue;
        }
        const rel = path.relative(options.out, d.file);
        const folder = rel.split(path.sep)[0];
        const wanted = tree.get(folder)?.get(
          rel
            .slice(folder.length + 1)
            .split(path.sep)
            .join('/'),
        );
        if (wanted === undefined) continue; // compared by a worker, then changed meanwhile: its note says so
        shown++;
        const size = fs.statSync(d.file).size;
        if (size > MAX_DIFF_BYTES) {
          console.error(`      (${size} bytes on disk, ${Buffer.byteLength(wanted)} from synth: too large to show)`);
          continue;
        }
        const onDisk = fs.readFileSync(d.file, 'utf8');
        if (onDisk === wanted)
          console.error('      (the same text once decoded, but bytes on disk that are not valid UTF-8)');
        else for (const line of shortDiff(d.file, onDisk, wanted)) console.error(`      ${line}`);
      }
      if (capped) console.error(`  (diffs shown for the first ${MAX_DIFFS} differing files)`);
      console.error(
        `\n${options.out}/ is generated: do not edit it by hand (synth replaces hand edits). Change the configuration in ${options.config}/, ` +
          `then run ${command} and commit ${options.out}/ with it.`,
      );
      process.exit(1);
    }
    if (!options.quiet)
      console.log(
        summary(
          outputs.filter((o) => tree.has(o.folder)),
          performance.now() - started,
          `${options.out}/ is up to date:`,
        ),
      );
    return;
  }
  let result: CommitResult;
  try {
    for (const output of outputs)
      if (tree.has(output.folder) && !output.staged) writer!.stage(output.folder, output.files);
    result = writer!.commit([...tree.keys()], only);
    for (const warning of [...result.warnings, ...headroomWarnings(outputs)])
      console.error(`synth: warning: ${warning}`);
  } catch (error) {
    if (error instanceof OutputError) refuse(error);
    throw error;
  }
  if (process.env.CDK8S_OUTDIR)
    mirrorForCdk8s(
      process.env.CDK8S_OUTDIR,
      options.out,
      outputs.filter((o) => tree.has(o.folder)),
    );
  const log = process.env.CDK8S_OUTDIR ? console.error : console.log; // the cdk8s CLI swallows the app's stdout
  if (!options.quiet) {
    const written = outputs.filter((o) => tree.has(o.folder));
    const changed = result.changes.length;
    const verb = changed
      ? `${options.out}/: ${changed} folder(s) changed, ${written.length - result.changes.filter((c) => c.whole !== 'removed').length} unchanged;`
      : `${options.out}/ unchanged:`;
    log(summary(written, performance.now() - started, verb, result.changes));
  }
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
    // a folder a worker wrote, or compared (sending only what changed), is read back in the order synth writes files
    const files =
      output.staged || output.unchanged
        ? new Map(
            fs
              .readdirSync(path.join(out, output.folder))
              .sort(new Intl.Collator().compare)
              .map((f) => [f, fs.readFileSync(path.join(out, output.folder, f), 'utf8')]),
          )
        : output.files;
    const docs = [...files]
      .filter(([file]) => file.endsWith('.yaml'))
      .map(([, content]) => content.replace(/^---\n/, ''));
    fs.writeFileSync(path.join(scratch, `${output.folder}.k8s.yaml`), docs.map((d) => `---\n${d}`).join(''));
  }
}

main().catch(async (error) => {
  writer?.discard();
  // an internal error, not a configuration problem: say so plainly, stack only on request
  // its message may quote a value or a file: any secret in it is masked
  console.error(`synth: internal error: ${maskSecrets(String((error as Error)?.message ?? error))}`);
  if (process.env.DEBUG) console.error((error as Error).stack);
  else console.error('(set DEBUG=1 for the stack trace)');
  process.exit(2);
});
