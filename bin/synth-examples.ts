/**
 * npm run synth:examples [-- --check] [-- <example>...]
 *
 * Synthesizes every example of examples/ (each a folder with an `environments/` configuration)
 * into its own `examples/<example>/dist/`, by running the same synth CLI as `npm run synth` with
 * `--config examples/<example>/environments --out examples/<example>/dist`. Other arguments
 * (`--check`, `--quiet`) are passed on; names of examples restrict the run to those.
 * Exits non-zero when any example fails (or, with --check, is stale).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The folder that holds the examples, relative to the repository root (the working directory). */
export const EXAMPLES_DIR = 'examples';

/** The examples: folders of examples/ that hold an environments/ configuration, sorted. */
export function listExamples(root = process.cwd()): string[] {
  const dir = path.join(root, EXAMPLES_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'environments')))
    .map((e) => e.name)
    .sort();
}

/** The synth CLI arguments of one example. */
export function exampleArgs(example: string): string[] {
  return [
    '--config',
    path.join(EXAMPLES_DIR, example, 'environments'),
    '--out',
    path.join(EXAMPLES_DIR, example, 'dist'),
  ];
}

function main(): void {
  const argv = process.argv.slice(2);
  const known = listExamples();
  const names = argv.filter((a) => !a.startsWith('-'));
  const passed = argv.filter((a) => a.startsWith('-'));
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    console.error(`synth:examples: unknown example ${unknown.join(', ')}; examples: ${known.join(', ') || 'none'}`);
    process.exit(2);
  }
  const selected = names.length ? names : known;
  const synth = path.join(__dirname, 'synth.js');
  const failed: string[] = [];
  for (const example of selected) {
    console.log(`${EXAMPLES_DIR}/${example}:`);
    const run = spawnSync(process.execPath, [synth, ...exampleArgs(example), ...passed], { stdio: 'inherit' });
    if (run.status !== 0) failed.push(example);
  }
  if (failed.length) {
    console.error(`synth:examples: ${failed.length} of ${selected.length} example(s) failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

if (require.main === module) main();
