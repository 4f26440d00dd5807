import { excerpt, maskSecrets } from '../core/secret-scan';
import { distance } from 'fastest-levenshtein';

/** One problem in the configuration, located as precisely as we can. */
export interface ConfigIssue {
  /** The file, relative to the working directory (e.g. `environments/staging.yaml`). */
  readonly file: string;
  /** 1-based line of the offending value, when known. */
  readonly line?: number;
  /** Dotted path inside the file, e.g. `services.gateway.replicas.min`. */
  readonly path: string;
  /** What is wrong, including the value received and what is allowed or how to fix it. */
  readonly message: string;
}

/** Raised when the configuration is invalid; carries every issue found, not just the first. */
export class ConfigError extends Error {
  constructor(public readonly issues: ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = 'ConfigError';
  }
}

/**
 * One issue as a line: `file:line: path: message`. Any secret in it (a value a message quoted,
 * a path made of keys) is masked, whatever check wrote the message.
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}` : issue.file;
  return maskSecrets(`${where}: ${issue.path || '(top level)'}: ${issue.message}`);
}

export function formatIssues(issues: ConfigIssue[]): string {
  return issues.map(formatIssue).join('\n');
}

/** The longest quote of a string in a message, and of a mapping or list, in characters. */
export const QUOTE_LENGTH = 64;
export const SHOW_LENGTH = 80;

/**
 * Renders a value for a message, short and redacted: a string as a quoted excerpt of at most
 * 64 characters with every secret masked (core/secret-scan.ts: `"postgres://app:****@db/x"`,
 * `"ghp_…"`), a mapping or list as compact JSON of such excerpts cut at 80 characters, so that
 * no message repeats a whole object, a file's contents or a credential.
 */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(excerpt(value, undefined, QUOTE_LENGTH));
  if (value === undefined) return 'nothing';
  const json = maskSecrets(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? excerpt(v, undefined, 24) : v)) ??
      String(value),
  );
  return json.length > SHOW_LENGTH ? `${json.slice(0, SHOW_LENGTH - 1)}…` : json;
}

export type PathSegment = string | number;

/** `['services', 'gateway', 'ports', 1]` → `services.gateway.ports[1]`. */
export function formatPath(p: PathSegment[]): string {
  return p.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

/**
 * The candidate nearest to `value` when it is near enough to be a likely typo (edit distance at
 * most a third of the longer name, at least 1), else undefined: `risk-svc` → `risk-service` is
 * not a typo by that measure, so a candidate that starts or ends like the value also counts.
 */
export function nearest(value: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = distance(value.toLowerCase(), name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  if (best.d <= Math.max(1, Math.floor(Math.max(value.length, best.name.length) / 3))) return best.name;
  // an abbreviation: `risk-svc` for `risk-service`, `exec-gateway` for `execution-gateway`
  const parts = (s: string) => s.toLowerCase().split(/[-_.]/).filter(Boolean);
  const abbreviates = (short: string[], long: string[]) =>
    short.length === long.length &&
    short.every((p, i) => long[i].startsWith(p) || (p.length >= 2 && isSubsequence(p, long[i])));
  const matches = candidates.filter((c) => abbreviates(parts(value), parts(c)));
  return matches.length === 1 ? matches[0] : undefined;
}

function isSubsequence(short: string, long: string): boolean {
  let i = 0;
  for (const ch of long) if (ch === short[i]) i++;
  return i === short.length && short[0] === long[0];
}

/** How many names a message lists before it says how many more there are. */
export const LISTED_NAMES = 10;

/**
 * `names` for a message: all of them up to LISTED_NAMES, else the first ones and how many more
 * (a platform of 1,000 services does not get all its names in one message).
 */
export function listNames(names: readonly string[], max = LISTED_NAMES): string {
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}

/**
 * The quantity a malformed CPU, memory or duration value was most likely meant to be, in the
 * form Kubernetes and Prometheus accept: `4GB` → `4Gi`, `512 mb` → `512Mi`, `500 millicores` →
 * `500m`, `2 cores` → `2`, `5 min` → `5m`. Undefined when there is no likely reading.
 */
export function suggestQuantity(kind: 'cpu' | 'memory' | 'duration', value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (kind === 'memory') {
    const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp])(?:i?b|i)?$/i.exec(text);
    return m ? `${m[1]}${m[2].toUpperCase()}i` : undefined;
  }
  if (kind === 'cpu') {
    const milli = /^([0-9]+)\s*(?:m|millicores?|millicpu)$/i.exec(text);
    if (milli) return `${milli[1]}m`;
    const cores = /^([0-9]+(?:\.[0-9]{1,3})?)\s*(?:cores?|cpus?|vcpus?)$/i.exec(text);
    return cores ? cores[1] : undefined;
  }
  const units: Record<string, string> = {
    ms: 'ms',
    millisecond: 'ms',
    s: 's',
    sec: 's',
    second: 's',
    m: 'm',
    min: 'm',
    minute: 'm',
    h: 'h',
    hr: 'h',
    hour: 'h',
    d: 'd',
    day: 'd',
    w: 'w',
    week: 'w',
  };
  const parts = [...text.matchAll(/([0-9]+)\s*([a-z]+?)s?(?=\s|[0-9]|$)/gi)];
  if (
    !parts.length ||
    parts
      .map((p) => p[0])
      .join('')
      .replace(/\s/g, '') !== text.replace(/\s/g, '')
  )
    return undefined;
  const out = parts.map((p) => (units[p[2].toLowerCase()] ? `${p[1]}${units[p[2].toLowerCase()]}` : undefined));
  return out.every(Boolean) ? out.join('') : undefined;
}

/**
 * The environment variable name a refused one was most likely meant to be: every character other
 * than a letter, digit or `_` becomes `_`, and a leading digit gets a `_` before it (`LOG-LEVEL` →
 * `LOG_LEVEL`, `log.level` → `log_level`). Undefined when there is no such name.
 */
export function suggestEnvName(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/[A-Za-z0-9]/.test(value)) return undefined;
  const name = value.trim().replace(/[^A-Za-z0-9_]+/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}
