import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadPlatform } from '../../config/load';
import { generatePlatform } from '../../bin/bench-generate';
import { PARALLEL_MIN_SERVICES, synthesizeInParallel, workerCount } from '../../pipeline/parallel-synth';
import { synthesizeAll, SynthError } from '../../pipeline/synth';
import { copyEnvironments, edit, ENVIRONMENTS, referencePlatform } from '../helpers';

// starting worker isolates takes ~1 s on a quiet 2-core machine, and 100 s was measured on one
// running two jest workers beside other builds (load average 40)
jest.setTimeout(300_000);

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

  it('has the workers write the folders the caller names, and send only the rest', async () => {
    const { configs, outputs } = referencePlatform();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staged-'));
    const staged = configs[1].target;
    const parallel = await synthesizeInParallel(configs, 2, undefined, undefined, (folder) =>
      folder === staged ? path.join(dir, folder) : undefined,
    );
    for (const output of parallel) {
      const expected = outputs.find((o) => o.folder === output.folder)!;
      if (output.folder === staged) {
        expect(output.staged).toBe(true);
        expect(output.files.size).toBe(0);
        const written = fs.readdirSync(path.join(dir, staged)).sort();
        expect(written).toEqual([...expected.files.keys()].sort());
        for (const file of written)
          expect(fs.readFileSync(path.join(dir, staged, file), 'utf8')).toBe(expected.files.get(file));
      } else {
        expect(output.staged).toBeUndefined();
        expect([...output.files]).toEqual([...expected.files]);
      }
      expect(output.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(
        expected.manifests.map((m) => `${m.kind}/${m.metadata.name}`),
      );
    }
    expect(fs.readdirSync(dir)).toEqual([staged]);
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
    const dir = copyEnvironments();
    // the quota of staging is too small for its services at maximum scale
    edit(dir, 'staging.yaml', 'requests: { cpu: "20", memory: 40Gi,', 'requests: { cpu: "1", memory: 40Gi,');
    const configs = loadPlatform(dir);
    const serial = (() => {
      try {
        synthesizeAll(configs);
        return [];
      } catch (error) {
        return (error as SynthError).problems;
      }
    })();
    expect(serial.length).toBeGreaterThan(0);
    await expect(synthesizeInParallel(configs, 2)).rejects.toMatchObject({ name: 'SynthError', problems: serial });
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
