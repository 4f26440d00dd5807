/**
 * npm run bench [-- --runs N] [--services N] [--skip-stock] [--skip-loop] [--speedups] [--out-dir DIR]
 *
 * Prints wall time and peak memory of synthesizing (1) the reference platform, all targets, as
 * `npm run synth` runs it (compiled, node), and beside it in stock mode (`SYNTH_STOCK=1`: none of
 * the speed-ups of pipeline/speedups/), (2) the same app the stock cdk8s way (`cdk8s synth`
 * with ts-node), and (3) generated platforms of 250, 500 and 1,000 services x 3 targets, to show
 * that time grows linearly with services, each in stock mode too (three runs each, or `--runs N`);
 * the largest also synthesized again into the folder that holds its output (the user's loop:
 * nothing changed, every file compared), and (4) the edit loop: `npm run synth` exactly as the
 * README types it (build check included, nothing changed) against `kubectl kustomize` rendering
 * the same objects, one kustomization.yaml per target listing its dist/ files (skipped with a
 * note when kubectl is absent: test/cluster/build-assets.sh builds it; KUBECTL overrides the
 * path). With `--speedups`, each speed-up is also turned off alone (`SYNTH_STOCK=<name>`) on
 * the reference platform and the largest generated one: its gain is that run against the fast
 * one. Runs of the compared modes are taken in turns, so that all see the same machine.
 * Each synth of the reference and generated platforms writes into a new folder in the temporary
 * folder, or in DIR with `--out-dir` (e.g. /dev/shm, to tell the synth's own time from the
 * disk's; the kernel's part of the CPU time is printed beside each figure). The edit loop writes
 * dist/, as typed; the stock cdk8s runs write into the temporary folder.
 * Figures, not assertions: record them in BENCHMARKS.md.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { generatePlatform } from './bench-generate';
import { SPEEDUPS } from '../pipeline/speedups';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'build', 'bin');

/** Wall time, peak RSS of the largest process, CPU time of all node processes (user + system) and its system part. */
export interface Sample {
  wallMs: number;
  rssKiB: number;
  cpuMs: number;
  kernelMs: number;
}

/** One run of `command`, timed, its node processes' peak RSS and CPU read from the probe's file. */
export function measure(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Sample {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-'));
  try {
    return measureWith(path.join(scratch, 'rss'), command, args, options);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function measureWith(
  probe: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): Sample {
  const started = performance.now();
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: {
      ...process.env,
      ...options.env,
      BENCH_PROBE_FILE: probe,
      NODE_OPTIONS: `--require ${path.join(BIN, 'bench-probe.js')}`,
    },
    encoding: 'utf8',
  });
  const wallMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  // one line per process and per worker thread ended; a process's figures only grow, so its
  // largest are its own (the worker threads' CPU included), and the processes' CPU adds up
  const perProcess = new Map<number, [number, number, number]>();
  if (fs.existsSync(probe)) {
    for (const line of fs.readFileSync(probe, 'utf8').trim().split('\n')) {
      const [pid, rss, cpu, kernel] = line.split(' ').map(Number);
      const [maxRss, maxCpu, maxKernel] = perProcess.get(pid) ?? [0, 0, 0];
      perProcess.set(pid, [Math.max(maxRss, rss), Math.max(maxCpu, cpu || 0), Math.max(maxKernel, kernel || 0)]);
    }
  }
  const figures = [...perProcess.values()];
  return {
    wallMs,
    rssKiB: Math.max(0, ...figures.map(([rss]) => rss)),
    cpuMs: figures.reduce((sum, [, cpu]) => sum + cpu, 0) / 1000,
    kernelMs: figures.reduce((sum, [, , kernel]) => sum + kernel, 0) / 1000,
  };
}

/**
 * The same JavaScript work every time (objects, strings, a Map, sorting, JSON: what a synth does),
 * in a new node process: its CPU time shows how fast this machine is in these minutes. A shared
 * VM's speed drifts (by half, on the CI machine kind), so a figure is read against this one.
 */
const FIXED_WORK = `
  const rows = [];
  for (let i = 0; i < 300000; i++) rows.push({ name: 'svc-' + (i % 5000), port: i % 65535, labels: { app: 'a' + i, tier: i % 7 } });
  const counts = new Map();
  for (const r of rows) counts.set(r.name, (counts.get(r.name) || 0) + r.port);
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
  let bytes = 0;
  for (let i = 0; i < rows.length; i += 1000) bytes += JSON.stringify(rows.slice(i, i + 1000)).replace(/"port":(\\d+)/g, '"p":$1').length;
  if (bytes === 0 || counts.size !== 5000) process.exit(1);
`;

/** The fixed work's CPU time, median of three runs, in ms. */
export function machineSpeed(): number {
  return median(Array.from({ length: 3 }, () => measure(process.execPath, ['-e', FIXED_WORK]).cpuMs));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function report(label: string, samples: Sample[]): Sample {
  const wall = median(samples.map((s) => s.wallMs));
  const rss = Math.max(...samples.map((s) => s.rssKiB));
  const cpu = median(samples.map((s) => s.cpuMs));
  const kernel = median(samples.map((s) => s.kernelMs));
  // CPU time is given too: on a shared machine the load inflates wall time far more than CPU time;
  // a slow disk shows in its kernel part, not in the synth's own work
  console.log(
    `${label.padEnd(46)} ${(wall / 1000).toFixed(3).padStart(8)} s  ${(rss / 1024).toFixed(0).padStart(6)} MiB peak RSS  ${(cpu / 1000).toFixed(2).padStart(7)} s CPU (${(kernel / 1000).toFixed(2)} s kernel)  (median of ${samples.length})`,
  );
  return { wallMs: wall, rssKiB: rss, cpuMs: cpu, kernelMs: kernel };
}

/**
 * Output folders of the runs, removed only when every figure is taken: deleting tens of
 * thousands of files makes the next run's writes wait on the file system's discards (ext4
 * mounted with `discard` here), which would be measured as synth time.
 */
const outputs: string[] = [];

/** Where the runs' output folders go: the temporary folder, or `--out-dir`. */
let outDir = os.tmpdir();

/** One synthesis of the platform in `config` into a new folder; `stock` is the SYNTH_STOCK value ('' for every speed-up). */
function synthOnce(config: string, stock = ''): Sample {
  const out = fs.mkdtempSync(path.join(outDir, 'bench-out-'));
  outputs.push(out);
  return measure(process.execPath, [path.join(BIN, 'synth.js'), '--config', config, '--out', out, '--quiet'], {
    env: { SYNTH_STOCK: stock },
  });
}

/**
 * The platform in `config` synthesized again into the folder that holds its output already, then
 * checked against it (`--check`, as CI does), `runs` times in each mode, in turns: the user's
 * loop, where nothing or little changed.
 */
function compareModesAgain(config: string, runs: number, modes: ReadonlyArray<[string, string]>): void {
  const out = fs.mkdtempSync(path.join(outDir, 'bench-out-'));
  outputs.push(out);
  const args = [path.join(BIN, 'synth.js'), '--config', config, '--out', out, '--quiet'];
  measure(process.execPath, args); // the first write, not measured
  const loops: Array<[string, string[]]> = [
    ['  again into its own output (nothing changed)', []],
    ['  --check against its own output (up to date)', ['--check']],
  ];
  for (const [label, extra] of loops) {
    const samples: Sample[][] = modes.map(() => []);
    for (let i = 0; i < runs; i++)
      modes.forEach(([, stock], m) =>
        samples[m].push(measure(process.execPath, [...args, ...extra], { env: { SYNTH_STOCK: stock } })),
      );
    modes.forEach(([name], m) => report(m === 0 ? label : `    ${name}`, samples[m]));
  }
}

/**
 * The platform in `config` synthesized `runs` times in each mode (a SYNTH_STOCK value; '' is
 * every speed-up on), the modes in turns; prints each mode's median against the first mode's.
 */
function compareModes(label: string, config: string, runs: number, modes: ReadonlyArray<[string, string]>): Sample[] {
  const samples: Sample[][] = modes.map(() => []);
  for (let i = 0; i < runs; i++) modes.forEach(([, stock], m) => samples[m].push(synthOnce(config, stock)));
  const results = modes.map(([name], m) => report(m === 0 ? label : `  ${name}`, samples[m]));
  results.slice(1).forEach((r, m) => {
    const gain = (a: number, b: number): string => `${((1 - a / b) * 100).toFixed(1).padStart(7)} %`;
    console.log(
      `${`    speed-ups save, against ${modes[m + 1][1] === '1' ? 'stock mode' : `SYNTH_STOCK=${modes[m + 1][1]}`}`.padEnd(46)} ${gain(results[0].wallMs, r.wallMs)} wall ${gain(results[0].cpuMs, r.cpuMs)} CPU`,
    );
  });
  return results;
}

/** The modes to compare: all speed-ups, stock mode, and with --speedups each speed-up off alone. */
function modesOf(each: boolean): Array<[string, string]> {
  return [
    ['fast', ''],
    ['stock mode (SYNTH_STOCK=1)', '1'],
    ...(each ? SPEEDUPS.map((s): [string, string] => [`without ${s} (SYNTH_STOCK=${s})`, s]) : []),
  ];
}

function stockOnce(config: string): Sample {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-stock-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'cdk8s.yaml'),
      [
        'language: typescript',
        `app: ${path.join(ROOT, 'node_modules', '.bin', 'ts-node')} --files --project ${path.join(ROOT, 'tsconfig.json')} ${path.join(ROOT, 'bin', 'stock-app.ts')}`,
        `output: ${path.join(dir, 'out')}`,
        '',
      ].join('\n'),
    );
    return measure(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade'], {
      cwd: dir,
      env: { BENCH_CONFIG: path.resolve(ROOT, config), TS_NODE_TRANSPILE_ONLY: undefined },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** kubectl as test/cluster/build-assets.sh caches it, or $KUBECTL, or on the PATH; undefined when absent. */
function findKubectl(): string | undefined {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const candidates = [process.env.KUBECTL, path.join(cache, 'trading-platform', 'kube-assets-1.28.15', 'kubectl')];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  const onPath = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  return onPath.status === 0 && onPath.stdout.trim() ? onPath.stdout.trim() : undefined;
}

/**
 * One kustomization per target of dist/, in a temp folder: the target's YAML files copied there
 * and listed as resources (kustomize reads only below its kustomization's folder).
 */
function kustomizations(dist: string): string[] {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-kustomize-'));
  outputs.push(root);
  return fs
    .readdirSync(dist, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = path.join(root, d.name);
      fs.mkdirSync(dir);
      const files = fs
        .readdirSync(path.join(dist, d.name))
        .filter((f) => f.endsWith('.yaml'))
        .sort();
      for (const f of files) fs.copyFileSync(path.join(dist, d.name, f), path.join(dir, f));
      fs.writeFileSync(
        path.join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources:',
          ...files.map((f) => `  - ${f}`),
          '',
        ].join('\n'),
      );
      return dir;
    });
}

/**
 * The edit loop: `npm run synth` as typed, against kustomize rendering the same objects, taken
 * in turns (one of each per round) so that both see the same machine.
 */
function editLoop(runs: number, bare: Sample): void {
  const kubectl = findKubectl();
  const dirs = kubectl ? kustomizations(path.join(ROOT, 'dist')) : [];
  const script = dirs.map((d) => `"${kubectl}" kustomize "${d}" >/dev/null`).join(' && ');
  const npmSamples: Sample[] = [];
  const kustomizeSamples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    npmSamples.push(measure('npm', ['run', 'synth']));
    if (kubectl) kustomizeSamples.push(measure('sh', ['-c', script]));
  }
  const npm = report('npm run synth, as typed (nothing changed)', npmSamples);
  if (!kubectl) {
    console.log(
      `${'kubectl kustomize, one per target'.padEnd(46)}  skipped: no kubectl (build it with test/cluster/build-assets.sh, or set KUBECTL)`,
    );
    return;
  }
  const kustomize = report(`kubectl kustomize, one per target (${dirs.length})`, kustomizeSamples);
  console.log(
    `${'npm run synth / kubectl kustomize'.padEnd(46)} ${(npm.wallMs / kustomize.wallMs).toFixed(2).padStart(8)} x  (goal: at most 1.5)`,
  );
  console.log(
    `${'bare synthesis / kubectl kustomize'.padEnd(46)} ${(bare.wallMs / kustomize.wallMs).toFixed(2).padStart(8)} x`,
  );
}

function main(): void {
  const args = process.argv.slice(2);
  const runs = Number(args[args.indexOf('--runs') + 1] ?? 5) || 5;
  const sizes = args.includes('--services') ? [Number(args[args.indexOf('--services') + 1])] : [250, 500, 1000];
  if (args.includes('--out-dir')) {
    const dir = args[args.indexOf('--out-dir') + 1];
    // without a value, path.resolve('') would be the current folder, filled with the runs' output
    if (dir === undefined || dir.startsWith('--')) {
      console.error('bench: --out-dir needs a folder, e.g. --out-dir /dev/shm');
      process.exit(2);
    }
    outDir = path.resolve(dir);
  }
  if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) {
    console.error(
      args.includes('--out-dir')
        ? `bench: --out-dir ${outDir} is not a folder; give an existing one, e.g. /dev/shm`
        : `bench: the temporary folder ${outDir} is not a folder; set TMPDIR to one, or give --out-dir`,
    );
    process.exit(2);
  }
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}; output in ${outDir}`,
  );

  const speed = (when: string) =>
    console.log(
      `${`machine speed, ${when}`.padEnd(46)} ${machineSpeed().toFixed(0).padStart(8)} ms CPU for a fixed piece of JavaScript (median of 3; BENCHMARKS.md reads the figures against it)`,
    );
  speed('before');

  const each = args.includes('--speedups');
  const [reference] = compareModes(
    'reference platform, 4 targets (node build/bin/synth.js)',
    path.join(ROOT, 'environments'),
    runs,
    modesOf(each),
  );
  if (!args.includes('--skip-loop')) editLoop(runs, reference);
  if (!args.includes('--skip-stock')) {
    const stock = report(
      'same app, stock `cdk8s synth` with ts-node',
      Array.from({ length: Math.min(runs, 3) }, () => stockOnce('environments')),
    );
    console.log(
      `${'speed-up over the stock way'.padEnd(46)} ${(stock.wallMs / reference.wallMs).toFixed(1).padStart(8)} x`,
    );
  }

  const perService: Array<[number, number]> = [];
  for (const services of sizes) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-gen-${services}-`));
    generatePlatform(dir, services, path.join(ROOT, 'environments'));
    const modes = modesOf(each && services === Math.max(...sizes));
    // three runs each unless --runs says otherwise (the large ones take seconds each)
    const generatedRuns = args.includes('--runs') ? runs : Math.min(runs, 3);
    const [sample] = compareModes(`generated: ${services} services x 3 targets`, dir, generatedRuns, modes);
    perService.push([services, sample.wallMs]);
    if (services === Math.max(...sizes)) compareModesAgain(dir, generatedRuns, modes.slice(0, 2));
    outputs.push(dir);
  }
  for (const dir of outputs) fs.rmSync(dir, { recursive: true, force: true });
  speed('after');
  if (perService.length > 1) {
    console.log('time per service (linear growth keeps this flat):');
    for (const [n, ms] of perService)
      console.log(`  ${String(n).padStart(5)} services: ${(ms / n).toFixed(2)} ms/service`);
  }
}

// the bench runs when executed (npm run bench), not when a test imports `measure`
if (require.main === module) main();
