/**
 * What the configuration's validators are compiled with, and how a compiled file is matched to
 * the schema it came from. Kept apart from the loader and free of the schema itself: a synth
 * checks that the compiled validators are current by hashing the few built files the schema is
 * made of, without loading TypeBox to rebuild the schema (about a tenth of a second per process).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The options every validator of environments/ is compiled with. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true } as const;
/** Standalone validators written next to this file by the build (bin/compile-validators.ts). */
export const GENERATED_VALIDATORS = 'validators.generated.js';

/** The folder the schema's sources are named relative to: the build's root (build/). */
const ROOT = path.resolve(__dirname, '..');

/**
 * The project files the schema module is made of: config/schema.js and every project module it
 * loads (core/reason.js, core/k8s-names.js, ...), relative to the build's root and sorted. A
 * change to any of them may change the schema; TypeBox itself is pinned by package-lock.json.
 */
export function schemaSources(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only to find its files
  require('./schema');
  const found = new Set<string>();
  const visit = (module: NodeJS.Module | undefined) => {
    if (!module || found.has(module.filename) || module.filename.includes(`${path.sep}node_modules${path.sep}`)) return;
    found.add(module.filename);
    module.children.forEach(visit);
  };
  visit(require.cache[require.resolve('./schema')]);
  return [...found].map((f) => path.relative(ROOT, f).split(path.sep).join('/')).sort();
}

/** Identifies the schema by the text of the files it is made of (`schemaSources`). */
export function schemaHash(sources: readonly string[] = schemaSources()): string {
  const hash = createHash('sha256');
  for (const source of sources) {
    hash.update(`${source}\0`);
    hash.update(fs.readFileSync(path.join(ROOT, source)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** What a generated validator file records of the schema it was compiled from. */
export interface SchemaStamp {
  readonly schemaSources: readonly string[];
  readonly schemaHash: string;
}

/** The lines a generated validator file ends with, recording its schema. */
export function stampLines(stamp: SchemaStamp): string {
  return (
    `module.exports.schemaSources = ${JSON.stringify(stamp.schemaSources)};\n` +
    `module.exports.schemaHash = ${JSON.stringify(stamp.schemaHash)};\n`
  );
}

/** The schema stamp a generated validator file records, or undefined when it records none. */
export function recordedStamp(code: string): SchemaStamp | undefined {
  const sources = /module\.exports\.schemaSources = (\[[^\n]*\]);\n/.exec(code)?.[1];
  const hash = /module\.exports\.schemaHash = "([0-9a-f]+)";\s*$/.exec(code)?.[1];
  return sources && hash ? { schemaSources: JSON.parse(sources) as string[], schemaHash: hash } : undefined;
}

/** Whether a stamp still matches the files it names (false when one of them is gone). */
export function isCurrent(stamp: Partial<SchemaStamp> | undefined): boolean {
  if (!stamp?.schemaSources || !stamp.schemaHash) return false;
  try {
    return schemaHash(stamp.schemaSources) === stamp.schemaHash;
  } catch {
    return false;
  }
}
