/**
 * The body of a synth worker thread (pipeline/parallel-synth.ts): synthesizes the targets it is
 * given (one request, after the worker has loaded the constructs), one after the other, and
 * posts each result as soon as it is ready; a target given a staging folder has its files
 * written there instead of sent.
 */
import { parentPort } from 'worker_threads';
import { describeFsError, writeFolder } from './output';
import { outline, WorkerReply, WorkerRequest } from './parallel-synth';
import { preloadSecretRules } from '../core/secret-scan';
import { synthTargetResult, TargetOutput } from './synth';

// while the main thread reads the configuration: the secret scan's rules (pipeline/secret-check.ts)
preloadSecretRules();

// one request per worker: its targets, sent once the configuration is read
parentPort!.once('message', (request: WorkerRequest) => {
  for (const { index, config, stageDir } of request.configs) {
    let reply: WorkerReply;
    try {
      const result = synthTargetResult(config);
      let output: TargetOutput | undefined;
      if (result.output) {
        output = { ...result.output, manifests: result.output.manifests.map(outline) };
        if (stageDir !== undefined) {
          writeFolder(stageDir, output.files);
          output = { ...output, files: new Map(), staged: true };
        }
      }
      reply = { index, result: { output, problems: result.problems } };
    } catch (error) {
      // a failed write of the staged folder (a name too long, a full disk) is reported as such, not as an internal error
      reply =
        (error as NodeJS.ErrnoException).code && stageDir !== undefined
          ? { index, error: `cannot write ${describeFsError(error)}`, writeError: true }
          : { index, error: `${config.target}: ${(error as Error).message}` };
    }
    parentPort!.postMessage(reply);
    if (reply.error !== undefined) break;
  }
});
