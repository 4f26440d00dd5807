/**
 * Part of the build: compiles the configuration schemas into standalone ajv validation code
 * (build/config/validators.generated.js), so that synth does not spend a quarter of a second
 * compiling them on every run. config/load.ts falls back to compiling at run time when the file
 * is missing or was generated from another version of the schema.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { AJV_OPTIONS, GENERATED_VALIDATORS, schemaHash } from '../config/load';
import { layerSchema, targetSchema } from '../config/schema';

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const layer = layerSchema();
ajv.addSchema(layer);
ajv.addSchema(targetSchema);
const code = standaloneCode(ajv, { layer: layer.$id as string, target: targetSchema.$id as string });
const file = path.join(__dirname, '..', 'config', GENERATED_VALIDATORS);
fs.writeFileSync(file, `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash())};\n`);
