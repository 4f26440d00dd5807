import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TargetConfig } from '../../config/types';
import { synthesizeInParallel, SynthPool } from '../../pipeline/parallel-synth';
import { MAX_REMEMBERED, recordTimes, workSizes } from '../../pipeline/work-times';
import { referencePlatform } from '../helpers';

jest.setTimeout(300_000);

/** A target of `services` services made of `sources` (all the record reads of a target). */
function target(name: string, services: number, sources = [`/envs/defaults.yaml`, `/envs/${name}.yaml`]): TargetConfig {
  const all = Object.fromEntries(Array.from({ length: services }, (_, i) => [`svc-${i}`, {}]));
  return { target: name, sources, services: all } as unknown as TargetConfig;
}

function scratch(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'work-times-')), 'times.json');
}

describe('the times kept for the plan of work', () => {
  const dev = target('development', 100);
  const prod = target('production', 100);
  const staging = target('staging', 50);

  it('plans by services while no target was timed', () => {
    expect(workSizes([dev, prod, staging], scratch())).toEqual([100, 100, 50]);
  });

  it("plans by each target's last time, and a target never timed by the time per service of the others", () => {
    const file = scratch();
    recordTimes([dev, prod], [4000, 6000], file);
    // 40 and 60 ms per service: 50 for staging's 50 services
    expect(workSizes([dev, prod, staging], file)).toEqual([4000, 6000, 2500]);
  });

  it('scales a time by the growth of the services since, and averages it with the time kept before', () => {
    const file = scratch();
    recordTimes([dev], [4000], file);
    expect(workSizes([target('development', 150)], file)).toEqual([6000]);
    recordTimes([dev], [6000], file);
    expect(workSizes([dev], file)).toEqual([5000]);
  });

  it('keeps nothing of a target that was refused or not timed', () => {
    const file = scratch();
    recordTimes([dev, prod], [undefined, Number.NaN], file);
    expect(workSizes([dev, prod], file)).toEqual([100, 100]);
  });

  it('tells targets apart by their files, wherever synth runs from', () => {
    const file = scratch();
    const here = process.cwd();
    const relative = target('production', 100, [path.relative(here, '/envs/defaults.yaml'), 'x/production.yaml']);
    recordTimes([relative], [3000], file);
    expect(
      workSizes([target('production', 100, ['/envs/defaults.yaml', path.resolve('x/production.yaml')])], file),
    ).toEqual([3000]);
    // another platform's production target
    expect(workSizes([target('production', 100, ['/other/defaults.yaml', '/other/production.yaml'])], file)).toEqual([
      100,
    ]);
  });

  it.each([
    ['not JSON', '{"development'],
    ['a list', '[1, 2]'],
    ['entries that are not times', JSON.stringify({ a: { ms: 'slow', services: 1 }, b: { ms: -1, services: 2 } })],
  ])('ignores a record that is %s, and writes a good one over it', (_, text) => {
    const file = scratch();
    fs.writeFileSync(file, text);
    expect(workSizes([dev, prod], file)).toEqual([100, 100]);
    recordTimes([dev], [4000], file);
    expect(workSizes([dev, prod], file)).toEqual([4000, 4000]);
  });

  it(`remembers the ${MAX_REMEMBERED} targets timed last`, () => {
    const file = scratch();
    const many = Array.from({ length: MAX_REMEMBERED + 1 }, (_, i) => target(`t${i}`, 10));
    many.forEach((t, i) => recordTimes([t], [1000 + i], file));
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')))).toHaveLength(MAX_REMEMBERED);
    expect(workSizes([many[0]], file)).toEqual([10]); // the oldest is gone: by services
    expect(workSizes([many[MAX_REMEMBERED]], file)).toEqual([1000 + MAX_REMEMBERED]);
  });

  it('leaves nothing behind and throws nothing when the record cannot be written', () => {
    const dir = path.dirname(scratch());
    const blocked = path.join(dir, 'a-file');
    fs.writeFileSync(blocked, '');
    expect(() => recordTimes([dev], [4000], path.join(blocked, 'times.json'))).not.toThrow();
    const taken = path.join(dir, 'taken');
    fs.mkdirSync(taken); // a folder where the record would go: the rename fails
    expect(() => recordTimes([dev], [4000], taken)).not.toThrow();
    expect(fs.readdirSync(dir).sort()).toEqual(['a-file', 'taken']);
  });

  it('is written by a synth on workers, with the time of each target it made', async () => {
    const { configs } = referencePlatform();
    const file = scratch();
    await synthesizeInParallel(configs, 2, new SynthPool(2, file));
    const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, { ms: number; services: number }>;
    expect(Object.keys(kept).map((key) => key.split('\u0000')[0])).toEqual(configs.map((c) => c.target));
    for (const [key, { ms, services }] of Object.entries(kept)) {
      const config = configs.find((c) => c.target === key.split('\u0000')[0])!;
      expect(services).toBe(Object.keys(config.services).length);
      expect(ms).toBeGreaterThan(0);
    }
    expect(workSizes(configs, file)).toEqual(
      configs.map((c) => Object.values(kept).find((_, i) => Object.keys(kept)[i].startsWith(`${c.target}\u0000`))!.ms),
    );
  });
});
