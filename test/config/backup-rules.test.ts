import * as fs from 'fs';
import * as path from 'path';
import { formatIssue } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { configIssues, copyEnvironments, edit } from '../helpers';

const DAILY = '{ name: daily, schedule: "0 2 * * *", ttl: 168h }';

/** The problems (file:line: path: message) staging.yaml is refused with when its daily backup runs on `schedule`. */
function refusedSchedule(schedule: string): { line: number; lines: string[] } {
  const dir = copyEnvironments();
  edit(dir, 'staging.yaml', DAILY, `{ name: daily, schedule: "${schedule}", ttl: 168h }`);
  const line =
    fs
      .readFileSync(path.join(dir, 'staging.yaml'), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(`schedule: "${schedule}"`)) + 1;
  return { line, lines: configIssues(dir).map(formatIssue) };
}

function loads(schedule: string): boolean {
  const dir = copyEnvironments();
  edit(dir, 'staging.yaml', DAILY, `{ name: daily, schedule: "${schedule}", ttl: 168h }`);
  return loadPlatform(dir).some((t) => t.backups.some((b) => b.schedule === schedule));
}

describe('backup schedules', () => {
  it('fails on an hour of 25, naming file, line, path, the field and its range', () => {
    const { line, lines } = refusedSchedule('0 25 * * *');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`staging\\.yaml:${line}: backups\\[0\\]\\.schedule: `));
    expect(lines[0]).toContain(
      '"0 25 * * *" is not a schedule Velero accepts for backup "daily": the hour field "25": 25 is above 23; it takes 0-23 (values, ranges a-b, steps */n or a-b/n, lists a,b, and * or ?) (in target staging)',
    );
  });

  it.each([
    ['60 2 * * *', 'the minute field "60": 60 is above 59; it takes 0-59'],
    ['0 2 0 * *', 'the day of month field "0": 0 is below 1; it takes 1-31'],
    ['0 2 * 13 *', 'the month field "13": 13 is above 12; it takes 1-12 or JAN-DEC'],
    [
      '0 2 * * 7',
      'the day of week field "7": 7 is above 6 (Sunday is 0 or SUN here, never 7); it takes 0-6 or SUN-SAT',
    ],
    ['0 2 * * FRI-MON', 'the day of week field "FRI-MON": the range "FRI-MON" runs backwards; write it low-high'],
    ['*/0 2 * * *', 'the minute field "*/0": the step of "*/0" is 0; a step is 1 or more'],
    ['0 2 * JANUARY *', 'the month field "JANUARY": "JANUARY" is not a month (a number or a name)'],
    ['0 2 1,,15 * *', 'the day of month field "1,,15": the list has an empty entry'],
    ['@every 1d', '"1d" after @every is not a Go duration; write "@every 24h"'],
  ])('fails on "%s", naming the field and what it takes', (schedule, message) => {
    const { line, lines } = refusedSchedule(schedule);
    expect(lines).toContainEqual(
      expect.stringContaining(
        `staging.yaml:${line}: backups[0].schedule: "${schedule}" is not a schedule Velero accepts for backup "daily": ${message}`,
      ),
    );
  });

  it.each([
    ['0 2 * *', 'has 4 fields; a schedule has five: minute, hour, day of month, month and day of week'],
    ['0 0 2 * * *', 'has 6 fields; a schedule has five'],
    ['@dayly', 'is not a descriptor; allowed: '],
    ['CRON_TZ=UTC 0 2 * * *', 'sets a time zone; schedules here are in UTC: leave out the TZ= or CRON_TZ= prefix'],
  ])('fails on %s, which is not five fields or a descriptor, saying what is wrong with it', (schedule, message) => {
    const { line, lines } = refusedSchedule(schedule);
    expect(lines).toContainEqual(
      expect.stringContaining(
        `staging.yaml:${line}: backups[0].schedule: "${schedule}" is not a schedule Velero accepts for backup "daily": ${message}`,
      ),
    );
  });

  it.each([
    '*/15 * * * *',
    '30 2 * * 1-5',
    '0 3 * * SUN',
    '0 0 1 jan,jul ?',
    '5/10 1-5/2 * * *',
    '@daily',
    '@every 6h',
  ])('accepts "%s", as robfig/cron reads it', (schedule) => {
    expect(loads(schedule)).toBe(true);
  });
});
