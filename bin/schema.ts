/**
 * npm run schema: writes environments/schema.json, the JSON Schema editors use for the files
 * in environments/ (`# yaml-language-server: $schema=./schema.json`). A test fails when it is stale.
 */
import * as fs from 'fs';
import { layerSchema } from '../config/schema';

export function renderSchema(): string {
  return `${JSON.stringify(layerSchema(), null, 2)}\n`;
}

if (require.main === module) {
  const file = process.argv[2] ?? 'environments/schema.json';
  fs.writeFileSync(file, renderSchema());
  console.log(`wrote ${file}`);
}
