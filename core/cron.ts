/**
 * Cron schedules as Velero reads a Schedule's `spec.schedule`: with robfig/cron v3's standard
 * parser (`cron.ParseStandard`, parser.go and spec.go), five fields (minute, hour, day of month,
 * month, day of week) or a descriptor (`@daily`, `@every 1h`). Each field is a comma-separated
 * list of `*` or `?` (every value), a value, or a range `a-b`, each optionally with a step `/n`
 * (`5/15` is `5-max/15`); months and days of the week may be named (JAN-DEC, SUN-SAT, any case).
 * A schedule Velero cannot parse leaves the Schedule in phase FailedValidation and no backup is
 * ever taken, so synth refuses it instead.
 *
 * Stricter than robfig in three corners no real schedule needs: a list entry may not be empty
 * (`1,,2`), `*` takes no range (`*-5`), and numbers carry no sign (`+5`).
 */
import { GO_DURATION_RULE, goDurationFor, goDurationSeconds, isGoDuration } from './go-duration';

/** The descriptors robfig/cron's standard parser reads instead of five fields, besides `@every <duration>`. */
export const CRON_DESCRIPTORS = [
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
] as const;

/** One field of a five-field schedule: its bounds and, for months and weekdays, its names (the first is `min`). */
interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

/** The five fields, in order, with robfig/cron's bounds (spec.go). */
export const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const FORMS = 'values, ranges a-b, steps */n or a-b/n, lists a,b, and * or ?';

/** What a field takes, e.g. `1-12 or JAN-DEC (values, ranges a-b, ...)` for the month. */
export function cronFieldValues(field: CronField): string {
  const names = field.names
    ? ` or ${field.names[0].toUpperCase()}-${field.names[field.names.length - 1].toUpperCase()}`
    : '';
  const sunday = field.name === 'day of week' ? ', 0 is Sunday' : '';
  return `${field.min}-${field.max}${names} (${FORMS}${sunday})`;
}

/** What a schedule is, for the schema's description and messages. */
export const CRON_RULE =
  'a cron schedule in UTC as Velero reads it: five fields, minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC) and day of week (0-6 or SUN-SAT, 0 is Sunday), e.g. "0 2 * * *"; or @hourly, @daily, @weekly, @monthly, @yearly or @every <Go duration> such as "@every 6h"';

/** The value of one bound of a range: a number, or a name the field knows; undefined otherwise. */
function valueOf(text: string, field: CronField): number | undefined {
  if (/^[0-9]+$/.test(text)) return Number(text);
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  return index >= 0 ? field.min + index : undefined;
}

/** Why one field's text is not valid for `field`, or undefined when it is. */
function fieldProblem(text: string, field: CronField): string | undefined {
  for (const entry of text.split(',')) {
    if (entry === '') return 'the list has an empty entry';
    const [range, step, ...more] = entry.split('/');
    if (more.length) return `"${entry}" has more than one "/"`;
    if (step !== undefined) {
      if (!/^[0-9]+$/.test(step)) return `the step "${step}" of "${entry}" is not a whole number`;
      if (Number(step) === 0) return `the step of "${entry}" is 0; a step is 1 or more`;
    }
    if (range === '*' || range === '?') continue;
    const bounds = range.split('-');
    if (bounds.length > 2) return `"${entry}" has more than one "-"`;
    const values: number[] = [];
    for (const bound of bounds) {
      const value = valueOf(bound, field);
      if (value === undefined)
        return `"${bound || entry}" is not a ${field.name} (a number${field.names ? ' or a name' : ''})`;
      if (value < field.min) return `${bound} is below ${field.min}`;
      if (value > field.max) {
        const sunday = field.name === 'day of week' && value === 7 ? ' (Sunday is 0 or SUN here, never 7)' : '';
        return `${bound} is above ${field.max}${sunday}`;
      }
      values.push(value);
    }
    if (values.length === 2 && values[0] > values[1]) return `the range "${range}" runs backwards; write it low-high`;
  }
  return undefined;
}

/**
 * Why `spec` is not a schedule Velero accepts (robfig/cron v3's ParseStandard, in UTC), or
 * undefined when it is one. Every bad field is named, with what it takes.
 */
export function cronProblem(spec: string): string | undefined {
  if (/^(CRON_)?TZ=/.test(spec))
    return 'sets a time zone; schedules here are in UTC: leave out the TZ= or CRON_TZ= prefix';
  if (spec.startsWith('@')) {
    if ((CRON_DESCRIPTORS as readonly string[]).includes(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      const duration = spec.slice('@every '.length);
      // robfig runs a duration under a second every second; a backup takes longer than a minute
      if (isGoDuration(duration))
        return goDurationSeconds(duration) >= 60
          ? undefined
          : `"@every ${duration}" would start a backup more than once a minute; allowed: 1m or more (e.g. "@every 6h")`;
      const go = goDurationFor(duration);
      return `"${duration}" after @every is not a Go duration${go ? `; write "@every ${go}"` : ''} (${GO_DURATION_RULE})`;
    }
    return `is not a descriptor; allowed: ${CRON_DESCRIPTORS.join(', ')} and @every <Go duration>`;
  }
  const fields = spec.trim().split(/\s+/);
  if (fields.length !== CRON_FIELDS.length)
    return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; a schedule has five: minute, hour, day of month, month and day of week`;
  const problems = CRON_FIELDS.flatMap((field, i) => {
    const problem = fieldProblem(fields[i], field);
    return problem ? [`the ${field.name} field "${fields[i]}": ${problem}; it takes ${cronFieldValues(field)}`] : [];
  });
  return problems.length ? problems.join('; ') : undefined;
}
