import { excerpt, flagValueFindings, scanStrings, stringPath, stringsOf, StringFinding } from '../core/secret-scan';
import { ConfigIssue, formatPath, PathSegment } from './errors';

/** Where a path of a file is: its line (of the key, when `key`). */
type LineOf = (p: PathSegment[], key: boolean) => number | undefined;

/** Secrets reported per file; the rest are counted. */
const MAX_REPORTED = 20;

/**
 * Every string of one environment file (keys and values, every field: env, config, args,
 * commands, probes, sidecars, alert texts, URLs, the secret store's provider block, ...) scanned
 * for secrets (core/secret-scan.ts), each finding at its file, line and path with a redacted
 * excerpt and the field to use instead. The name-based check (`looksLikeCredential` in
 * config/rules.ts) catches what a scanner cannot see in a value alone (`DB_PASSWORD: hunter2`);
 * the scan of the rendered output (pipeline/secret-check.ts) is the backstop behind both.
 */
export function secretLiteralIssues(file: string, data: unknown, lineOf: LineOf): ConfigIssue[] {
  const strings = stringsOf(data, []);
  // a credential flag's value as the next item of any array (args, command, probe commands, ...)
  const findings = [...scanStrings(strings), ...flagValueFindings(data)].sort(
    (a, b) => a.index - b.index || a.start - b.start,
  );
  const issues: ConfigIssue[] = [];
  for (const finding of findings.slice(0, MAX_REPORTED)) {
    const where = stringPath(data, finding.index);
    if (!where) continue;
    const quoted = JSON.stringify(excerpt(strings[finding.index], [finding]));
    issues.push({
      file,
      line: lineOf(where.path, where.key),
      path: formatPath(where.path) + (where.key ? ' (a key)' : ''),
      message: `looks like a credential; ${finding.what} would be written to dist/ in plain text (${quoted}). ${capitalized(fixFor(where.path, finding))}`,
    });
  }
  if (findings.length > MAX_REPORTED) {
    issues.push({
      file,
      path: '',
      message: `${findings.length - MAX_REPORTED} more secret(s) not listed; fix the ones above and run synth again`,
    });
  }
  return issues;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What to use instead of a literal secret at `path` of an environment file. */
export function fixFor(path: readonly PathSegment[], finding: Pick<StringFinding, 'inUrl'>): string {
  // a region's block has the same shape as the environment's
  const p = path[0] === 'regions' ? path.slice(2) : path;
  if (p[0] === 'services') {
    const env = p.lastIndexOf('env');
    if (env >= 0 && typeof p[env + 1] === 'string') {
      const name = p[env + 1];
      return `move it to secrets: [{env: ${name}, remoteKey: ...}] so an ExternalSecret provides it${finding.inUrl ? ` (keep the URL without the credential in env and give the credential its own variable, then compose the URL as $(${name}))` : ''}`;
    }
    if (p[2] === 'config')
      return "config: entries are written to dist/ (a ConfigMap) in plain text; move the value to the service's secrets: [{env: ..., remoteKey: ...}] so an ExternalSecret provides it";
    // the kubelet expands $(NAME) in a container's command and args, not in a probe's (where a shell reads $NAME)
    if (p.includes('probes') && p.includes('exec'))
      return "pass it in an environment variable from the service's secrets: [{env: NAME, remoteKey: ...}] and let a shell read it: [sh, -c, '... \"$NAME\" ...'] ($(NAME) is not expanded in a probe)";
    if (p.includes('args') || p.includes('command'))
      return "pass it in an environment variable from the service's secrets: [{env: NAME, remoteKey: ...}] and write $(NAME) in the argument";
  }
  if (p[0] === 'delivery')
    return 'take the credential out of the URL: Argo CD reads repository and cluster credentials from its own Secrets in the argocd namespace, never from delivery.repoURL or delivery.server';
  if (p[0] === 'secretStore' && p[2] === 'webhook' && p[3] === 'headers')
    return 'list the credential under webhook.secrets: [{name: auth, secretRef: {name: ..., key: ...}}] and write the header as a template, e.g. "Bearer {{ .auth.token }}"';
  if (p[0] === 'secretStore')
    return "the store's credentials come from the provider's secretRef fields ({name, key, namespace}), never from literals in secretStore.provider";
  if (finding.inUrl)
    return 'take the credential out of the URL and keep it in the secret manager (a service gets it through secrets: [{env, remoteKey}])';
  return "keep secret values in the secret manager and reference them (secrets: [{env, remoteKey}] for a service's environment); nothing in dist/ may hold one";
}
