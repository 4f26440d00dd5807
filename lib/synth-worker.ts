/**
 * The body of a synth worker thread (lib/parallel-synth.ts): synthesizes the targets it is
 * given (one request, after the worker has loaded the constructs), one after the other, and
 * posts each result as soon as it is ready.
 */
import { parentPort } from 'worker_threads';
import { outline, WorkerReply, WorkerRequest } from './parallel-synth';
import { synthTargetResult } from './synth';

// one request per worker: its targets, sent once the configuration is read
parentPort!.once('message', (request: WorkerRequest) => {
  for (const { index, config } of request.configs) {
    let reply: WorkerReply;
    try {
      const result = synthTargetResult(config);
      const output = result.output && { ...result.output, manifests: result.output.manifests.map(outline) };
      reply = { index, result: { output, problems: result.problems } };
    } catch (error) {
      reply = { index, error: `${config.target}: ${(error as Error).message}` };
    }
    parentPort!.postMessage(reply);
    if (reply.error !== undefined) break;
  }
});
