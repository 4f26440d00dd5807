import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generatePlatform } from '../../../bin/bench-generate';
import { PARALLEL_MIN_SERVICES } from '../../../pipeline/parallel-synth';
import { BUILD, copyEnvironments, ENVIRONMENTS } from '../../helpers';

jest.setTimeout(180_000);

const SYNTH = path.join(BUILD, 'bin', 'synth.js');
const BUNDLE = path.join(BUILD, 'pipeline', 'speedups', 'bundle.js');

/** `bundleOf(entry)` in a process of its own (the switch is read once per process), with SYNTH_STOCK set to `stock`. */
function bundleIn(stock: string | undefined, entry: string): string | null {
  const env = { ...process.env };
  if (stock === undefined) delete env.SYNTH_STOCK;
  else env.SYNTH_STOCK = stock;
  const script = `console.log(JSON.stringify(require(${JSON.stringify(BUNDLE)}).bundleOf(${JSON.stringify(entry)}) ?? null))`;
  const result = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as string | null;
}

/**
 * Runs the command (build/bin/synth.js) with SYNTH_STOCK=`stock` into a new folder, with a hook
 * that records, for the command's thread and each worker thread, the files Node loaded as
 * modules. Returns the folder and those lists.
 */
function synth(stock: string, config: string): { out: string; loaded: string[][] } {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  const hook = path.join(scratch, 'hook.js');
  fs.writeFileSync(
    hook,
    `const { isMainThread, parentPort, threadId } = require('worker_threads');
    const record = () => require('fs').writeFileSync(${JSON.stringify(scratch)} + '/loaded-' + threadId + '.json', JSON.stringify(Object.keys(require.cache)));
    if (isMainThread) process.on('exit', record);
    else {
      // a worker is terminated once it has said it is done, often before its exit event
      const post = parentPort.postMessage.bind(parentPort);
      parentPort.postMessage = (message, transfer) => {
        if (message && message.done) record();
        return post(message, transfer);
      };
    }`,
  );
  const out = path.join(scratch, 'dist');
  const result = spawnSync(process.execPath, ['-r', hook, SYNTH, '--config', config, '--out', out, '--quiet'], {
    env: { ...process.env, SYNTH_STOCK: stock },
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const loaded = fs
    .readdirSync(scratch)
    .filter((f) => f.startsWith('loaded-'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(scratch, f), 'utf8')) as string[]);
  return { out, loaded };
}

/** Every file under `dir` (relative name → content). */
function files(dir: string): Map<string, string> {
  const names = (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
  return new Map(names.map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

function expectSameFiles(a: string, b: string): void {
  const [first, second] = [files(a), files(b)];
  expect(first.size).toBeGreaterThan(300);
  expect([...second.keys()]).toEqual([...first.keys()]);
  for (const [file, text] of first) expect({ file, text: second.get(file) }).toEqual({ file, text });
}

const inBuild = (list: string[]) =>
  list.filter((f) => f.startsWith(BUILD + path.sep)).map((f) => path.relative(BUILD, f).split(path.sep).join('/'));

describe('the bundle speed-up (pipeline/speedups/bundle.ts)', () => {
  it('names the bundle the build made for each entry, and none with SYNTH_STOCK=bundle or =1', () => {
    for (const entry of ['synth', 'synth-worker']) {
      const file = path.join(BUILD, 'bundle', `${entry}.js`);
      expect(fs.existsSync(file)).toBe(true);
      expect(bundleIn(undefined, entry)).toBe(file);
      expect(bundleIn('json,yaml', entry)).toBe(file);
      expect(bundleIn('bundle', entry)).toBeNull();
      expect(bundleIn('1', entry)).toBeNull();
      // the command, from its modules, reports the unknown name
      expect(bundleIn('no-such-speedup', entry)).toBeNull();
    }
  });

  it('runs the command from its bundle, and from its modules in stock mode, with the same files written', () => {
    const bundled = synth('', ENVIRONMENTS);
    const modules = synth('bundle', ENVIRONMENTS);
    // one thread each (the reference platform is too small for workers)
    expect(bundled.loaded).toHaveLength(1);
    expect(inBuild(bundled.loaded[0])).toEqual(
      expect.arrayContaining(['bin/synth.js', 'bundle/synth.js', 'config/validators.generated.js']),
    );
    expect(inBuild(bundled.loaded[0])).not.toContain('bin/synth-cli.js');
    expect(inBuild(bundled.loaded[0]).filter((f) => f.startsWith('charts/'))).toEqual([]);
    expect(inBuild(modules.loaded[0])).toEqual(
      expect.arrayContaining(['bin/synth-cli.js', 'charts/platform-chart.js']),
    );
    expect(inBuild(modules.loaded[0])).not.toContain('bundle/synth.js');
    expectSameFiles(modules.out, bundled.out);
  });

  it('runs the worker threads from their bundle too, with the same files written as from the modules', () => {
    if ((os.availableParallelism?.() ?? os.cpus().length) < 2) return; // one core: no workers
    const dir = copyEnvironments();
    generatePlatform(dir, Math.ceil(PARALLEL_MIN_SERVICES / 3) + 1, ENVIRONMENTS);
    const bundled = synth('', dir);
    const modules = synth('bundle', dir);
    // the command's thread and its workers
    expect(bundled.loaded.length).toBeGreaterThanOrEqual(3);
    expect(modules.loaded.length).toBe(bundled.loaded.length);
    const workers = (run: { loaded: string[][] }) => run.loaded.filter((l) => !inBuild(l).includes('bin/synth.js'));
    for (const list of workers(bundled)) {
      expect(inBuild(list)).toContain('bundle/synth-worker.js');
      expect(inBuild(list)).not.toContain('pipeline/synth-worker.js');
    }
    for (const list of workers(modules)) {
      expect(inBuild(list)).toContain('pipeline/synth-worker.js');
      expect(inBuild(list)).not.toContain('bundle/synth-worker.js');
    }
    expectSameFiles(modules.out, bundled.out);
  });
});
