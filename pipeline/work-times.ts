/**
 * How long each target took on the synth workers last time, kept for the next synth's plan of
 * work (`planWork` in pipeline/parallel-synth.ts), as Jest orders test files by the durations of
 * their last run. A target's time depends on much more than its number of services (autoscalers,
 * alerts, dashboards, the checks they bring): of the generated 1,000-service platform, production
 * takes about 1.25 times as long as staging and 1.4 times as long as development, and a plan made
 * from service counts leaves one worker idle for a second at the end.
 *
 * Kept in build/.synth-times.json (derived data, like the compile cache), written whole and renamed
 * into place, so that synths running at the same time never read half a file. A missing or
 * damaged file, or an entry that is not a time, is ignored: the plan then goes by services.
 * Which worker does what never changes the output, only when it is done.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TargetConfig } from '../config/types';

/** The record: build/.synth-times.json (this file is build/pipeline/work-times.js). */
export const TIMES_FILE = path.resolve(__dirname, '..', '.synth-times.json');

/**
 * Targets remembered; the oldest entries go first (each bench run, and each test that runs synth
 * on workers, makes a platform of its own).
 */
export const MAX_REMEMBERED = 256;

/** One target's last time on the workers, and its services then. */
interface Entry {
  readonly ms: number;
  readonly services: number;
}

/** A target's entry: its name and the files it is made of (wherever synth runs from). */
function keyOf(config: TargetConfig): string {
  return [config.target, ...config.sources.map((source) => path.resolve(source))].join('\u0000');
}

/** A target's number of services: the size of its work when it was never timed. */
export function servicesOf(config: TargetConfig): number {
  return Object.keys(config.services).length;
}

function readRecord(file: string): Map<string, Entry> {
  const record = new Map<string, Entry>();
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return record;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return record;
  for (const [key, entry] of Object.entries(data as Record<string, unknown>)) {
    const { ms, services } = (entry ?? {}) as Partial<Entry>;
    if (typeof ms === 'number' && ms > 0 && ms < 1e9 && Number.isInteger(services) && services! > 0)
      record.set(key, { ms, services: services! });
  }
  return record;
}

/**
 * The size of each target's work for `planWork`: its last time in milliseconds, scaled by how
 * its services have grown or shrunk since; a target never timed gets the time per service of
 * those that were. When none was, each target's number of services.
 */
export function workSizes(configs: readonly TargetConfig[], file = TIMES_FILE): number[] {
  const record = readRecord(file);
  const known = configs.map((config) => record.get(keyOf(config)));
  const timed = known.filter((e): e is Entry => e !== undefined);
  if (timed.length === 0) return configs.map(servicesOf);
  const perService = timed.reduce((sum, e) => sum + e.ms / e.services, 0) / timed.length;
  return configs.map((config, i) => {
    const entry = known[i];
    return entry ? (entry.ms * Math.max(1, servicesOf(config))) / entry.services : perService * servicesOf(config);
  });
}

/**
 * Keeps the time of each target that was timed (`ms[i]` for `configs[i]`; undefined for one that
 * was refused or not timed), averaged with the time kept before: one synth slowed by the rest of
 * the machine does not turn the next plan around. A record that cannot be written is left as it
 * was: it only plans.
 */
export function recordTimes(
  configs: readonly TargetConfig[],
  ms: readonly (number | undefined)[],
  file = TIMES_FILE,
): void {
  const record = readRecord(file);
  configs.forEach((config, i) => {
    const time = ms[i];
    if (time === undefined || !(time > 0) || servicesOf(config) === 0) return;
    const key = keyOf(config);
    const before = record.get(key);
    const services = servicesOf(config);
    const average = before ? (time + (before.ms * services) / before.services) / 2 : time;
    record.delete(key); // re-inserted last: the newest
    record.set(key, { ms: Math.max(1, Math.round(average)), services });
  });
  const kept = [...record].slice(-MAX_REMEMBERED);
  const aside = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(aside, `${JSON.stringify(Object.fromEntries(kept), null, 1)}\n`);
    fs.renameSync(aside, file);
  } catch {
    try {
      fs.rmSync(aside, { force: true });
    } catch {
      // nowhere to write, so nothing was written
    }
  }
}
