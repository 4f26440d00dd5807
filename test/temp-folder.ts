/**
 * One temporary folder per jest run. The tests make scratch copies of environments/, output
 * folders and rule files with `fs.mkdtempSync(os.tmpdir())` and leave them (hundreds per run);
 * jest's globalSetup points TMPDIR at a new folder, which the test workers inherit, and its
 * globalTeardown removes that folder with everything in it and puts TMPDIR back.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Where the run's folder and the TMPDIR before it are kept between setup and teardown (same process). */
const RUN = 'JEST_RUN_TMPDIR';
const BEFORE = 'JEST_RUN_TMPDIR_BEFORE';

/** Jest's globalSetup: a new folder in the temporary folder becomes the run's TMPDIR. */
export function setup(): void {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'jest-run-'));
  if (process.env.TMPDIR !== undefined) process.env[BEFORE] = process.env.TMPDIR;
  process.env[RUN] = run;
  process.env.TMPDIR = run;
}

/** Jest's globalTeardown: removes the run's folder and restores TMPDIR. */
export function teardown(): void {
  const run = process.env[RUN];
  if (!run) return;
  if (process.env[BEFORE] === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = process.env[BEFORE];
  delete process.env[RUN];
  delete process.env[BEFORE];
  fs.rmSync(run, { recursive: true, force: true, maxRetries: 3 });
}
