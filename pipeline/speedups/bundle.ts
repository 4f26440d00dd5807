/**
 * The `bundle` speed-up: the command (bin/synth-cli.ts) and its worker threads
 * (pipeline/synth-worker.ts) each run from one file that bin/build.mjs makes of the built modules
 * and the dependencies they load, with esbuild. Loading about 540 modules one by one costs Node a
 * path resolution, `package.json` lookups, a read and a wrapper per module: about a tenth of the
 * reference platform's synth (BENCHMARKS.md). The code in the bundle is the built code, unchanged
 * but for `__dirname`, which the build replaces in each of our modules by that module's own
 * folder, so every path it makes is the one it makes unbundled.
 *
 * `SYNTH_STOCK=1` or `SYNTH_STOCK=bundle` runs the modules as Node loads them; so does a build
 * without bundles (the build writes them whenever a module or the dependencies changed). The
 * output is the same either way: test/pipeline/speedups/bundle.test.ts compares the two, with
 * worker threads and without.
 */
import * as fs from 'fs';
import * as path from 'path';
import { speedupsEnabled, stockSettingProblem } from './switch';

/** build/bundle, where bin/build.mjs writes the bundles (this file is build/pipeline/speedups/bundle.js). */
export const BUNDLE_DIR = path.resolve(__dirname, '..', '..', 'bundle');

/** The entry points that are bundled: the command, and the body of its worker threads. */
export type BundleEntry = 'synth' | 'synth-worker';

/** The bundle of `entry` to run, or undefined to run its modules (stock mode, or no bundle built). */
export function bundleOf(entry: BundleEntry): string | undefined {
  // with an unknown name in SYNTH_STOCK, the command runs from its modules and reports it
  if (stockSettingProblem() !== undefined || !speedupsEnabled('bundle')) return undefined;
  const file = path.join(BUNDLE_DIR, `${entry}.js`);
  return fs.existsSync(file) ? file : undefined;
}
