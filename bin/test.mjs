#!/usr/bin/env node
/**
 * npm test [-- <jest arguments>]        the change-test loop: every suite but the slow ones
 * npm run test:slow [-- <jest arguments>] the slow end-to-end suites (test/slow-suites.json)
 *
 * Transpiles what changed (sources and tests, bin/build.mjs), then runs the type-check
 * (`tsc --noEmit`, incremental) and jest side by side, jest on every core: on 2 cores the
 * type-check no longer comes first, and jest no longer runs one suite at a time (its default,
 * cores - 1 workers). Exits non-zero when either fails; the type errors are printed after jest.
 * Arguments go to jest (a path filters the suites; the type-check always covers everything).
 * `--slow` runs only the slow suites, without the type-check (npm test has done it); CI
 * (.ci/run) runs both commands.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as fs from 'node:fs';
import { build } from './build.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (options.capture) {
      child.stdout.on('data', (d) => {
        output += d;
      });
      child.stderr.on('data', (d) => {
        output += d;
      });
    }
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const slowOnly = process.argv.includes('--slow');
const args = process.argv.slice(2).filter((a) => a !== '--slow');
const slow = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'slow-suites.json'), 'utf8')).suites.map(
  (s) => `/build/test/${s.replace(/[.]/g, '\\.')}\\.js$`,
);

await build({ tests: true, quiet: true });
const started = Date.now();
const typecheck = slowOnly
  ? Promise.resolve({ code: 0, skipped: true })
  : run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], { capture: true }).then((r) => ({
      ...r,
      ms: Date.now() - started,
    }));
const workers = args.some((a) => a.startsWith('--maxWorkers') || a === '-w' || a === '--runInBand' || a === '-i')
  ? []
  : ['--maxWorkers=100%'];
const selection = slowOnly ? [`--testPathPattern=${slow.join('|')}`] : [`--testPathIgnorePatterns=${slow.join('|')}`];
const jest = await run(bin('jest'), [...workers, ...selection, ...args]);
const types = await typecheck;
if (types.skipped) process.exit(jest.code);
if (types.code !== 0) {
  process.stderr.write(`\ntype-check (tsc --noEmit) failed:\n${types.output}`);
} else {
  console.error(`type-check (tsc --noEmit): no errors (${(types.ms / 1000).toFixed(1)} s, alongside jest)`);
}
process.exit(jest.code || types.code);
