/**
 * `npm run diff -- <targetA> <targetB>`: the semantic difference between two targets' manifests
 * (objects added, removed, and changed fields with their old and new values), for promotion
 * reviews. Synthesizes both targets in memory from the configuration; reads nothing in dist/.
 * Exits 0 whatever the difference; 1 when the configuration or synth fails, 2 on bad usage.
 */
import { ConfigError, formatIssue } from '../config/errors';
import { loadPlatform } from '../config/load';
import { diffManifests, formatDiff } from '../pipeline/manifest-diff';
import { stockSettingProblem } from '../pipeline/speedups/switch';
import { synthesizeAll, SynthError } from '../pipeline/synth';

const USAGE =
  "usage: npm run diff -- <targetA> <targetB> [--config <dir>] [--json]\n(with --json: npm run -s diff -- ..., so that npm's banner stays out of the JSON)";

function fail(message: string, code = 2): never {
  console.error(`diff: ${message}`);
  process.exit(code);
}

function main(): void {
  const args = process.argv.slice(2);
  let config = 'environments';
  let json = false;
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return;
    } else if (arg === '--config') {
      const value = args[++i];
      if (!value) fail('--config needs a value');
      config = value;
    } else if (arg === '--json') {
      json = true;
    } else if (arg.startsWith('-')) {
      fail(`unknown argument ${arg}; ${USAGE}`);
    } else {
      targets.push(arg);
    }
  }
  if (targets.length !== 2) fail(`needs two targets, got ${targets.length}; ${USAGE}`);
  // a SYNTH_STOCK that names no speed-up is the caller's mistake, said as such
  const stock = stockSettingProblem();
  if (stock) fail(stock);

  try {
    const configs = loadPlatform(config);
    const known = configs.map((c) => c.target);
    const unknown = targets.filter((t) => !known.includes(t));
    if (unknown.length) fail(`unknown target ${unknown.join(', ')}; targets: ${known.join(', ')}`);
    const outputs = synthesizeAll(configs.filter((c) => targets.includes(c.target)));
    const [a, b] = targets.map((t) => outputs.find((o) => o.folder === t)!.manifests);
    const diff = diffManifests(a, b);
    console.log(json ? JSON.stringify(diff, null, 2) : formatDiff(targets[0], targets[1], diff));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`diff failed: ${error.issues.length} problem(s) in the configuration\n`);
      for (const issue of error.issues) console.error(`  ${formatIssue(issue)}`);
      process.exit(1);
    }
    if (error instanceof SynthError) {
      console.error(`diff failed: ${error.problems.length} problem(s)\n`);
      for (const problem of error.problems) console.error(`  ${problem}`);
      process.exit(1);
    }
    throw error;
  }
}

try {
  main();
} catch (error) {
  console.error(`diff: internal error: ${(error as Error).message}`);
  if (process.env.DEBUG) console.error((error as Error).stack);
  process.exit(2);
}
