import { excerpt, maskSecrets } from '../lib/secret-scan';

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
 * 64 characters with every secret masked (lib/secret-scan.ts: `"postgres://app:****@db/x"`,
 * `"ghp_…"`), a mapping or list as compact JSON of such excerpts cut at 80 characters, so that
 * no message repeats a whole object, a file's contents or a credential.
 */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(excerpt(value, undefined, QUOTE_LENGTH));
  if (value === undefined) return 'nothing';
  const json = maskSecrets(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? excerpt(v, undefined, 24) : v)) ?? String(value));
  return json.length > SHOW_LENGTH ? `${json.slice(0, SHOW_LENGTH - 1)}…` : json;
}

export type PathSegment = string | number;

/** `['services', 'gateway', 'ports', 1]` → `services.gateway.ports[1]`. */
export function formatPath(p: PathSegment[]): string {
  return p.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}
