/** `npm run schemas`: writes the JSON Schemas of the wire contracts (contracts/json-schemas.ts) to docs/schemas/. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSchemas } from '../contracts/json-schemas.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../docs/schemas/', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, text] of Object.entries(renderSchemas())) {
    writeFileSync(join(SCHEMA_DIR, name), text);
    console.log(`wrote docs/schemas/${name}`);
  }
}
