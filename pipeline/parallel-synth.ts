/**
 * Synthesizes targets on worker threads, one isolate per worker, when there is enough work to
 * pay for starting them: each worker loads the constructs once and synthesizes whole targets, so a
 * 2-core machine works on two targets at a time. Where whole targets cannot be shared out evenly
 * (three alike on two workers), a worker builds one target and hands it over, built, to another
 * that checks and renders it (`planWork`). The result is the same as `synthesizeAll`
 * (test/pipeline/parallel-synth.test.ts compares them file by file).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MessageChannel, MessagePort, Worker } from 'worker_threads';
import { TargetConfig } from '../config/types';
import { Manifest } from '../core/manifest';
import { OutputError } from './output';
import { bundleOf } from './speedups/bundle';
import type { FileDestination, TargetOutput, TargetResult } from './render';

/**
 * pipeline/synth, loaded on first use: it brings cdk8s and every construct, and the command starts
 * its worker pool (this module) before this thread loads any of them. With workers, this thread
 * needs only what makes dist/argocd (pipeline/delivery-synth.ts, half the load): it loads that
 * while the workers build, on the cores they use.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
const synth = (): typeof import('./synth') => require('./synth');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
const delivery = (): typeof import('./delivery-synth') => require('./delivery-synth');

/** Below this many services in all targets together, starting workers costs more than it saves. */
export const PARALLEL_MIN_SERVICES = 150;

/** What a worker is asked: its steps, in order. */
export interface WorkerRequest {
  readonly steps: ReadonlyArray<WorkerStep>;
}

/**
 * One step of a worker: a target (by its index in the list) to synthesize whole (`all`), only to
 * build and send over `port` (`build`), or to take built from `port` and finish (`finish`: check
 * policy, scan for secrets, render, write). With a `destination`, the worker that finishes the
 * target writes its files into a new folder itself, or compares them with the target's folder in
 * the output and sends only those that differ.
 */
export interface WorkerStep {
  readonly index: number;
  readonly config: TargetConfig;
  readonly part: WorkPart;
  readonly destination?: FileDestination;
  readonly port?: MessagePort;
}

export type WorkPart = 'all' | 'build' | 'finish';

/** A step of a plan: which target, which part of it. */
export interface PlannedStep {
  readonly index: number;
  readonly part: WorkPart;
}

/**
 * The share of a target's time spent building it (constructs, validation, manifests, the quota
 * and drain checks); the rest is finishing it (policy, API server rules, README, secret scan,
 * YAML, writing). Measured on the generated 1,000-service targets: 2.0 s and 1.8 s.
 */
export const BUILD_SHARE = 0.53;

/**
 * What handing a built target to another worker costs, as a share of the target's time: the copy
 * of its manifests between threads (0.3 s of a 3.8 s target).
 */
export const HANDOFF_SHARE = 0.08;

/** A hand-over is planned only when it ends the work at least this share sooner. */
export const MIN_GAIN = 0.01;

/**
 * Which worker does what, for targets of the given sizes (any measure of work: their services).
 * Whole targets go to the least loaded worker, largest first. Then, while it ends the work sooner,
 * a worker gives the finishing of one of its targets to another worker: it builds
 * that target first and hands it over, and the other finishes it after its own targets, once it
 * has arrived (`timeOf` tells when the last worker ends). A finishing step waits only for a
 * building step that comes first in its worker, so no worker waits for one that waits.
 */
export function planWork(sizes: readonly number[], workers: number): PlannedStep[][] {
  const order = sizes.map((size, index) => ({ index, size })).sort((a, b) => b.size - a.size || a.index - b.index);
  let plans: PlannedStep[][] = Array.from({ length: Math.max(1, workers) }, () => []);
  const loads = plans.map(() => 0);
  for (const { index, size } of order) {
    const least = loads.indexOf(Math.min(...loads));
    plans[least].push({ index, part: 'all' });
    loads[least] += size;
  }
  for (let moves = 0; moves < sizes.length; moves++) {
    const now = timeOf(plans, sizes);
    let best: { plans: PlannedStep[][]; time: number } | undefined;
    plans.forEach((from, f) =>
      from.forEach((step, s) => {
        if (step.part !== 'all') return;
        plans.forEach((_, t) => {
          if (t === f) return;
          const next = plans.map((p) => [...p]);
          next[f].splice(s, 1);
          const builds = next[f].filter((x) => x.part === 'build').length;
          next[f].splice(builds, 0, { index: step.index, part: 'build' });
          next[t].push({ index: step.index, part: 'finish' });
          const time = timeOf(next, sizes);
          if (time < (best?.time ?? now * (1 - MIN_GAIN))) best = { plans: next, time };
        });
      }),
    );
    if (!best) break;
    plans = best.plans;
  }
  return plans;
}

/**
 * When the last worker ends, by the shares above: building steps first, each worker's other steps
 * in order, and a finishing step no sooner than its target is built and handed over.
 */
export function timeOf(plans: readonly PlannedStep[][], sizes: readonly number[]): number {
  const built = new Map<number, number>();
  const clocks = plans.map((plan) => {
    let clock = 0;
    for (const step of plan) {
      if (step.part !== 'build') break;
      clock += BUILD_SHARE * sizes[step.index];
      built.set(step.index, clock + HANDOFF_SHARE * sizes[step.index]);
    }
    return clock;
  });
  return Math.max(
    0,
    ...plans.map((plan, w) =>
      plan.reduce((clock, step) => {
        const size = sizes[step.index];
        if (step.part === 'all') return clock + size;
        if (step.part === 'finish') return Math.max(clock, built.get(step.index)!) + (1 - BUILD_SHARE) * size;
        return clock;
      }, clocks[w]),
    ),
  );
}

/**
 * What the worker that finishes a target is to do with the files of its folder
 * (OutputWriter.destinationFor), or undefined to have them all sent to the caller. A worker that
 * writes a new folder itself, or sends only what changed of one that exists, spares the copy of
 * every file between threads (a large target has tens of megabytes of YAML), and the memory that
 * holds them meanwhile.
 */
export type DestinationOf = (folder: string) => FileDestination | undefined;

/**
 * What a worker answers, once per target it synthesizes whole or finishes, and once `done` when
 * it has taken every step (a worker that only builds answers nothing else).
 */
export interface WorkerReply {
  readonly index: number;
  readonly done?: true;
  readonly result?: TargetResult;
  /** An internal error (not a configuration problem) of the worker. */
  readonly error?: string;
  /** `error` is a failed write of the staged folder (reported as an OutputError). */
  readonly writeError?: boolean;
}

/**
 * The parts of a manifest that the delivery chart and the summary read once a target is
 * rendered (kind, group and name); the files already hold the whole object. Sending these
 * instead of the full objects keeps the copy between threads small.
 */
export function outline(manifest: Manifest): Manifest {
  const { name, namespace } = manifest.metadata;
  return {
    apiVersion: manifest.apiVersion,
    kind: manifest.kind,
    metadata: namespace === undefined ? { name } : { name, namespace },
  };
}

/** How many workers to start for these targets: none when the work is small or one core is all there is. */
export function workerCount(
  configs: readonly TargetConfig[],
  cores = os.availableParallelism?.() ?? os.cpus().length,
): number {
  const services = configs.reduce((n, c) => n + Object.keys(c.services).length, 0);
  if (configs.length < 2 || cores < 2 || services < PARALLEL_MIN_SERVICES) return 0;
  return Math.min(configs.length, cores);
}

/**
 * Worker threads that synthesize targets. Starting one (loading the constructs into a new
 * isolate) takes a few hundred milliseconds, so the command starts the pool before it reads the
 * configuration when the environment files are large (`poolFor`), and the two overlap.
 */
export class SynthPool {
  private readonly workers: Worker[];

  constructor(size: number) {
    const entry = bundleOf('synth-worker') ?? path.join(__dirname, 'synth-worker.js');
    this.workers = Array.from({ length: size }, () => new Worker(entry));
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Synthesizes every target on the pool's workers (each used once), like `synthesizeAll`;
   * `onOutput` sees each valid target's output as soon as its worker sends it.
   */
  async synthesize(
    configs: readonly TargetConfig[],
    onOutput?: (output: TargetOutput) => void,
    destinationOf?: DestinationOf,
  ): Promise<TargetOutput[]> {
    const plans = planWork(
      configs.map((c) => Object.keys(c.services).length),
      this.workers.length,
    );
    // one channel per hand-over: the building worker gets one end, the finishing worker the other
    const channels = new Map<number, MessageChannel>();
    for (const step of plans.flat()) if (step.part === 'build') channels.set(step.index, new MessageChannel());
    const requests = plans.map((plan) =>
      plan.map(({ index, part }): WorkerStep => {
        const config = configs[index];
        const channel = channels.get(index);
        const port = channel && (part === 'build' ? channel.port1 : channel.port2);
        const destination = part === 'build' ? undefined : destinationOf?.(config.target);
        return { index, config, part, port, destination };
      }),
    );
    const results: TargetResult[] = new Array(configs.length);
    try {
      const replies = Promise.all(
        this.workers
          .map((worker, i) => ({ worker, steps: requests[i] }))
          .filter(({ steps }) => steps.length)
          .map(({ worker, steps }) =>
            run(worker, { steps }, (reply) => {
              results[reply.index] = reply.result!;
              if (reply.result!.output) onOutput?.(reply.result!.output);
            }),
          ),
      );
      // while the workers build, this thread loads what makes argocd/ from their results
      delivery();
      await replies;
    } finally {
      await this.close();
    }
    return delivery().assembleOutputs(configs, results);
  }

  /** Stops every worker (those that finished have stopped already). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Environment files of at least this many bytes in all hint at enough services for workers. */
export const POOL_MIN_CONFIG_BYTES = 128 * 1024;

/**
 * A pool started early for the configuration in `dir`, before it is read, when the machine has
 * more than one core and the files are large; undefined otherwise.
 */
export function poolFor(dir: string, cores = os.availableParallelism?.() ?? os.cpus().length): SynthPool | undefined {
  if (cores < 2) return undefined;
  let bytes = 0;
  try {
    for (const f of fs.readdirSync(dir)) if (/\.ya?ml$/.test(f)) bytes += fs.statSync(path.join(dir, f)).size;
  } catch {
    return undefined; // the loader reports a missing or unreadable folder
  }
  return bytes >= POOL_MIN_CONFIG_BYTES ? new SynthPool(cores) : undefined;
}

/**
 * Synthesizes every target like `synthesizeAll`, on `workers` threads (the default from
 * `workerCount`), or on the given pool's; with 0 workers and no pool it runs on this thread.
 * `onOutput` sees each valid target's output as it arrives (from workers only); with
 * `destinationOf`, workers write or compare the files of the folders it names themselves. Throws
 * SynthError listing every problem of every target.
 */
export async function synthesizeInParallel(
  configs: readonly TargetConfig[],
  workers = workerCount(configs),
  pool?: SynthPool,
  onOutput?: (output: TargetOutput) => void,
  destinationOf?: DestinationOf,
): Promise<TargetOutput[]> {
  if (pool && workers < 1) await pool.close();
  if (workers < 1) return synth().synthesizeAll(configs);
  return (pool ?? new SynthPool(workers)).synthesize(configs, onOutput, destinationOf);
}

function run(worker: Worker, request: WorkerRequest, onReply: (reply: WorkerReply) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    // one reply per target synthesized whole or finished here (one built here and handed over is
    // answered by the worker that finishes it), then one that says the worker is done
    let pending = request.steps.filter((s) => s.part !== 'build').length + 1;
    let failed = false;
    worker.on('message', (reply: WorkerReply) => {
      if (reply.error !== undefined) {
        failed = true;
        reject(
          reply.writeError
            ? new OutputError(`${reply.error}; nothing was changed in the output folder`)
            : new Error(reply.error),
        );
        return;
      }
      if (reply.done) {
        if (--pending === 0) resolve();
        return;
      }
      try {
        onReply(reply); // may write files (OutputWriter.stage): a failure ends the synth like a worker's
      } catch (error) {
        failed = true;
        reject(error);
        return;
      }
      if (--pending === 0) resolve();
    });
    worker.on('error', (error) => {
      failed = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!failed && pending > 0) reject(new Error(`a synth worker exited with code ${code} before it finished`));
    });
    worker.postMessage(
      request,
      request.steps.flatMap((s) => (s.port ? [s.port] : [])),
    );
  });
}
