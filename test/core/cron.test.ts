import { cronProblem } from '../../core/cron';
import { goDurationFor, isGoDuration } from '../../core/go-duration';

describe('cron schedules as robfig/cron v3 reads them (ParseStandard)', () => {
  it.each([
    '0 2 * * *',
    '*/15 * * * *',
    '0 0-23/6 * * *',
    '5/10 * * * *',
    '0 0 1,15 * *',
    '0 0 31 * *',
    '0 0 * jan-MAR,Dec *',
    '0 0 ? * mon-fri',
    '59 23 31 12 6',
    '0 0 1 1 0',
    '@yearly',
    '@annually',
    '@monthly',
    '@weekly',
    '@daily',
    '@midnight',
    '@hourly',
    '@every 1h30m',
    '@every 1m',
  ])('accepts %s', (spec) => {
    expect(cronProblem(spec)).toBeUndefined();
  });

  it.each([
    ['@every 500ms', /"@every 500ms" would start a backup more than once a minute; allowed: 1m or more/],
    ['@every 0s', /more than once a minute/],
    ['0 24 * * *', /hour field "24": 24 is above 23; it takes 0-23/],
    ['0 0 32 * *', /day of month field "32": 32 is above 31/],
    ['0 0 * 0 *', /month field "0": 0 is below 1/],
    ['0 0 * * 7', /day of week field "7": 7 is above 6 \(Sunday is 0 or SUN here, never 7\)/],
    ['10-5 * * * *', /minute field "10-5": the range "10-5" runs backwards/],
    ['1-2-3 * * * *', /"1-2-3" has more than one "-"/],
    ['*/5/2 * * * *', /"\*\/5\/2" has more than one "\/"/],
    ['*/x * * * *', /the step "x" of "\*\/x" is not a whole number/],
    ['0 0 * * funday', /"funday" is not a day of week \(a number or a name\)/],
    ['0 0 mon * *', /"mon" is not a day of month \(a number\)/],
    ['0 0 * * * *', /has 6 fields; a schedule has five/],
    ['@often', /is not a descriptor; allowed: @yearly/],
    ['@every 1w', /"1w" after @every is not a Go duration; write "@every 168h"/],
    ['CRON_TZ=Europe/London 0 2 * * *', /sets a time zone; schedules here are in UTC/],
  ])('refuses %s', (spec, message) => {
    expect(cronProblem(spec)).toMatch(message);
  });

  it('names every bad field', () => {
    expect(cronProblem('60 24 * * *')).toMatch(/minute field "60".*; the hour field "24"/);
  });
});

describe('Go durations', () => {
  it.each(['168h', '720h0m0s', '1h30m', '1.5h', '500ms', '10us', '10\u00b5s', '10\u03bcs', '1ns', '0', '.5h', '5.h'])(
    'accepts %s',
    (d) => {
      expect(isGoDuration(d)).toBe(true);
    },
  );

  it.each(['7d', '1w', '1y', '', 'h', '-1h', '1 h', '1H'])('refuses %p', (d) => {
    expect(isGoDuration(d)).toBe(false);
  });

  it('gives a Prometheus-style duration with days, weeks or years in hours', () => {
    expect(goDurationFor('7d')).toBe('168h');
    expect(goDurationFor('30d')).toBe('720h');
    expect(goDurationFor('1w2d')).toBe('216h');
    expect(goDurationFor('1y')).toBe('8760h');
    expect(goDurationFor('1d12h30m')).toBe('36h30m');
    expect(goDurationFor('5m')).toBeUndefined(); // already a Go duration
    expect(goDurationFor('7 days')).toBeUndefined();
  });
});
