import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import type { Document, LineCounter, Node } from 'yaml';
import { AJV_OPTIONS, GENERATED_VALIDATORS, isCurrent, schemaHash } from './compiled-validators';
import {
  ConfigError,
  ConfigIssue,
  formatPath,
  nearest,
  PathSegment,
  show,
  suggestEnvName,
  suggestQuantity,
} from './errors';
import { checkReplicationRules, expandReplication } from './replication';
import { checkRules } from './rules';
import { secretLiteralIssues } from './secret-rules';
import { uncommentedThresholds } from './threshold-comments';
import type * as SchemaModule from './schema';
import { TargetConfig } from './types';
import { goDurationFor } from '../core/go-duration';
import type { Obj } from '../core/manifest';

/** The file every environment builds on. */
export const DEFAULTS_FILE = 'defaults.yaml';
/** The largest environment file read: far above any real one (the reference's are < 20 KiB). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** The alias budget: the most characters a file's data may hold once its YAML aliases are expanded. */
export const MAX_EXPANDED_SIZE = 8 * 1024 * 1024;
/** A target (environment, or environment-region) names a dist/ folder and labels: a DNS-1123 label. */
const MAX_TARGET_NAME = 63;
export { AJV_OPTIONS, GENERATED_VALIDATORS, schemaHash };

type Json = Record<string, unknown>;

/**
 * The position-keeping YAML parser, loaded on first use: a valid file is read by js-yaml, and
 * this one is needed only to place a problem at its line or to report invalid YAML.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
const positional = (): typeof import('yaml') => require('yaml');

/** A parsed YAML file of environments/, with what is needed to point at a line. */
interface SourceFile {
  readonly file: string;
  /** The YAML document with positions, parsed only when an issue needs a line number. */
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly data: Json;
}

/** A file whose data came from the fast parser; its positions are parsed on first use. */
class LazySource implements SourceFile {
  private parsed?: { doc: Document; lines: LineCounter };
  constructor(
    readonly file: string,
    private readonly text: string,
    readonly data: Json,
  ) {}
  get doc(): Document {
    return this.positions().doc;
  }
  get lines(): LineCounter {
    return this.positions().lines;
  }
  private positions(): { doc: Document; lines: LineCounter } {
    if (!this.parsed) {
      const { LineCounter, parseDocument } = positional();
      const lines = new LineCounter();
      this.parsed = { doc: parseDocument(this.text, { lineCounter: lines, uniqueKeys: true, version: '1.2' }), lines };
    }
    return this.parsed;
  }
}

/** Where a merged value came from: the file and the path prefix inside it (`regions.<r>`). */
interface Origin {
  readonly source: SourceFile;
  readonly prefix: PathSegment[];
}

let compiled: { layer: ValidateFunction; target: ValidateFunction } | undefined;

function validators(): { layer: ValidateFunction; target: ValidateFunction } {
  if (!compiled) {
    const generated = path.join(__dirname, GENERATED_VALIDATORS);
    if (fs.existsSync(generated)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file generated at build time, found at run time
      const module = require(generated);
      if (isCurrent(module)) compiled = { layer: module.layer, target: module.target };
    }
  }
  if (!compiled) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- only when the compiled validators are stale
    const Ajv = require('ajv').default as typeof import('ajv').default;
    const { layerSchema, targetSchema } = schemaModule();
    const ajv = new Ajv(AJV_OPTIONS);
    compiled = { layer: ajv.compile(layerSchema()), target: ajv.compile(targetSchema) };
  }
  return compiled;
}

/**
 * The schema itself (TypeBox), loaded only when it is needed: to compile stale validators, or to
 * explain an error. A valid configuration is checked by the compiled validators alone.
 */
function schemaModule(): typeof SchemaModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred: TypeBox costs ~0.1 s to load
  return require('./schema') as typeof SchemaModule;
}

/**
 * Reads `defaults.yaml` and every other `*.yaml` in `dir`, validates each file and each merged
 * target, and returns one TargetConfig per deployment target, sorted by target name.
 *
 * @throws ConfigError listing every problem found, each with file, line, path, value and fix.
 */
export function loadPlatform(dir: string): TargetConfig[] {
  const issues: ConfigIssue[] = [];
  const display = (file: string) => path.relative(process.cwd(), file) || file;

  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ConfigError([
      {
        file: display(dir),
        path: '',
        message: 'is not a directory; pass the folder that holds defaults.yaml and the environment files',
      },
    ]);
  }
  const names = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  // only regular files are read: no link (it may point anywhere, e.g. at /proc/self/environ), no
  // pipe (opening one waits forever), no device or socket, no directory that merely ends in .yaml
  const unreadable = new Set<string>();
  for (const name of names) {
    const problem = notARegularFile(path.join(dir, name));
    if (problem) {
      issues.push({ file: display(path.join(dir, name)), path: '', message: problem });
      unreadable.add(name);
    }
  }
  if (!names.includes(DEFAULTS_FILE)) {
    issues.push({
      file: display(path.join(dir, DEFAULTS_FILE)),
      path: '',
      message: 'is missing; every environment builds on defaults.yaml',
    });
  }
  const environmentNames = names.filter((f) => f !== DEFAULTS_FILE);
  if (environmentNames.length === 0) {
    issues.push({
      file: display(dir),
      path: '',
      message: 'holds no environment file; add e.g. development.yaml next to defaults.yaml',
    });
  }

  const sources = new Map<string, SourceFile>();
  for (const name of names) {
    if (unreadable.has(name)) continue;
    const source = parseFile(path.join(dir, name), display(path.join(dir, name)), name === DEFAULTS_FILE, issues);
    if (source) sources.set(name, source);
  }
  // every alert threshold says why (STYLE.md): comments are in the text only, so read it again
  for (const [name, source] of sources) {
    issues.push(...uncommentedThresholds(source.file, fs.readFileSync(path.join(dir, name), 'utf8'), source.data));
  }
  if (issues.length) throw new ConfigError(issues);

  const targets: TargetConfig[] = [];
  const defaults = sources.get(DEFAULTS_FILE)!;
  for (const name of environmentNames) {
    const env = sources.get(name)!;
    const environment = name.replace(/\.ya?ml$/, '');
    if (!new RegExp('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$').test(environment) || environment.length > MAX_TARGET_NAME) {
      issues.push({
        file: env.file,
        path: '',
        message: `the file name ${excerpt(environment)} must be a DNS-1123 label of at most ${MAX_TARGET_NAME} characters: lower-case letters, digits and "-" (it names the environment, its dist/ folder and the objects' labels); rename the file`,
      });
      continue;
    }
    if (defaults.data.regions !== undefined) {
      issues.push({
        file: defaults.file,
        line: lineOf(defaults, ['regions'], true),
        path: 'regions',
        message: 'regions belong in an environment file, not in defaults.yaml',
      });
    }
    const { regions, ...envData } = env.data;
    const regionEntries: Array<[string | undefined, Json | undefined]> =
      regions && typeof regions === 'object'
        ? Object.entries(regions as Record<string, Json>)
        : [[undefined, undefined]];
    for (const [region, overrides] of regionEntries) {
      // which file set each path is needed only to place a problem: the merge is done again, tracked, on the first
      const mergeAll = (origins?: Map<string, Origin>): Json => {
        let merged: Json = {};
        merged = mergeLayer(merged, defaults.data, { source: defaults, prefix: [] }, undefined, origins);
        merged = mergeLayer(merged, envData, { source: env, prefix: [] }, undefined, origins);
        if (region !== undefined) {
          merged = mergeLayer(
            merged,
            overrides ?? {},
            { source: env, prefix: ['regions', region] },
            undefined,
            origins,
          );
        }
        return merged;
      };
      const merged = mergeAll();
      let origins: Map<string, Origin> | undefined;
      const originsOf = () => {
        if (!origins) mergeAll((origins = new Map()));
        return origins;
      };
      const target = region ? `${environment}-${region}` : environment;
      if (target.length > MAX_TARGET_NAME) {
        issues.push({
          file: env.file,
          line: lineOf(env, ['regions', region!], true),
          path: formatPath(['regions', region!]),
          message: `makes the target name "${target}" ${target.length} characters long; a target names a dist/ folder and Argo CD objects and may have at most ${MAX_TARGET_NAME}: shorten the environment file name or the region`,
        });
        continue;
      }
      const locate = (p: PathSegment[]) => locateMerged(p, originsOf(), env);
      const before = issues.length;
      const validate = validators().target;
      if (!validate(merged)) {
        for (const error of relevantErrors(validate.errors ?? []))
          issues.push(describeAjvError(error, merged, locate, target));
      }
      if (issues.length > before) continue;
      const written = toTargetConfig(merged, { target, environment, region, sources: [defaults.file, env.file] });
      // replication is checked as written, then made plain for every other rule and for the charts
      const replicationIssues = checkReplicationRules(written, locate);
      issues.push(...replicationIssues);
      if (replicationIssues.length) continue;
      const config = expandReplication(written);
      issues.push(...checkRules(config, locate));
      targets.push(config);
    }
  }
  if (issues.length) throw new ConfigError(dedupe(issues));
  return targets.sort((a, b) => a.target.localeCompare(b.target));
}

/** Why `file` is not a regular file synth may read, or undefined when it is one (lstat: links are not followed). */
function notARegularFile(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); environment files must be regular files`;
  }
  if (stat.isFile()) return undefined;
  const what = stat.isSymbolicLink()
    ? 'a symbolic link'
    : stat.isDirectory()
      ? 'a directory'
      : stat.isFIFO()
        ? 'a named pipe (FIFO)'
        : stat.isSocket()
          ? 'a socket'
          : 'a device';
  const fix = stat.isSymbolicLink()
    ? 'synth follows no link, which could point at any file outside the folder; put the file itself here'
    : `rename or remove it`;
  return `is ${what}, not a regular file; only regular files named *.yaml are read from the configuration folder: ${fix}`;
}

/**
 * The text of a regular file of at most MAX_FILE_BYTES, or undefined after recording why not.
 * Opened without following a link and without waiting on a pipe, then checked again (fstat), so
 * a file swapped after the directory was listed is refused too.
 */
function readRegularFile(absolute: string, file: string, issues: ConfigIssue[]): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(absolute, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    issues.push({
      file,
      path: '',
      message:
        code === 'ELOOP'
          ? (notARegularFile(absolute) ?? 'is a symbolic link; put the file itself here')
          : `cannot be read (${code ?? 'error'})`,
    });
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      issues.push({
        file,
        path: '',
        message:
          'is not a regular file; only regular files named *.yaml are read from the configuration folder: rename or remove it',
      });
      return undefined;
    }
    const tooLarge = (bytes: number) =>
      issues.push({
        file,
        path: '',
        message: `is ${mebibytes(bytes)} MiB; an environment file may be at most ${mebibytes(MAX_FILE_BYTES)} MiB: keep long text (descriptions, dashboards) out of the configuration`,
      });
    if (stat.size > MAX_FILE_BYTES) {
      tooLarge(stat.size);
      return undefined;
    }
    // read to the end, but never more than one byte over the limit: a file that grows while it
    // is read is refused as well
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stat.size - length, 0) + 1, MAX_FILE_BYTES + 1 - length));
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      length += n;
      if (length > MAX_FILE_BYTES) {
        tooLarge(length);
        return undefined;
      }
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

const mebibytes = (bytes: number) => String(Math.round((bytes / 1024 / 1024) * 10) / 10);

/** A short, quoted excerpt of a name or value for a message. */
function excerpt(value: string): string {
  return value.length > 40
    ? `${JSON.stringify(value.slice(0, 40))}... (${value.length} characters)`
    : JSON.stringify(value);
}

/**
 * Checks the data of one file before anything else walks it: its size once every YAML alias
 * (`*anchor`) is expanded stays within MAX_EXPANDED_SIZE (the alias budget that stops a
 * "billion laughs" file, which both parsers return as a small graph of shared objects that every
 * later step would expand), and no key is `__proto__` or `constructor`, which JavaScript objects
 * (and so the cdk8s serializer) do not treat as ordinary keys. Linear in the file: a shared
 * object is measured once.
 */
function checkData(
  data: unknown,
  source: { file: string; lineOf: (p: PathSegment[], key?: boolean) => number | undefined },
  issues: ConfigIssue[],
): boolean {
  const sizes = new Map<object, number>();
  const p: PathSegment[] = [];
  let reserved = 0;
  const walk = (value: unknown): number => {
    if (typeof value === 'string') return value.length + 1;
    if (value === null || typeof value !== 'object') return 1;
    const known = sizes.get(value);
    if (known !== undefined) return known;
    sizes.set(value, 1); // a cycle (an alias inside its own anchor) counts once
    let size = 1;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length && size <= MAX_EXPANDED_SIZE; i++) {
        p.push(i);
        size += walk(value[i]);
        p.pop();
      }
    } else {
      for (const key of Object.keys(value)) {
        p.push(key);
        if ((key === '__proto__' || key === 'constructor') && reserved++ < 10) {
          issues.push({
            file: source.file,
            line: source.lineOf([...p], true),
            path: formatPath(p),
            message: `"${key}" is a reserved name in JavaScript: objects (and cdk8s, which writes the manifests) do not treat it as an ordinary key; rename it`,
          });
        }
        size += key.length + walk((value as Json)[key]);
        p.pop();
        if (size > MAX_EXPANDED_SIZE) break;
      }
    }
    sizes.set(value, size);
    return size;
  };
  const before = issues.length;
  if (walk(data) > MAX_EXPANDED_SIZE) {
    issues.push({
      file: source.file,
      path: '',
      message: `expands to more than ${mebibytes(MAX_EXPANDED_SIZE)} MiB of data through YAML aliases (*anchor); an anchor may be reused, but not to multiply the file: write the values out or reduce the use of aliases`,
    });
  }
  return issues.length === before;
}

function parseFile(absolute: string, file: string, isDefaults: boolean, issues: ConfigIssue[]): SourceFile | undefined {
  const text = readRegularFile(absolute, file, issues);
  if (text === undefined) return undefined;
  // js-yaml reads a valid file several times faster than the position-keeping parser; the
  // latter runs when the fast one refuses the file (to report the error well) or, lazily, when an
  // issue needs a line number
  let data: unknown;
  let source: SourceFile | undefined;
  try {
    data = loadYaml(text, { schema: CORE_SCHEMA, filename: file });
  } catch {
    const { LineCounter, parseDocument } = positional();
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true, version: '1.2' });
    if (doc.errors.length) {
      for (const error of doc.errors) {
        issues.push({
          file,
          line: error.linePos?.[0].line,
          path: '',
          message: `invalid YAML: ${error.message.split('\n')[0].replace(/:$/, '')}; fix the syntax at that line`,
        });
      }
      return undefined;
    }
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      const message = (error as Error).message;
      // an alias without an anchor before it: at the alias's line, by name
      const unresolved = /^Unresolved alias[^:]*: (\S+)/.exec(message)?.[1];
      const at = unresolved
        ? new RegExp(`\\*${unresolved.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).exec(text)
        : null;
      issues.push(
        unresolved
          ? {
              file,
              line: at ? lines.linePos(at.index).line : undefined,
              path: '',
              message: `*${unresolved} refers to no anchor: an alias needs "&${unresolved}" on a value above it in the same file; add the anchor or write the value out`,
            }
          : { file, path: '', message: `cannot be read: ${message}; reduce the use of YAML aliases (*anchor)` },
      );
      return undefined;
    }
    source = { file, doc, lines, data: data as Json };
  }
  if (data === null || data === undefined) {
    issues.push({
      file,
      path: '',
      message: isDefaults
        ? 'is empty; it must be a mapping with the platform, services and shared settings'
        : 'is empty; an environment file must be a mapping and set at least `tier` (development, staging or production)',
    });
    return undefined;
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    issues.push({
      file,
      line: 1,
      path: '',
      message: `must be a YAML mapping (key: value), got ${Array.isArray(data) ? 'a list' : show(data)}`,
    });
    return undefined;
  }
  source ??= new LazySource(file, text, data as Json);
  const located = source;
  if (!checkData(data, { file, lineOf: (p, key) => lineOf(located, p, key) }, issues)) return undefined;
  const validate = validators().layer;
  if (!validate(data)) {
    const locate = (p: PathSegment[], key = false) => ({
      file,
      line: lineOf(source, p, key),
      prefix: [] as PathSegment[],
    });
    for (const error of relevantErrors(validate.errors ?? []))
      issues.push(describeAjvError(error, data as Json, locate));
    return undefined;
  }
  // no secret in any field of the file (config/secret-rules.ts), each at its line
  const secrets = secretLiteralIssues(file, data, (p, key) => lineOf(source!, p, key));
  if (secrets.length) {
    issues.push(...secrets);
    return undefined;
  }
  if (!isDefaults && data && (data as Json).tier === undefined) {
    issues.push({
      file,
      line: 1,
      path: 'tier',
      message: 'is required in an environment file; allowed: development, staging, production',
    });
  }
  return source;
}

/**
 * Deep-merges `overlay` onto `base`: mappings merge key by key, everything else replaces. Given
 * `origins`, records which file set each path, keyed by the path's segments joined with NUL
 * (`at` is the key of the mapping being merged, undefined at the top).
 */
function mergeLayer(
  base: Json,
  overlay: Json,
  origin: Origin,
  at: string | undefined,
  origins: Map<string, Origin> | undefined,
): Json {
  const out: Json = { ...base };
  for (const key of Object.keys(overlay)) {
    const value = overlay[key];
    const id = origins && (at === undefined ? key : `${at}\u0000${key}`);
    const existing = out[key];
    if (isPlainObject(value) && (isPlainObject(existing) || existing === undefined)) {
      // the first file to introduce a mapping owns it; every key below records its own file
      if (origins && !origins.has(id!)) origins.set(id!, origin);
      out[key] = mergeLayer(existing ?? {}, value, origin, id, origins);
    } else {
      // a replaced subtree belongs to the new file, including everything below it
      if (origins && isPlainObject(existing)) {
        const prefix = `${id}\u0000`;
        for (const k of [...origins.keys()]) if (k.startsWith(prefix)) origins.delete(k);
      }
      origins?.set(id!, origin);
      out[key] = value;
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The file and line that set `p` in a merged target (or its nearest ancestor). */
function locateMerged(
  p: PathSegment[],
  origins: Map<string, Origin>,
  fallback: SourceFile,
): { file: string; line?: number; prefix: PathSegment[] } {
  for (let n = p.length; n >= 0; n--) {
    const origin = origins.get(p.slice(0, n).join('\u0000'));
    if (origin) {
      const inFile = [...origin.prefix, ...p];
      return {
        file: origin.source.file,
        line: lineOf(origin.source, inFile) ?? lineOf(origin.source, [...origin.prefix, ...p.slice(0, n)]),
        prefix: origin.prefix,
      };
    }
  }
  return { file: fallback.file, line: undefined, prefix: [] };
}

/** 1-based line of the value (or of the key, when `key`) at `p`, or of its deepest existing ancestor. */
function lineOf(source: SourceFile, p: PathSegment[], key = false): number | undefined {
  const { isMap, isPair, isScalar } = positional();
  let node: unknown = source.doc.contents;
  let line: number | undefined =
    node && (node as Node).range ? source.lines.linePos((node as Node).range![0]).line : undefined;
  for (let i = 0; i < p.length; i++) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(p[i]),
      );
      if (!pair) return line;
      const keyNode = pair.key as Node;
      if (keyNode?.range) line = source.lines.linePos(keyNode.range[0]).line;
      if (key && i === p.length - 1) return line;
      node = pair.value;
    } else if (
      node &&
      typeof node === 'object' &&
      'items' in node &&
      Array.isArray((node as { items: unknown[] }).items)
    ) {
      node = (node as { items: unknown[] }).items[Number(p[i])];
      if (!node) return line;
    } else {
      return line;
    }
    const range = (node as Node | undefined)?.range;
    if (range && !key) line = source.lines.linePos(range[0]).line;
  }
  return line;
}

function parsePointer(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
}

function valueAt(data: unknown, p: PathSegment[]): unknown {
  return p.reduce<unknown>(
    (acc, seg) => (acc && typeof acc === 'object' ? (acc as Record<string, unknown>)[seg as string] : undefined),
    data,
  );
}

type Locator = (p: PathSegment[], key?: boolean) => { file: string; line?: number; prefix: PathSegment[] };

/** Turns an ajv error into a ConfigIssue naming the file, line, path, value and what is allowed. */
function describeAjvError(error: ErrorObject, data: Json, locate: Locator, target?: string): ConfigIssue {
  const p = parsePointer(error.instancePath);
  const value = valueAt(data, p);
  // a long string is quoted in part: a message is read on a terminal
  const shown = typeof value === 'string' ? excerpt(value) : show(value);
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const allowed = typeof schema.description === 'string' ? schema.description : undefined;
  const inTarget = target ? ` (in target ${target})` : '';
  const at = (segments: PathSegment[], key = false) => {
    const where = locate(segments, key);
    return { file: where.file, line: where.line, path: formatPath([...where.prefix, ...segments]) };
  };
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = String(error.params.additionalProperty);
      if (extra === '<<') {
        return {
          ...at([...p, extra], true),
          message: `"<<" is a YAML merge key, which YAML 1.2 (what these files are read as) does not have: nothing is merged in. Write the keys out here; an alias may still stand for a whole value (key: *anchor)${inTarget}`,
        };
      }
      const known = Object.keys((schema.properties as Record<string, unknown>) ?? {});
      const misplaced = indentationHint(target ? schemaModule().targetSchema : layerSchemaOnce(), data, p, extra);
      const suggestion = misplaced ? undefined : nearest(extra, known);
      const hint = misplaced ? `${misplaced}; ` : suggestion ? `did you mean "${suggestion}"? ` : '';
      return {
        ...at([...p, extra], true),
        message: `unknown key "${extra}"; ${hint}allowed keys here: ${known.join(', ')}${inTarget}`,
      };
    }
    case 'required': {
      const missing = String(error.params.missingProperty);
      // a service no file declares in full is often a misspelt override of one that is declared
      const services = p.length === 2 && p[0] === 'services' ? Object.keys((data.services as Json) ?? {}) : [];
      const meant = services.length
        ? nearest(
            String(p[1]),
            services.filter((s) => s !== p[1]),
          )
        : undefined;
      const hint = meant ? `; if "${p[1]}" means the service "${meant}", correct the name, else` : ';';
      return {
        ...at(p),
        path: formatPath([...locate(p).prefix, ...p, missing]),
        message: `is required but no file sets it${hint} add "${missing}" here or in defaults.yaml${inTarget}`,
      };
    }
    case 'enum': {
      const values = (error.params.allowedValues as unknown[]).map(String);
      const suggestion = typeof value === 'string' ? nearest(value, values) : undefined;
      const tierHint =
        p.length === 1 && p[0] === 'tier' && typeof value === 'string'
          ? `; the tier is the set of policies that apply, not the environment's name (an environment "${value}" can have tier: staging)`
          : '';
      return {
        ...at(p),
        message: `${show(value)} is not allowed; ${suggestion ? `did you mean "${suggestion}"? ` : ''}allowed: ${values.map((v) => show(v)).join(', ')}${tierHint}${inTarget}`,
      };
    }
    case 'pattern': {
      const { patterns } = schemaModule();
      const kind =
        error.params.pattern === patterns.memory
          ? 'memory'
          : error.params.pattern === patterns.cpu
            ? 'cpu'
            : error.params.pattern === patterns.duration
              ? 'duration'
              : undefined;
      const expected = allowed ?? `a value matching ${error.params.pattern}`;
      if (value === '') return { ...at(p), message: `is empty; expected ${expected}${inTarget}` };
      if (error.params.pattern === patterns.goDuration && typeof value === 'string') {
        // a Prometheus-style duration where a Go one is read (Velero's ttl): the same time in hours
        const go = goDurationFor(suggestQuantity('duration', value) ?? value);
        if (go)
          return { ...at(p), message: `${show(value)} is not a Go duration; write "${go}" (${expected})${inTarget}` };
      }
      const suggestion = kind
        ? suggestQuantity(kind, value)
        : error.params.pattern === patterns.envName
          ? suggestEnvName(value)
          : undefined;
      return {
        ...at(p),
        message: `${show(value)} is not valid; ${suggestion ? `did you mean "${suggestion}"? ` : ''}expected ${expected}${inTarget}`,
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        ...at(p),
        message: `${shown} is out of range: must be ${error.params.comparison} ${error.params.limit}${allowed ? ` (${allowed})` : ''}${inTarget}`,
      };
    case 'type':
      return {
        ...at(p),
        message: `${shown} has the wrong type: expected ${error.params.type}${allowed ? ` (${allowed})` : ''}${inTarget}`,
      };
    case 'oneOf': {
      const described = typeof (error.schema as unknown) === 'object' ? undefined : undefined;
      return {
        ...at(p),
        message: `${shown} is not valid; expected ${allowed ?? described ?? 'one of the documented forms'}${inTarget}`,
      };
    }
    case 'maxLength':
      return {
        ...at(p),
        message: `${shown} is too long: ${typeof value === 'string' ? value.length : '?'} characters, at most ${error.params.limit} allowed${allowed ? ` (${allowed})` : ''}${inTarget}`,
      };
    case 'minLength':
      return {
        ...at(p),
        message: `${shown} has the wrong length: must have ${error.message?.replace(/^must /, '')}${allowed ? ` (${allowed})` : ''}${inTarget}`,
      };
    case 'propertyNames': {
      const rule = (schema.propertyNames ?? {}) as Record<string, unknown>;
      const names = rule.description ?? 'DNS-1123 labels (lower-case letters, digits and "-", at most 63 characters)';
      const name = String(error.params.propertyName);
      const suggestion = rule.pattern === schemaModule().patterns.envName ? suggestEnvName(name) : undefined;
      return {
        ...at([...p, name], true),
        message: `contains the invalid name ${show(name)}; ${suggestion ? `did you mean "${suggestion}"? ` : ''}names must be ${names}${inTarget}`,
      };
    }
    default:
      return {
        ...at(p),
        message: `${shown} is not valid: ${error.message ?? error.keyword}${allowed ? ` (${allowed})` : ''}${inTarget}`,
      };
  }
}

let layerSchemaCache: Record<string, unknown> | undefined;
const layerSchemaOnce = () => (layerSchemaCache ??= schemaModule().layerSchema());

type SchemaNode = Obj;

/** The object schemas a value at `p` may have (following $ref, oneOf, anyOf, allOf and if/then). */
function schemasAt(root: SchemaNode, p: readonly PathSegment[]): SchemaNode[] {
  const resolve = (s: SchemaNode | undefined): SchemaNode[] => {
    if (!s || typeof s !== 'object') return [];
    if (typeof s.$ref === 'string') {
      const name = s.$ref.replace(/^#\/definitions\//, '');
      return resolve(root.definitions?.[name]);
    }
    const branches = [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? []), ...(s.then ? [s.then] : [])].flatMap(
      resolve,
    );
    return [s, ...branches];
  };
  let current = resolve(root);
  for (const seg of p) {
    current = current.flatMap((s) => {
      if (typeof seg === 'number') return resolve(s.items);
      if (s.properties?.[seg]) return resolve(s.properties[seg]);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') return resolve(s.additionalProperties);
      return [];
    });
  }
  return current;
}

const keysOf = (schemas: SchemaNode[]) => new Set(schemas.flatMap((s) => Object.keys(s.properties ?? {})));

/**
 * When an unknown key `extra` at `p` would be valid one level deeper or shallower, the likely
 * indentation mistake, said plainly: a key that belongs under the key above it (under-indented),
 * one level up (over-indented), or a block of settings written where a name is expected
 * (`services.replicas.min`: `replicas:` belongs under a service).
 */
function indentationHint(root: SchemaNode, data: Json, p: PathSegment[], extra: string): string | undefined {
  const here = valueAt(data, p);
  const siblings = here && typeof here === 'object' ? Object.keys(here as Json) : [];
  const above = siblings[siblings.indexOf(extra) - 1];
  // under-indented: a key of the key right above it
  if (above !== undefined && keysOf(schemasAt(root, [...p, above])).has(extra)) {
    return `"${extra}" is a key of "${above}", the key above it: indent it under ${above}`;
  }
  if (p.length >= 1) {
    const parentKey = p[p.length - 1];
    const grand = p.slice(0, -1);
    // a block of settings where a name is expected: services.replicas.min
    const itemSchemas = schemasAt(root, grand).flatMap((s) =>
      s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties?.[parentKey]
        ? schemasAt(root, [...grand, String(parentKey)])
        : [],
    );
    if (
      typeof parentKey === 'string' &&
      itemSchemas.length &&
      keysOf(itemSchemas).has(parentKey) &&
      keysOf(schemasAt(root, [...p, parentKey])).has(extra)
    ) {
      const container = grand.length ? formatPath(grand) : 'the top level';
      const names = Object.keys((valueAt(data, grand) ?? {}) as Json);
      const previous = names[names.indexOf(parentKey) - 1];
      return `"${parentKey}" is a setting of each entry of ${container}, not a name, so its block looks under-indented: indent "${parentKey}:" and its keys under ${previous ? `"${previous}" (the entry above it)` : 'the entry it belongs to'}`;
    }
    // over-indented: a key of the mapping one level up
    if (keysOf(schemasAt(root, grand)).has(extra)) {
      return `"${extra}" is a key of ${grand.length ? formatPath(grand) : 'the top level'}, one level up: it looks indented one level too deep`;
    }
  }
  // under-indented: a key of one of the entries of this mapping (the first that has it)
  const owner = siblings.find((k) => k !== extra && keysOf(schemasAt(root, [...p, k])).has(extra));
  if (owner) return `"${extra}" is a key of "${owner}": indent it under ${owner}`;
  return undefined;
}

/**
 * Drops the errors of the individual branches of a oneOf/if-then when the combinator itself
 * failed at the same path: one message per value, saying which forms are allowed.
 */
function relevantErrors(all: ErrorObject[]): ErrorObject[] {
  const errors = meantBranchErrors(all);
  const combinators = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  return (
    errors
      // a bad map key is reported once, by its propertyNames error, not again by the rule it broke
      .filter((e) => e.propertyName === undefined || e.keyword === 'propertyNames')
      .filter((e) =>
        e.keyword === 'oneOf' || e.keyword === 'if'
          ? e.keyword === 'oneOf'
          : !combinators.has(e.instancePath) || e.keyword === 'additionalProperties',
      )
  );
}

/**
 * A oneOf over objects told apart by their required keys (a dependency is `{service, port}` or
 * `{external, ports}`): the value holding one form's required keys more completely than any other's
 * means that form, so only that form's errors are reported (a bad port, not "unknown key service" from the other
 * form), and not the oneOf's own "expected one of the forms". Errors of a form met through a $ref
 * do not carry the oneOf's schema path and are kept.
 */
function meantBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const meant: Array<{ at: string; branches: string; kept: string; own: ErrorObject }> = [];
  for (const e of errors) {
    if (e.keyword !== 'oneOf' || !Array.isArray(e.schema) || !e.data || typeof e.data !== 'object') continue;
    const has = (key: unknown) => typeof key === 'string' && Object.prototype.hasOwnProperty.call(e.data, key);
    // the form whose required keys are the most completely present (then the most of them), when one leads
    const forms = (e.schema as Array<{ required?: unknown[] }>)
      .map((branch, i) => {
        const required = branch.required ?? [];
        const present = required.filter(has).length;
        return { i, present, share: required.length ? present / required.length : 0 };
      })
      .sort((a, b) => b.share - a.share || b.present - a.present);
    const [first, second] = forms;
    if (first && first.present > 0 && (!second || second.share < first.share || second.present < first.present)) {
      meant.push({ at: e.instancePath, branches: `${e.schemaPath}/`, kept: `${e.schemaPath}/${forms[0].i}/`, own: e });
    }
  }
  if (meant.length === 0) return errors;
  const inside = (e: ErrorObject, m: (typeof meant)[number]) =>
    (e.instancePath === m.at || e.instancePath.startsWith(`${m.at}/`)) && e.schemaPath.startsWith(m.branches);
  const kept = errors.filter((e) => !meant.some((m) => inside(e, m) && !e.schemaPath.startsWith(m.kept)));
  // the oneOf's own message goes when its meant form says what is wrong
  return kept.filter((e) => !meant.some((m) => m.own === e && kept.some((k) => k !== e && inside(k, m))));
}

/** One issue per file, line, path and message; the targets it was found in are listed together. */
function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const merged = new Map<string, { issue: ConfigIssue; targets: string[] }>();
  for (const issue of issues) {
    const match = / \(in target ([^)]*)\)$/.exec(issue.message);
    const message = match ? issue.message.slice(0, match.index) : issue.message;
    const key = `${issue.file}|${issue.line}|${issue.path}|${message}`;
    const entry = merged.get(key) ?? { issue: { ...issue, message }, targets: [] };
    if (match) entry.targets.push(match[1]);
    merged.set(key, entry);
  }
  return [...merged.values()].map(({ issue, targets }) =>
    targets.length
      ? {
          ...issue,
          message: `${issue.message} (in target${targets.length > 1 ? 's' : ''} ${[...targets].sort().join(', ')})`,
        }
      : issue,
  );
}

interface TargetIdentity {
  target: string;
  environment: string;
  region?: string;
  sources: string[];
}

/** Fills in documented defaults and the names carried by map keys. */
function toTargetConfig(merged: Json, id: TargetIdentity): TargetConfig {
  const m = merged as Obj;
  const services = Object.fromEntries(
    Object.entries((m.services ?? {}) as Record<string, Json>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, s]) => [
        name,
        {
          workload: 'deployment',
          expose: 'cluster',
          dependsOn: [],
          api: [],
          secrets: [],
          ...s,
          name,
        },
      ]),
  );
  const externals = Object.fromEntries(
    Object.entries((m.externals ?? {}) as Record<string, Json>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, e]) => [name, { ...e, name }]),
  );
  const featureFlags = Object.fromEntries(
    Object.entries((m.featureFlags ?? {}) as Record<string, Json>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, f]) => [name, { ...f, name }]),
  );
  const priorityClasses = Object.fromEntries(
    Object.entries((m.priorityClasses ?? {}) as Record<string, Json>).sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    ...(m as object),
    ...id,
    requestScale: m.requestScale ?? 1,
    backups: m.backups ?? [],
    priorityClasses,
    featureFlags,
    externals,
    services,
  } as unknown as TargetConfig;
}
