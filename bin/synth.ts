/**
 * npm run synth [-- --target <name>]... [--check] [--config <dir>] [--out <dir>]
 *
 * The command is bin/synth-cli.ts. This entry runs it from the one file that bin/build.mjs
 * bundles it into (the `bundle` speed-up, pipeline/speedups/bundle.ts), or from its modules when
 * SYNTH_STOCK turns that off or the build made no bundle. It loads nothing else first.
 */
import { bundleOf } from '../pipeline/speedups/bundle';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the command, from its bundle or its modules
require(bundleOf('synth') ?? './synth-cli');
