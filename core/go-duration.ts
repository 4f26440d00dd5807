/**
 * Go durations, as `time.ParseDuration` reads them: the form a controller written in Go reads a
 * `metav1.Duration` in (Velero's Schedule `ttl`) and robfig/cron reads `@every` in. Unlike a
 * Prometheus duration it has no d, w or y unit: a week is `168h`.
 */

/**
 * JSON Schema `pattern` (also a JavaScript RegExp) of a Go duration: `0`, or numbers (`1`, `1.5`,
 * `.5`, `5.`), each with a unit (ns, us, µs, ms, s, m, h), e.g. `168h`, `720h0m0s`, `1h30m`. No
 * sign: nothing here is negative.
 */
export const GO_DURATION = '^(0|(([0-9]+\\.?[0-9]*|\\.[0-9]+)(ns|us|\\u00b5s|\\u03bcs|ms|s|m|h))+)$';

/** What a Go duration is, for messages and the schema's description. */
export const GO_DURATION_RULE =
  'a Go duration: numbers with the units h, m, s, ms, us or ns (no d, w or y), e.g. "168h" for a week or "720h0m0s"';

const GO = new RegExp(GO_DURATION, 'u');

/** Whether `text` is a Go duration (GO_DURATION). */
export function isGoDuration(text: unknown): text is string {
  return typeof text === 'string' && GO.test(text);
}

const SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** The seconds a Go duration (isGoDuration) stands for. */
export function goDurationSeconds(text: string): number {
  return [...text.matchAll(/([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/gu)].reduce(
    (sum, [, number, unit]) => sum + Number(number || 0) * SECONDS[unit],
    0,
  );
}

const HOURS: Record<string, number> = { y: 365 * 24, w: 7 * 24, d: 24, h: 1 };

/**
 * The Go duration a Prometheus-style duration with days, weeks or years means (`7d` → `168h`,
 * `1w2d` → `216h`, `1y` → `8760h`, `1d12h30m` → `36h30m`), or undefined when `text` is no such
 * duration (a year is 365 days, as Prometheus counts it).
 */
export function goDurationFor(text: string): string | undefined {
  const parts = [...text.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) return undefined;
  if (!parts.some((p) => p[2] === 'd' || p[2] === 'w' || p[2] === 'y')) return undefined;
  const hours = parts.reduce((sum, p) => sum + (HOURS[p[2]] ?? 0) * Number(p[1]), 0);
  const rest = parts.filter((p) => HOURS[p[2]] === undefined).map((p) => p[0]);
  return `${hours}h${rest.join('')}`;
}
