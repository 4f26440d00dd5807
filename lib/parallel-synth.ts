/**
 * Synthesizes targets on worker threads, one isolate per worker, when there is enough work to
 * pay for starting them: each worker loads the constructs once and builds whole targets, so a
 * 2-core machine builds two targets at a time. The result is the same as `synthesizeAll`
 * (test/lib/parallel-synth.test.ts compares them file by file).
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { TargetConfig } from '../config/types';
import { Manifest } from './manifest';
import { assembleOutputs, synthesizeAll, TargetOutput, TargetResult } from './synth';

/** Below this many services in all targets together, starting workers costs more than it saves. */
export const PARALLEL_MIN_SERVICES = 150;

/** What a worker is asked: targets by their index in the list. */
export interface WorkerRequest {
  readonly configs: ReadonlyArray<{ readonly index: number; readonly config: TargetConfig }>;
}

/** What a worker answers, once per target. */
export interface WorkerReply {
  readonly index: number;
  readonly result?: TargetResult;
  /** An internal error (not a configuration problem) of the worker. */
  readonly error?: string;
}

/**
 * The parts of a manifest that the delivery chart and the summary read once a target is
 * rendered (kind, group and name); the files already hold the whole object. Sending these
 * instead of the full objects keeps the copy between threads small.
 */
export function outline(manifest: Manifest): Manifest {
  const { name, namespace } = manifest.metadata;
  return { apiVersion: manifest.apiVersion, kind: manifest.kind, metadata: namespace === undefined ? { name } : { name, namespace } };
}

/** How many workers to start for these targets: none when the work is small or one core is all there is. */
export function workerCount(configs: readonly TargetConfig[], cores = os.availableParallelism?.() ?? os.cpus().length): number {
  const services = configs.reduce((n, c) => n + Object.keys(c.services).length, 0);
  if (configs.length < 2 || cores < 2 || services < PARALLEL_MIN_SERVICES) return 0;
  return Math.min(configs.length, cores);
}

/**
 * Synthesizes every target like `synthesizeAll`, on `workers` threads (the default from
 * `workerCount`); with 0 workers it runs on this thread. Throws SynthError listing every
 * problem of every target.
 */
export async function synthesizeInParallel(configs: readonly TargetConfig[], workers = workerCount(configs)): Promise<TargetOutput[]> {
  if (workers < 1) return synthesizeAll(configs);
  // largest targets first, each to the worker with the least work so far
  const order = configs.map((config, index) => ({ index, config, size: Object.keys(config.services).length }))
    .sort((a, b) => b.size - a.size || a.index - b.index);
  const batches: Array<{ load: number; items: Array<{ index: number; config: TargetConfig }> }> = Array.from({ length: workers }, () => ({ load: 0, items: [] }));
  for (const item of order) {
    const batch = batches.reduce((least, b) => (b.load < least.load ? b : least));
    batch.items.push({ index: item.index, config: item.config });
    batch.load += item.size;
  }
  const results: TargetResult[] = new Array(configs.length);
  await Promise.all(batches.filter((b) => b.items.length).map((batch) => runWorker({ configs: batch.items }, (reply) => {
    results[reply.index] = reply.result!;
  })));
  return assembleOutputs(configs, results);
}

function runWorker(request: WorkerRequest, onReply: (reply: WorkerReply) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'synth-worker.js'), { workerData: request });
    let pending = request.configs.length;
    let failed = false;
    worker.on('message', (reply: WorkerReply) => {
      if (reply.error !== undefined) {
        failed = true;
        reject(new Error(reply.error));
        void worker.terminate();
        return;
      }
      onReply(reply);
      if (--pending === 0) resolve();
    });
    worker.on('error', (error) => {
      failed = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!failed && pending > 0) reject(new Error(`a synth worker exited with code ${code} before it finished`));
    });
  });
}
