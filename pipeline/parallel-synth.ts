/**
 * Synthesizes targets on worker threads, one isolate per worker, when there is enough work to
 * pay for starting them: each worker loads the constructs once and builds whole targets, so a
 * 2-core machine builds two targets at a time. The result is the same as `synthesizeAll`
 * (test/pipeline/parallel-synth.test.ts compares them file by file).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { TargetConfig } from '../config/types';
import { Manifest } from '../core/manifest';
import { OutputError } from './output';
import type { TargetOutput, TargetResult } from './synth';

/**
 * pipeline/synth, loaded on first use: it brings cdk8s and every construct, and the command starts
 * its worker pool (this module) before this thread loads any of them.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
const synth = (): typeof import('./synth') => require('./synth');

/** Below this many services in all targets together, starting workers costs more than it saves. */
export const PARALLEL_MIN_SERVICES = 150;

/** What a worker is asked: targets by their index in the list. */
export interface WorkerRequest {
  readonly configs: ReadonlyArray<WorkerTarget>;
}

/** One target of a request; with `stageDir`, the worker writes the target's files there itself. */
export interface WorkerTarget {
  readonly index: number;
  readonly config: TargetConfig;
  readonly stageDir?: string;
}

/**
 * Where the files of a new output folder are to be written (OutputWriter.dirFor), or undefined to
 * have them sent to the caller. A worker that writes them itself spares the copy of every file
 * between threads (a large target has tens of megabytes of YAML).
 */
export type StageDirOf = (folder: string) => string | undefined;

/** What a worker answers, once per target. */
export interface WorkerReply {
  readonly index: number;
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
    this.workers = Array.from({ length: size }, () => new Worker(path.join(__dirname, 'synth-worker.js')));
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
    stageDirOf?: StageDirOf,
  ): Promise<TargetOutput[]> {
    // largest targets first, each to the worker with the least work so far
    const order = configs
      .map((config, index) => ({ index, config, size: Object.keys(config.services).length }))
      .sort((a, b) => b.size - a.size || a.index - b.index);
    const batches = this.workers.map((worker) => ({ worker, load: 0, items: [] as WorkerTarget[] }));
    for (const item of order) {
      const batch = batches.reduce((least, b) => (b.load < least.load ? b : least));
      batch.items.push({ index: item.index, config: item.config, stageDir: stageDirOf?.(item.config.target) });
      batch.load += item.size;
    }
    const results: TargetResult[] = new Array(configs.length);
    try {
      const replies = Promise.all(
        batches
          .filter((b) => b.items.length)
          .map((b) =>
            run(b.worker, { configs: b.items }, (reply) => {
              results[reply.index] = reply.result!;
              if (reply.result!.output) onOutput?.(reply.result!.output);
            }),
          ),
      );
      // while the workers build, this thread loads what makes argocd/ from their results
      synth();
      await replies;
    } finally {
      await this.close();
    }
    return synth().assembleOutputs(configs, results);
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
 * `stageDirOf`, workers write the files of the folders it names there themselves. Throws
 * SynthError listing every problem of every target.
 */
export async function synthesizeInParallel(
  configs: readonly TargetConfig[],
  workers = workerCount(configs),
  pool?: SynthPool,
  onOutput?: (output: TargetOutput) => void,
  stageDirOf?: StageDirOf,
): Promise<TargetOutput[]> {
  if (pool && workers < 1) await pool.close();
  if (workers < 1) return synth().synthesizeAll(configs);
  return (pool ?? new SynthPool(workers)).synthesize(configs, onOutput, stageDirOf);
}

function run(worker: Worker, request: WorkerRequest, onReply: (reply: WorkerReply) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = request.configs.length;
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
    worker.postMessage(request);
  });
}
