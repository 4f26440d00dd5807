import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadPlatform } from '../../config/load';
import { generatePlatform } from '../../bin/bench-generate';
import {
  PARALLEL_MIN_SERVICES,
  planWork,
  PlannedStep,
  synthesizeInParallel,
  workerCount,
} from '../../pipeline/parallel-synth';
import { synthesizeAll, SynthError } from '../../pipeline/synth';
import { BUILD, copyEnvironments, edit, ENVIRONMENTS, referencePlatform } from '../helpers';

// starting worker isolates takes ~1 s on a quiet 2-core machine, and 100 s was measured on one
// running two jest workers beside other builds (load average 40)
jest.setTimeout(300_000);

/** The reference platform, with a staging quota too small for its services at maximum scale. */
function withStagingQuotaTooSmall(): string {
  const dir = copyEnvironments();
  edit(dir, 'staging.yaml', 'requests: { cpu: "20", memory: 40Gi,', 'requests: { cpu: "1", memory: 40Gi,');
  return dir;
}

/** The problems synthesis on one thread reports for `configs` (none when it succeeds). */
function serialProblems(configs: Parameters<typeof synthesizeAll>[0]): string[] {
  try {
    synthesizeAll(configs);
    return [];
  } catch (error) {
    return (error as SynthError).problems;
  }
}

describe('synthesis on worker threads', () => {
  it('gives the same files, object counts and capacity as synthesis on one thread', async () => {
    const { configs, outputs } = referencePlatform();
    const parallel = await synthesizeInParallel(configs, 2);
    expect(parallel.map((o) => o.folder)).toEqual(outputs.map((o) => o.folder));
    parallel.forEach((output, i) => {
      expect([...output.files.keys()]).toEqual([...outputs[i].files.keys()]);
      for (const [file, content] of output.files) expect(content).toBe(outputs[i].files.get(file));
      expect(output.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(
        outputs[i].manifests.map((m) => `${m.kind}/${m.metadata.name}`),
      );
      expect(output.capacity).toEqual(outputs[i].capacity);
    });
  });

  it('hands each valid target to the caller as soon as its worker sends it, before argocd/ is made', async () => {
    const { configs, outputs } = referencePlatform();
    const seen: string[] = [];
    await synthesizeInParallel(configs, 2, undefined, (output) => {
      seen.push(output.folder);
      // compared entry by entry: the worker's Map comes from another realm than jest's
      expect([...output.files]).toEqual([...outputs.find((o) => o.folder === output.folder)!.files]);
    });
    expect(seen.sort()).toEqual(configs.map((c) => c.target).sort());
  });

  it('has the workers write the folders the caller names, compare those it points to, and send all of the rest', async () => {
    const { configs, outputs } = referencePlatform();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staged-'));
    const staged = configs[1].target;
    // a folder as the output holds it: one file edited by hand, one missing, the rest as synth writes them
    const compared = configs[2].target;
    const current = path.join(dir, 'current');
    const expectedCompared = outputs.find((o) => o.folder === compared)!.files;
    const names = [...expectedCompared.keys()];
    const [edited, missing] = [names[3], names[7]];
    fs.mkdirSync(current);
    for (const [file, content] of expectedCompared)
      if (file !== missing)
        fs.writeFileSync(path.join(current, file), file === edited ? `${content}# edited\n` : content);
    const parallel = await synthesizeInParallel(configs, 2, undefined, undefined, (folder) =>
      folder === staged
        ? { stageDir: path.join(dir, folder) }
        : folder === compared
          ? { compareDir: current }
          : undefined,
    );
    for (const output of parallel) {
      const expected = outputs.find((o) => o.folder === output.folder)!;
      if (output.folder === compared) {
        expect(output.staged).toBeUndefined();
        expect([...output.unchanged!.keys()]).toEqual(names.filter((f) => f !== edited && f !== missing));
        expect([...output.files]).toEqual([
          [edited, expectedCompared.get(edited)],
          [missing, expectedCompared.get(missing)],
        ]);
      } else if (output.folder === staged) {
        expect(output.staged).toBe(true);
        expect(output.files.size).toBe(0);
        const written = fs.readdirSync(path.join(dir, staged)).sort();
        expect(written).toEqual([...expected.files.keys()].sort());
        for (const file of written)
          expect(fs.readFileSync(path.join(dir, staged, file), 'utf8')).toBe(expected.files.get(file));
      } else {
        expect(output.staged).toBeUndefined();
        expect(output.unchanged).toBeUndefined();
        expect([...output.files]).toEqual([...expected.files]);
      }
      expect(output.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(
        expected.manifests.map((m) => `${m.kind}/${m.metadata.name}`),
      );
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['current', staged].sort());
  });

  it("fails, with the caller's error, when handling a target fails (a write of staged files, say)", async () => {
    const { configs } = referencePlatform();
    await expect(
      synthesizeInParallel(configs, 2, undefined, () => {
        throw new Error('ENOSPC: no space left on device');
      }),
    ).rejects.toThrow('ENOSPC: no space left on device');
  });

  it("reports every target's problems, as on one thread", async () => {
    const configs = loadPlatform(withStagingQuotaTooSmall());
    const serial = serialProblems(configs);
    expect(serial.length).toBeGreaterThan(0);
    await expect(synthesizeInParallel(configs, 2)).rejects.toMatchObject({ name: 'SynthError', problems: serial });
  });

  it('hands a built target to another worker when whole targets cannot be shared out evenly, with the same files', async () => {
    const { configs, outputs } = referencePlatform();
    // three targets on two workers: one worker would have two whole targets to synthesize
    const three = configs.slice(0, 3);
    const plan = planWork(
      three.map((c) => Object.keys(c.services).length),
      2,
    );
    expect(plan.flat().filter((s) => s.part === 'build')).toHaveLength(1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staged-'));
    const parallel = await synthesizeInParallel(three, 2, undefined, undefined, (folder) => ({
      stageDir: path.join(dir, folder),
    }));
    const expected = outputs.slice(0, 3);
    expect(parallel.slice(0, 3).map((o) => o.folder)).toEqual(expected.map((o) => o.folder));
    parallel.slice(0, 3).forEach((output, i) => {
      expect(output.staged).toBe(true);
      const written = fs.readdirSync(path.join(dir, output.folder)).sort();
      expect(written).toEqual([...expected[i].files.keys()].sort());
      for (const file of written)
        expect(fs.readFileSync(path.join(dir, output.folder, file), 'utf8')).toBe(expected[i].files.get(file));
      expect(output.capacity).toEqual(expected[i].capacity);
    });
  });

  it('reports the problems of a target that was handed over, from the worker that refused it', async () => {
    // staging (refused while it is built) first: of three alike, the plan hands the first over
    const all = loadPlatform(withStagingQuotaTooSmall());
    const configs = ['staging', 'development', 'production-eu-west-1'].map((t) => all.find((c) => c.target === t)!);
    const serial = serialProblems(configs);
    expect(serial.length).toBeGreaterThan(0);
    // staging is the target handed over: refused by the worker that builds it, reported by the other
    const built = planWork(
      configs.map((c) => Object.keys(c.services).length),
      2,
    )
      .flat()
      .find((s) => s.part === 'build')!;
    expect(configs[built.index].target).toBe('staging');
    await expect(synthesizeInParallel(configs, 2)).rejects.toMatchObject({ name: 'SynthError', problems: serial });
  });

  describe('the plan of work', () => {
    const show = (plan: PlannedStep[][]) => plan.map((steps) => steps.map((s) => `${s.part}:${s.index}`));

    it('shares whole targets out when they divide evenly', () => {
      expect(show(planWork([100, 100], 2))).toEqual([['all:0'], ['all:1']]);
      expect(show(planWork([100, 100, 100, 100], 2))).toEqual([
        ['all:0', 'all:2'],
        ['all:1', 'all:3'],
      ]);
      expect(show(planWork([100, 100, 100], 3))).toEqual([['all:0'], ['all:1'], ['all:2']]);
    });

    it('has the busiest worker build one target first and hand it over, finished last by the idle one', () => {
      expect(show(planWork([1000, 1000, 1000], 2))).toEqual([
        ['build:0', 'all:2'],
        ['all:1', 'finish:0'],
      ]);
      expect(show(planWork([100, 100, 100, 100, 100], 2))).toEqual([
        ['build:0', 'all:2', 'all:4'],
        ['all:1', 'all:3', 'finish:0'],
      ]);
      // three workers, seven targets: two hand-overs, one to each of the others
      expect(show(planWork([10, 10, 10, 10, 10, 10, 10], 3))).toEqual([
        ['build:0', 'build:3', 'all:6'],
        ['all:1', 'all:4', 'finish:0'],
        ['all:2', 'all:5', 'finish:3'],
      ]);
    });

    it('hands nothing over that would not shorten the longest work', () => {
      // one large target and two small ones: the large one alone is the longest work
      expect(show(planWork([1000, 100, 100], 2))).toEqual([['all:0'], ['all:1', 'all:2']]);
      expect(show(planWork([100], 2))).toEqual([['all:0'], []]);
      expect(show(planWork([], 2))).toEqual([[], []]);
    });

    it('never has a worker finish a target before it has built everything it hands over', () => {
      for (const sizes of [
        [5, 5, 5],
        [9, 7, 5, 3, 1],
        [10, 10, 10, 10, 10, 10, 10],
        [1000, 900, 800],
      ]) {
        for (const workers of [2, 3, 4]) {
          const plan = planWork(sizes, workers);
          // every target exactly once whole, or once built and once finished on another worker
          for (const [index] of sizes.entries()) {
            const steps = plan.flatMap((p, w) => p.filter((s) => s.index === index).map((s) => ({ ...s, w })));
            const parts = steps.map((s) => s.part).sort();
            expect([index, parts]).toEqual([index, parts.length === 1 ? ['all'] : ['build', 'finish']]);
            if (parts.length === 2) expect(steps[0].w).not.toBe(steps[1].w);
          }
          // building steps come first in every worker
          for (const p of plan) {
            const firstOther = p.findIndex((s) => s.part !== 'build');
            if (firstOther >= 0) expect(p.slice(firstOther).some((s) => s.part === 'build')).toBe(false);
          }
        }
      }
    });
  });

  it("loads only what makes argocd/ on the command's own thread while workers build the targets", () => {
    // the constructs load in the workers; on the command's thread they would take a core from them
    const dir = copyEnvironments();
    generatePlatform(dir, Math.ceil(PARALLEL_MIN_SERVICES / 3) + 1, ENVIRONMENTS);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'main-thread-'));
    const list = path.join(scratch, 'modules.json');
    const hook = path.join(scratch, 'hook.js');
    fs.writeFileSync(
      hook,
      `const { isMainThread } = require('worker_threads');
      if (isMainThread) process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const out = path.join(scratch, 'dist');
    const result = spawnSync(
      process.execPath,
      ['-r', hook, path.join(BUILD, 'bin', 'synth.js'), '--config', dir, '--out', out, '--quiet'],
      // from the modules, whose loading this looks at (the bundle holds them all in one file)
      { encoding: 'utf8', env: { ...process.env, SYNTH_STOCK: 'bundle' } },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['.synth-output', 'argocd', 'development', 'production', 'staging']);
    const loaded = (JSON.parse(fs.readFileSync(list, 'utf8')) as string[])
      .filter((f) => f.startsWith(BUILD + path.sep))
      .map((f) => path.relative(BUILD, f).split(path.sep).join('/'));
    expect(loaded).toContain('pipeline/delivery-synth.js');
    if ((os.availableParallelism?.() ?? os.cpus().length) < 2) {
      expect(loaded).toContain('pipeline/synth.js'); // one core: no workers, everything here
    } else {
      expect(loaded).not.toContain('pipeline/synth.js');
      expect(loaded).not.toContain('charts/platform-chart.js');
    }
  });

  it('starts workers only for enough work on more than one core', () => {
    const small = referencePlatform().configs;
    expect(workerCount(small, 2)).toBe(0);
    const dir = copyEnvironments();
    generatePlatform(dir, Math.ceil(PARALLEL_MIN_SERVICES / 3) + 1, ENVIRONMENTS);
    const large = loadPlatform(dir);
    expect(workerCount(large, 2)).toBe(2);
    expect(workerCount(large, 1)).toBe(0);
    expect(workerCount(large, 16)).toBe(large.length);
    expect(workerCount(large.slice(0, 1), 2)).toBe(0);
  });
});
