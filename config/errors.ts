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

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}` : issue.file;
  return `${where}: ${issue.path || '(top level)'}: ${issue.message}`;
}

export function formatIssues(issues: ConfigIssue[]): string {
  return issues.map(formatIssue).join('\n');
}

/** Renders a value for a message: strings quoted, objects as compact JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

export type PathSegment = string | number;

/** `['services', 'gateway', 'ports', 1]` → `services.gateway.ports[1]`. */
export function formatPath(p: PathSegment[]): string {
  return p.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}
