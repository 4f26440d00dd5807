/**
 * The backstop that no configuration field can get around: every string of every manifest of a
 * target (keys and values) and its README are scanned for secrets (core/secret-scan.ts) after
 * they are rendered and before anything is written. The configuration checks (config/secret-rules.ts)
 * refuse the same secrets earlier, at the line of the environment file that holds them; this
 * check sees what the constructs made of the configuration, whatever field it came through.
 */
import { excerpt, scanValues, stringPath, stringsOf, StringFinding } from '../core/secret-scan';
import { fileNameOf, Manifest } from '../core/manifest';

type Segment = string | number;

/** Secrets reported per target; the rest are counted (each report walks the target's strings once). */
const MAX_REPORTED = 20;

/** `['spec', 'containers', 0, 'env', 3, 'value']` → `spec.containers[0].env[3].value`; odd keys in brackets. */
export function formatObjectPath(path: readonly Segment[]): string {
  return path.reduce<string>((acc, seg) => {
    if (typeof seg === 'number') return `${acc}[${seg}]`;
    if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) return acc ? `${acc}.${seg}` : seg;
    return `${acc}[${JSON.stringify(seg)}]`;
  }, '');
}

/** What to do instead, by where the secret was found. */
function fixFor(manifest: Manifest, path: readonly Segment[], finding: StringFinding): string {
  const at = (i: number) => path[i];
  const env = path.lastIndexOf('env');
  if (env >= 0 && typeof at(env + 1) === 'number') {
    const entry = valueAt(manifest, path.slice(0, env + 2)) as { name?: string } | undefined;
    const name = entry?.name ?? 'NAME';
    return `move it to the service's secrets: [{env: ${name}, remoteKey: ...}] so an ExternalSecret provides ${name} (for a URL: keep the URL without the credential and give the credential its own variable)`;
  }
  if (manifest.kind === 'ConfigMap' && at(0) === 'data') {
    return "config: entries are written to dist/ in plain text; move the value to the service's secrets: [{env: ..., remoteKey: ...}] so an ExternalSecret provides it";
  }
  // the kubelet expands $(NAME) in a container's command and args, not in a probe's (where a shell reads $NAME)
  if (
    path.includes('exec') &&
    path.some((seg) => seg === 'livenessProbe' || seg === 'readinessProbe' || seg === 'startupProbe')
  ) {
    return "pass it in an environment variable from the service's secrets: and let a shell read it: [sh, -c, '... \"$NAME\" ...'] ($(NAME) is not expanded in a probe)";
  }
  if (path.includes('args') || path.includes('command')) {
    return "pass it in an environment variable from the service's secrets: and refer to it as $(NAME) in the argument";
  }
  if (manifest.kind === 'Application' || manifest.kind === 'AppProject') {
    return 'take the credential out of delivery.repoURL / delivery.server: Argo CD reads repository and cluster credentials from its own Secrets in the argocd namespace';
  }
  if (manifest.kind === 'ClusterSecretStore' && path.includes('webhook') && path.includes('headers')) {
    return 'list the credential under secretStore.provider.webhook.secrets: [{name: auth, secretRef: {name: ..., key: ...}}] and write the header as a template, e.g. "Bearer {{ .auth.token }}"';
  }
  if (manifest.kind === 'ClusterSecretStore') {
    return "credentials of the secret store come from the provider's secretRef fields ({name, key, namespace}), never from literals in secretStore.provider";
  }
  if (finding.inUrl)
    return 'take the credential out of the URL and keep it in the secret manager (a service gets it through secrets:)';
  return "keep secret values out of the configuration: store them in the secret manager and reference them (secrets: [{env, remoteKey}] for a service's environment)";
}

function valueAt(value: unknown, path: readonly Segment[]): unknown {
  return path.reduce<unknown>(
    (acc, seg) =>
      acc !== null && typeof acc === 'object' ? (acc as Record<string, unknown>)[seg as string] : undefined,
    value,
  );
}

/**
 * The secrets in a rendered target (`folder` of dist/): one message per secret, naming the
 * folder, the file, the object, the field, a redacted excerpt and the field to use instead.
 */
export function secretProblems(folder: string, manifests: readonly Manifest[], readme?: string): string[] {
  // with a credential flag's value as the next item of a container's args or command
  const scanned = scanValues(readme === undefined ? manifests : [readme, ...manifests], ['args', 'command']);
  const firstString = readme === undefined ? scanned.starts : scanned.starts.slice(1);
  const { findings } = scanned;
  const problems: string[] = [];
  if (findings.length === 0) return problems;
  // every string, in the order of the findings' indices: listed only to report what was found
  const strings: string[] = readme === undefined ? [] : [readme];
  for (const manifest of manifests) stringsOf(manifest, strings);
  for (const finding of findings.slice(0, MAX_REPORTED)) {
    const value = strings[finding.index];
    const quoted = JSON.stringify(excerpt(value, [finding]));
    const elsewhere = strings.reduce((n, s, i) => (s === value && i !== finding.index ? n + 1 : n), 0);
    const also = elsewhere ? ` (and ${elsewhere} other place${elsewhere > 1 ? 's' : ''})` : '';
    if (readme !== undefined && finding.index === 0) {
      const line = readme.slice(0, finding.start).split('\n').length;
      problems.push(
        `${folder}: README.md:${line}: ${finding.what} would be written to dist/ in plain text (${quoted}); fix: remove it from the configuration the README shows; keep secret values in the secret manager`,
      );
      continue;
    }
    // the manifest the string belongs to: the last one whose first string is at or before it
    let m = 0;
    for (let hi = firstString.length - 1; m < hi;) {
      const mid = (m + hi + 1) >> 1;
      if (firstString[mid] <= finding.index) m = mid;
      else hi = mid - 1;
    }
    const manifest = manifests[m];
    const where = stringPath(manifest, finding.index - firstString[m]);
    const path = where ? `${formatObjectPath(where.path)}${where.key ? ' (a key)' : ''}` : '(unknown field)';
    problems.push(
      `${folder}: ${fileNameOf(manifest)}: ${manifest.kind}/${manifest.metadata.name}: ${path}: ${finding.what} would be written to dist/ in plain text (${quoted})${also}; fix: ${where ? fixFor(manifest, where.path, finding) : 'remove it'}`,
    );
  }
  if (findings.length > MAX_REPORTED)
    problems.push(
      `${folder}: ${findings.length - MAX_REPORTED} more secret(s) not listed; fix the ones above and run synth again`,
    );
  return problems;
}
