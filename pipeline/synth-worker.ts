/**
 * The body of a synth worker thread (pipeline/parallel-synth.ts): takes the steps it is given (one
 * request, after the worker has loaded the constructs), one after the other, and posts each
 * target's result as soon as it is ready; a target given a staging folder has its files written
 * there instead of sent. A target it only builds goes, built, to the worker that finishes it.
 */
import { MessagePort, parentPort } from 'worker_threads';
import { describeFsError, folderSink } from './output';
import { outline, WorkerReply, WorkerRequest, WorkerStep } from './parallel-synth';
import { preloadSecretRules } from '../core/secret-scan';
import type { FileSink } from './render';
import { buildTarget, BuiltTarget, finishTarget, synthTargetResult, TargetOutput, TargetResult } from './synth';

// while the main thread reads the configuration: the secret scan's rules (pipeline/secret-check.ts)
preloadSecretRules();

/** The built target the worker at the other end of `port` sends. */
function receive(port: MessagePort): Promise<BuiltTarget> {
  return new Promise((resolve) =>
    port.once('message', (built: BuiltTarget) => {
      port.close();
      resolve(built);
    }),
  );
}

/** Where a step's files go as they are rendered: its staging folder, if it has one; else back in the reply. */
function sinkOf(step: WorkerStep): FileSink | undefined {
  return step.stageDir === undefined ? undefined : folderSink(step.stageDir);
}

async function resultOf(step: WorkerStep): Promise<TargetResult | undefined> {
  switch (step.part) {
    case 'all':
      return synthTargetResult(step.config, sinkOf(step));
    case 'build':
      // the finishing worker answers for the target, problems included
      step.port!.postMessage(buildTarget(step.config));
      return undefined;
    case 'finish':
      return finishTarget(step.config, await receive(step.port!), sinkOf(step));
  }
}

// one request per worker: its steps, sent once the configuration is read
parentPort!.once('message', async (request: WorkerRequest) => {
  for (const step of request.steps) {
    const { index, config, stageDir } = step;
    let reply: WorkerReply;
    try {
      const result = await resultOf(step);
      if (!result) continue;
      const output: TargetOutput | undefined = result.output && {
        ...result.output,
        manifests: result.output.manifests.map(outline),
      };
      reply = { index, result: { output, problems: result.problems } };
    } catch (error) {
      // a failed write of the staged folder (a name too long, a full disk) is reported as such, not as an internal error
      reply =
        (error as NodeJS.ErrnoException).code && stageDir !== undefined
          ? { index, error: `cannot write ${describeFsError(error)}`, writeError: true }
          : { index, error: `${config.target}: ${(error as Error).message}` };
    }
    parentPort!.postMessage(reply);
    if (reply.error !== undefined) return;
  }
  parentPort!.postMessage({ index: -1, done: true } satisfies WorkerReply);
});
