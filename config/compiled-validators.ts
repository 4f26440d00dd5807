/**
 * What the configuration's validators are compiled with, and how a compiled file is matched to
 * the schema it came from. Kept apart from the loader (it needs only the schema), so that the
 * build can tell cheaply whether build/config/validators.generated.js is up to date.
 */
import { createHash } from 'crypto';
import { layerSchema, targetSchema } from './schema';

/** The options every validator of environments/ is compiled with. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true } as const;
/** Standalone validators written next to this file by the build (bin/compile-validators.ts). */
export const GENERATED_VALIDATORS = 'validators.generated.js';

/** Identifies the schemas a generated validator file was compiled from. */
export function schemaHash(): string {
  return createHash('sha256')
    .update(JSON.stringify([layerSchema(), targetSchema]))
    .digest('hex')
    .slice(0, 16);
}

/** The schema hash a generated validator file records, or undefined when it records none. */
export function recordedSchemaHash(code: string): string | undefined {
  return /module\.exports\.schemaHash = "([0-9a-f]+)";\s*$/.exec(code)?.[1];
}
