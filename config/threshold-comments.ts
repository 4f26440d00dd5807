/**
 * STYLE.md, "Alerts": every threshold carries a comment with its reason. The alerts'
 * `threshold_reason` annotations point at these comments, so each threshold of an environment
 * file must have a comment on its line or on the line right above it (or above the key of the
 * block it sits in); a block of `monitoring.thresholds` may instead carry its reason as a
 * `reason` key, which is written to the annotation itself.
 *
 * Comments do not survive YAML parsing, so this reads the text: one pass over the lines that
 * tracks the block mappings by indentation (and the keys of one-line flow mappings), which costs
 * far less than a position-keeping parse of the file.
 */
import { ConfigIssue, PathSegment, formatPath } from './errors';

/** The keys of a service's own thresholds (under `monitoring.alerts` or `monitoring.slo`). */
export const THRESHOLD_KEYS: ReadonlySet<string> = new Set([
  'latencyP95Seconds',
  'latencyMeanSeconds',
  'thresholdSeconds',
  'orderRejectionRatio',
  'marketDataStaleSeconds',
  'drawdownRatio',
  'availability',
]);

export interface Threshold {
  /** The path of the threshold in the file, e.g. `services.gateway.monitoring.alerts.latencyP95Seconds`. */
  readonly path: string;
  /** 1-based line of its key. */
  readonly line: number;
  readonly commented: boolean;
}

type Json = Record<string, unknown>;

const KEY = /^(\s*)(?:-\s+)?("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"{}[\],:][^:#]*?)\s*:(?:\s+|$)(.*)$/;

/**
 * The 1-based line of every key of the file's block mappings and one-line flow mappings, by path (NUL-joined).
 * Blank lines, comments and a lone `-` never match `KEY`; the stack keeps each open key's joined path.
 */
export function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: Array<{ indent: number; path: string }> = [];
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    const match = KEY.exec(all[i]);
    if (!match) continue;
    const indent = match[1].length;
    const quoted = match[2].charCodeAt(0);
    const key = quoted === 34 || quoted === 39 ? match[2].replace(/^(["'])(.*)\1$/, '$2') : match[2];
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    const path = stack.length ? `${stack[stack.length - 1].path}\u0000${key}` : key;
    lines.set(path, i + 1);
    stack.push({ indent, path });
    if (match[3].includes('{')) {
      const rest = match[3].trim();
      if (rest.startsWith('{')) flowKeys(rest, path.split('\u0000'), i + 1, lines);
    }
  }
  return lines;
}

/** Records the keys of a one-line flow mapping (`{ a: 1, b: { c: 2 } }`) at `line`. */
function flowKeys(text: string, at: string[], line: number, out: Map<string, number>): void {
  // the path of each open mapping ({), or null inside a sequence ([), whose keys are not tracked
  const open: Array<string[] | null> = [];
  let next: string[] | null = at; // the key whose value comes next
  let token = '';
  let quote = '';
  let previous = ' ';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#' && /\s/.test(previous)) {
      break;
    } else if (ch === '{' || ch === '[') {
      open.push(ch === '{' ? next : null);
      next = null;
      token = '';
    } else if (ch === '}' || ch === ']') {
      open.pop();
      token = '';
    } else if (ch === ',') {
      token = '';
    } else if (ch === ':') {
      const parent = open[open.length - 1];
      const key = token.trim().replace(/^(["'])(.*)\1$/, '$2');
      next = parent && key ? [...parent, key] : null;
      if (next) out.set(next.join('\u0000'), line);
      token = '';
    }
    if (!/[{}[\],:]/.test(ch) || quote) token += ch;
    previous = ch;
  }
}

/**
 * Every threshold of a file (its text and its parsed data), with whether it says why. A value is a
 * threshold when its key is one of `THRESHOLD_KEYS` under `alerts` or `slo`, or it is any value
 * but `reason` under `monitoring.thresholds`.
 */
export function thresholdsOf(text: string, data: Json): Threshold[] {
  const out: Threshold[] = [];
  let rawLines: string[] | undefined;
  let lines: Map<string, number> | undefined;
  const commentAt = (line: number | undefined) => {
    if (line === undefined) return false;
    rawLines ??= text.split('\n');
    return /\s#\s/.test(rawLines[line - 1] ?? '') || /^\s*#/.test(rawLines[line - 2] ?? '');
  };
  const keys: string[] = []; // the path of the value walked, one array pushed and popped
  // `alertsOrSlo` and `standard` say what the keys above the value's own key are
  const walk = (value: unknown, parent: Json | undefined, alertsOrSlo: boolean, standard: boolean) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const own = keys[keys.length - 1];
      const inAlerts = alertsOrSlo || own === 'alerts' || own === 'slo';
      const inStandard = standard || (own === 'thresholds' && keys[keys.length - 2] === 'monitoring');
      for (const k of Object.keys(value)) {
        keys.push(k);
        walk((value as Json)[k], value as Json, inAlerts, inStandard);
        keys.pop();
      }
      return;
    }
    if (Array.isArray(value) || !keys.length) return;
    const key = keys[keys.length - 1];
    if (!((THRESHOLD_KEYS.has(key) && alertsOrSlo) || (standard && key !== 'reason'))) return;
    lines ??= keyLines(text);
    const line = lines.get(keys.join('\u0000'));
    if (line === undefined) return; // a layout the line scanner does not follow: not reported
    const commented =
      commentAt(line) ||
      (keys.length > 1 && commentAt(lines.get(keys.slice(0, -1).join('\u0000')))) ||
      (standard && typeof parent?.reason === 'string' && parent.reason.trim() !== '');
    out.push({ path: formatPath(keys as PathSegment[]), line, commented });
  };
  walk(data, undefined, false, false);
  return out;
}

/** One issue per threshold of the file that has no comment saying why. */
export function uncommentedThresholds(file: string, text: string, data: Json): ConfigIssue[] {
  return thresholdsOf(text, data)
    .filter((t) => !t.commented)
    .map((t) => ({
      file,
      line: t.line,
      path: t.path,
      message:
        'is an alert threshold without a comment saying why; add one on its line or the line above (e.g. "# p95 above 250ms means clients see a sluggish API"): the alert\'s threshold_reason points readers at it',
    }));
}
