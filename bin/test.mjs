#!/usr/bin/env node
/**
 * npm test [-- <jest arguments>]
 *
 * Transpiles what changed (sources and tests, bin/build.mjs), then runs the type-check
 * (`tsc --noEmit`, incremental) and jest side by side, jest on every core: on 2 cores the
 * type-check no longer comes first, and jest no longer runs one suite at a time (its default,
 * cores - 1 workers). Exits non-zero when either fails; the type errors are printed after jest.
 * Arguments go to jest (a path filters the suites; the type-check always covers everything).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (options.capture) {
      child.stdout.on('data', (d) => { output += d; });
      child.stderr.on('data', (d) => { output += d; });
    }
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

await build({ tests: true, quiet: true });
const started = Date.now();
const typecheck = run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], { capture: true }).then((r) => ({ ...r, ms: Date.now() - started }));
const args = process.argv.slice(2);
const workers = args.some((a) => a.startsWith('--maxWorkers') || a === '-w' || a === '--runInBand' || a === '-i') ? [] : ['--maxWorkers=100%'];
const jest = await run(bin('jest'), [...workers, ...args]);
const types = await typecheck;
if (types.code !== 0) {
  process.stderr.write(`\ntype-check (tsc --noEmit) failed:\n${types.output}`);
} else {
  console.error(`type-check (tsc --noEmit): no errors (${(types.ms / 1000).toFixed(1)} s, alongside jest)`);
}
process.exit(jest.code || types.code);
