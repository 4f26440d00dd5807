#!/usr/bin/env node
/**
 * npm test [-- <jest arguments>]        the change-test loop: every suite but the slow ones
 * npm run test:slow [-- <jest arguments>] the slow end-to-end suites (test/slow-suites.json)
 *
 * Transpiles what changed (sources and tests, bin/build.mjs), then runs jest on every core and,
 * beside it, the type-check (`tsc --noEmit`, incremental), the linter (eslint) and the formatter's
 * check (prettier), the last two being `npm run lint` with their caches in build/ (a warm run
 * looks only at the files that changed). Exits non-zero when any fails; the problems
 * of the checks are printed after jest.
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
/** A check that runs beside jest: its output is printed after jest's, only when it fails. */
const check = (name, command, commandArgs) =>
  run(bin(command), commandArgs, { capture: true }).then((r) => ({ ...r, name, ms: Date.now() - started }));
// the type-check, then the linter and the formatter's check, one after another beside jest
const checks = slowOnly
  ? Promise.resolve([])
  : (async () => [
      await check('type-check (tsc --noEmit)', 'tsc', ['-p', 'tsconfig.json', '--noEmit']),
      await check('lint (eslint)', 'eslint', ['--cache', '--cache-location', 'build/.eslintcache', '.']),
      await check('format (prettier --check; npm run format fixes it)', 'prettier', [
        '--check',
        '--cache',
        '--cache-location',
        'build/.prettiercache',
        '--log-level=warn',
        '.',
      ]),
    ])();
const workers = args.some((a) => a.startsWith('--maxWorkers') || a === '-w' || a === '--runInBand' || a === '-i')
  ? []
  : ['--maxWorkers=100%'];
const selection = slowOnly ? [`--testPathPattern=${slow.join('|')}`] : [`--testPathIgnorePatterns=${slow.join('|')}`];
const jest = await run(bin('jest'), [...workers, ...selection, ...args]);
let failed = jest.code;
for (const result of await checks) {
  if (result.code !== 0) {
    process.stderr.write(`\n${result.name} failed:\n${result.output}`);
    failed ||= result.code;
  } else {
    console.error(
      `${result.name}: no problems (done ${(result.ms / 1000).toFixed(1)} s after the start, alongside jest)`,
    );
  }
}
process.exit(failed);
