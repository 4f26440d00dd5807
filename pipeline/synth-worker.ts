/**
 * The body of a synth worker thread (pipeline/parallel-synth.ts): takes the steps it is given (one
 * request, after the worker has loaded the constructs), one after the other, and posts each
 * target's result as soon as it is ready; a target given a staging folder has its files written
 * there instead of sent, one whose folder exists in the output only those that differ from it
 * sent. A target it only builds goes, built, to the worker that finishes it.
 */
import { MessagePort, parentPort } from 'worker_threads';
import { describeFsError, FolderComparison, folderSink } from './output';
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

/**
 * Where a step's files go as they are rendered (`write`), and what its reply then says of them:
 * written to its new folder (`staged`), or compared with its folder in the output (only the files
 * that differ sent); without a destination, all are sent.
 */
function filesOf(step: WorkerStep): { write?: FileSink; reply(output: TargetOutput): TargetOutput } {
  const destination = step.destination;
  if (destination && 'stageDir' in destination) {
    return { write: folderSink(destination.stageDir), reply: (output) => ({ ...output, staged: true }) };
  }
  if (destination) {
    const comparison = new FolderComparison(destination.compareDir);
    return {
      write: comparison.write,
      reply: (output) => ({ ...output, files: comparison.changed, unchanged: comparison.unchanged }),
    };
  }
  return { reply: (output) => output };
}

async function resultOf(step: WorkerStep, write: FileSink | undefined): Promise<TargetResult | undefined> {
  switch (step.part) {
    case 'all':
      return synthTargetResult(step.config, write);
    case 'build':
      // the finishing worker answers for the target, problems included
      step.port!.postMessage(buildTarget(step.config));
      return undefined;
    case 'finish':
      return finishTarget(step.config, await receive(step.port!), write);
  }
}

// one request per worker: its steps, sent once the configuration is read
parentPort!.once('message', async (request: WorkerRequest) => {
  for (const step of request.steps) {
    const { index, config, destination } = step;
    let reply: WorkerReply;
    try {
      const files = filesOf(step);
      const result = await resultOf(step, files.write);
      if (!result) continue;
      const output: TargetOutput | undefined =
        result.output && files.reply({ ...result.output, manifests: result.output.manifests.map(outline) });
      reply = { index, result: { output, problems: result.problems } };
    } catch (error) {
      // a failed write of the staged folder (a name too long, a full disk) is reported as such, not as an internal error
      reply =
        (error as NodeJS.ErrnoException).code && destination !== undefined && 'stageDir' in destination
          ? { index, error: `cannot write ${describeFsError(error)}`, writeError: true }
          : { index, error: `${config.target}: ${(error as Error).message}` };
    }
    parentPort!.postMessage(reply);
    if (reply.error !== undefined) return;
  }
  parentPort!.postMessage({ index: -1, done: true } satisfies WorkerReply);
});
