/**
 * npm run new-env -- <name> --from <environment> [--config <dir>]
 *
 * Writes environments/<name>.yaml as a copy of an existing environment file (comments kept),
 * with its own namespace and ingress host, and its own names for the objects of the whole cluster
 * (secretStore.name, priorityClasses.<class>.name: `<name>-qa`), and checks that the platform still loads with it:
 * `npm run synth` then writes dist/<name>/ and its Argo CD Application. Refuses a name that is
 * not a DNS-1123 label, that is already an environment or a target, or that names the Argo CD
 * folder; nothing is written then.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, formatIssue } from '../config/errors';
import { DEFAULTS_FILE, loadPlatform } from '../config/load';
import { keyLines } from '../config/threshold-comments';
import { TargetConfig } from '../config/types';
import { derivedHost, derivedName, derivedNamespace } from './new-env-names';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Whether a key (a NUL-joined path) names an object of the whole cluster: the secret store, a priority class. */
function namesClusterObject(key: string): boolean {
  const p = key.split('\u0000');
  return p[p.length - 1] === 'name' && (p[p.length - 2] === 'secretStore' || p[p.length - 3] === 'priorityClasses');
}

/** dist/ folders that are not environments. */
const RESERVED = ['argocd', 'defaults', 'schema'];

interface Options {
  name: string;
  from: string;
  config: string;
}

function usage(): string {
  return (
    'usage: npm run new-env -- <name> --from <environment> [--config <dir>]\n' +
    '  writes <dir>/<name>.yaml (default dir: environments) from <dir>/<environment>.yaml, with its own namespace and ingress host'
  );
}

function fail(message: string, code = 1): never {
  console.error(`new-env: ${message}`);
  process.exit(code);
}

function parseArgs(argv: string[]): Options {
  let name: string | undefined;
  let from: string | undefined;
  let config = 'environments';
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] =
      argv[i].startsWith('--') && argv[i].includes('=')
        ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
        : [argv[i], undefined];
    const value = () =>
      inline ??
      (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')
        ? argv[++i]
        : fail(`${flag} needs a value\n${usage()}`, 2));
    switch (flag) {
      case '--from':
        from = value();
        break;
      case '--config':
        config = value();
        break;
      case '--help':
      case '-h':
        console.log(usage());
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        if (flag.startsWith('-')) fail(`unknown argument ${flag}\n${usage()}`, 2);
        if (name !== undefined) fail(`one name only (got "${name}" and "${flag}")\n${usage()}`, 2);
        name = flag;
    }
  }
  if (name === undefined) fail(`the name of the new environment is missing\n${usage()}`, 2);
  if (from === undefined)
    fail(`--from <environment> is missing: the environment to copy (e.g. --from staging)\n${usage()}`, 2);
  return { name, from, config };
}

/**
 * Names of the whole cluster that a new target still shares with a target on its cluster: those it
 * inherits from a file it shares with it (defaults.yaml), which the copy did not hold to rename.
 */
function sharedNames(configs: readonly TargetConfig[], added: readonly string[], name: string): string[] {
  const warnings: string[] = [];
  for (const copy of configs.filter((c) => added.includes(c.target))) {
    for (const other of configs.filter((c) => !added.includes(c.target))) {
      if (other.delivery.server !== copy.delivery.server) continue;
      const shared = [
        ...(copy.secretStore.name === other.secretStore.name
          ? [`secretStore.name "${copy.secretStore.name}" (set it to "${derivedName(copy.secretStore.name, name)}")`]
          : []),
        ...Object.entries(copy.priorityClasses)
          .filter(([, c]) => Object.values(other.priorityClasses).some((o) => o.name === c.name))
          .map(([key, c]) => `priorityClasses.${key}.name "${c.name}" (set it to "${derivedName(c.name, name)}")`),
      ];
      if (shared.length)
        warnings.push(
          `${copy.target} deploys to the cluster of ${other.target} (${copy.delivery.server}) with the same ${shared.join(' and ')}, inherited from a file both read: set ${shared.length > 1 ? 'them' : 'it'} in ${name}.yaml, or synth refuses the two targets`,
        );
    }
  }
  return warnings;
}

/** The environments of a folder (file names without .yaml), defaults excluded. */
function environmentsIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== DEFAULTS_FILE)
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}

function main(): void {
  const { name, from, config } = parseArgs(process.argv.slice(2));
  const display = (f: string) => path.relative(process.cwd(), f) || f;
  if (!fs.existsSync(config) || !fs.statSync(config).isDirectory())
    fail(`${display(config)} is not a directory; pass the folder that holds defaults.yaml (--config)`);
  const environments = environmentsIn(config);
  if (!DNS_LABEL.test(name) || name.length > 63) {
    fail(
      `"${name}" is not a valid environment name: it names the file, the dist/ folder and the Argo CD Application, so it must be a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters), e.g. "qa"`,
    );
  }
  if (RESERVED.includes(name)) fail(`"${name}" is reserved (${RESERVED.join(', ')}); choose another name`);
  if (environments.includes(name))
    fail(`${display(path.join(config, `${name}.yaml`))} already exists; choose another name or edit that file`);
  const sourceFile = ['yaml', 'yml'].map((ext) => path.join(config, `${from}.${ext}`)).find((f) => fs.existsSync(f));
  if (!sourceFile || from === DEFAULTS_FILE.replace(/\.yaml$/, ''))
    fail(`--from ${from}: no such environment in ${display(config)}; environments: ${environments.join(', ')}`);

  // the targets of the platform as it is: a name must not collide with one (production-us-east-1)
  let targets: string[];
  try {
    targets = loadPlatform(config).map((c) => c.target);
  } catch (error) {
    if (error instanceof ConfigError)
      fail(
        `the configuration in ${display(config)} does not load as it is; fix it first:\n${error.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
      );
    throw error;
  }
  if (targets.includes(name))
    fail(`"${name}" is already a target (a region of another environment); choose another name`);

  // edited as text, line by line, so that the copy keeps the source's comments and layout
  const lines = fs.readFileSync(sourceFile, 'utf8').split('\n');
  const keys = keyLines(lines.join('\n'));
  // the value of `key` on its line: the line's own key, or one of a one-line flow mapping (`{ name: x, ... }`)
  const setValue = (line: number, key: string, value: (old: string) => string) => {
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    lines[line - 1] = lines[line - 1].replace(
      new RegExp(`(^\\s*(?:-\\s+)?|[{,]\\s*)(${escaped}:\\s*)(["']?)([^"'\\s#,}]+)\\3`),
      (_, before: string, label: string, quote: string, old: string) =>
        `${before}${label}${quote}${value(old)}${quote}`,
    );
  };
  let shortFrom = from;
  const namespaceLine = keys.get('namespace');
  if (namespaceLine !== undefined) {
    setValue(namespaceLine, 'namespace', (old) => {
      shortFrom = old.slice(old.lastIndexOf('-') + 1);
      return derivedNamespace(old, name);
    });
  }
  for (const [key, line] of keys) {
    if (key.endsWith('ingress\u0000host')) setValue(line, 'host', (old) => derivedHost(old, from, shortFrom, name));
    // the copy deploys to its source's cluster until its delivery.server is changed, and there an
    // object of the whole cluster (the ClusterSecretStore, a PriorityClass) may have one owner only
    if (namesClusterObject(key)) setValue(line, 'name', (old) => derivedName(old, name));
  }
  const header = [
    `# Environment "${name}", copied from ${path.basename(sourceFile)} by npm run new-env. Review before the first sync:`,
    '# namespace, cluster.name, ingress.host, delivery.server, the secret store and the remoteKeys of',
    "# monitoring.alerting, externals (the CIDRs of this cluster's peers, kubernetes-api included) and quota.",
  ];
  const at = /^#\s*yaml-language-server:/.test(lines[0]) ? 1 : 0;
  lines.splice(at, 0, ...header);
  const out = lines.join('\n');
  const file = path.join(config, `${name}.yaml`);
  fs.writeFileSync(file, out, { flag: 'wx' });

  // the new file must load with the rest; if not, it is taken back and the problems shown
  try {
    const configs = loadPlatform(config);
    const all = configs.map((c) => c.target).filter((t) => !targets.includes(t));
    console.log(
      `wrote ${display(file)} (a copy of ${path.basename(sourceFile)} with namespace, ingress host, secret store and priority class names of its own): target${all.length > 1 ? 's' : ''} ${all.join(', ')}; review it, then npm run synth`,
    );
    for (const warning of sharedNames(configs, all, name)) console.error(`new-env: ${warning}`);
  } catch (error) {
    fs.rmSync(file);
    if (error instanceof ConfigError)
      fail(
        `the copy does not load, nothing was written:\n${error.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
      );
    throw error;
  }
}

main();
