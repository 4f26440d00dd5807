/**
 * Part of the build: compiles the configuration schemas into standalone ajv validation code
 * (build/config/validators.generated.js), so that synth does not spend a quarter of a second
 * compiling them on every run. Does nothing when the file was generated from the current schema
 * (`--force` regenerates it anyway). config/load.ts falls back to compiling at run time when the
 * file is missing or was generated from another version of the schema.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  AJV_OPTIONS,
  GENERATED_VALIDATORS,
  isCurrent,
  recordedStamp,
  schemaHash,
  schemaSources,
  stampLines,
} from '../config/compiled-validators';
import { layerSchema, targetSchema } from '../config/schema';

const file = path.join(__dirname, '..', 'config', GENERATED_VALIDATORS);
const recorded = fs.existsSync(file) ? recordedStamp(fs.readFileSync(file, 'utf8')) : undefined;
const sources = schemaSources();
const current = isCurrent(recorded) && JSON.stringify(recorded?.schemaSources) === JSON.stringify(sources);
if (current && !process.argv.includes('--force')) {
  // up to date: marked as checked, so that the build compares modification times only next time
  const now = new Date();
  fs.utimesSync(file, now, now);
} else {
  // ajv only when there is something to compile: an up-to-date build stays cheap
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when there is something to compile */
  const Ajv = require('ajv').default as typeof import('ajv').default;
  const standaloneCode = require('ajv/dist/standalone').default as typeof import('ajv/dist/standalone').default;
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
  const layer = layerSchema();
  ajv.addSchema(layer);
  ajv.addSchema(targetSchema);
  const code = standaloneCode(ajv, { layer: layer.$id as string, target: targetSchema.$id as string });
  fs.writeFileSync(file, `${code}\n${stampLines({ schemaSources: sources, schemaHash: schemaHash(sources) })}`);
}
